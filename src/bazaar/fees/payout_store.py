"""Payout runs as stored: the batch, its items, what it held, the balances it carried.

* ``payout_runs``: one per run period (unique), proposed then confirmed. ``carried_in``
  is the carried balances the plan started from; a confirmation checks they are unchanged.
* ``payout_items``: one payout to one seller; its ``idempotency_key`` is unique and is the
  payout's reference in the ledger and at the bank.
* ``payout_held`` / ``payout_carried``: the plan's held funds and carried-forward balances.

What confirmed runs settled, and the balances they carried, are in
:mod:`bazaar.fees.settlement_store`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.fees.payouts import (
    BatchStatus,
    CarriedBalance,
    HeldFunds,
    HoldReason,
    PayoutBatch,
    PayoutItem,
    PayoutStatus,
)
from bazaar.infra.db import IdColumn, Json, UtcDateTime, metadata
from bazaar.kernel.money import Money

runs = sa.Table(
    "payout_runs",
    metadata,
    IdColumn(),
    sa.Column("period", sa.Date, nullable=False, unique=True),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("carried_in", Json, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("confirmed_at", UtcDateTime(), nullable=True),
    sa.CheckConstraint("status IN ('proposed', 'confirmed')", name="status_known"),
)

items = sa.Table(
    "payout_items",
    metadata,
    IdColumn(),
    sa.Column("run_id", sa.String(40), sa.ForeignKey("payout_runs.id"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("seller_id", sa.String(40), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("carried_in", sa.BigInteger, nullable=False),
    sa.Column("idempotency_key", sa.String(64), nullable=False, unique=True),
    sa.Column("covered", Json, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("bank_reference", sa.String(120), nullable=True),
    sa.Column("failure_reason", sa.String(200), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("amount > 0 AND carried_in <= 0", name="amounts_valid"),
    sa.CheckConstraint(
        "status IN ('proposed', 'confirmed', 'paid', 'failed')", name="status_known"
    ),
    sa.Index(None, "run_id", "position"),
    sa.Index(None, "seller_id", "id"),
)

held = sa.Table(
    "payout_held",
    metadata,
    sa.Column("run_id", sa.String(40), sa.ForeignKey("payout_runs.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("seller_id", sa.String(40), nullable=False),
    sa.Column("reason", sa.String(24), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("transaction_ids", Json, nullable=False),
    sa.Column("available_on", sa.Date, nullable=True),
)

carried = sa.Table(
    "payout_carried",
    metadata,
    sa.Column("run_id", sa.String(40), sa.ForeignKey("payout_runs.id"), primary_key=True),
    sa.Column("seller_id", sa.String(40), primary_key=True),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("settled", Json, nullable=False),
    sa.CheckConstraint("amount <= 0", name="not_positive"),
)


@dataclass(frozen=True)
class RunRecord:
    """A stored run: the batch plus what only persistence knows (ids, period, times)."""

    batch: PayoutBatch
    period: date
    carried_in: dict[str, Money]
    item_ids: dict[str, str]  # idempotency key -> payout id
    created_at: datetime
    confirmed_at: datetime | None

    @property
    def id(self) -> str:
        return self.batch.run_id

    def item_id(self, item: PayoutItem) -> str:
        return self.item_ids[item.idempotency_key]


@dataclass(frozen=True)
class PayoutRecord:
    """One stored payout and the run it belongs to."""

    id: str
    run_id: str
    item: PayoutItem
    created_at: datetime
    updated_at: datetime


# --- runs ------------------------------------------------------------------------------------


def run_id_for_period(conn: Connection, period: date) -> str | None:
    row = conn.execute(sa.select(runs.c.id).where(runs.c.period == period)).first()
    return row[0] if row else None


def save_plan(
    conn: Connection,
    batch: PayoutBatch,
    *,
    period: date,
    carried_in: Mapping[str, Money],
    item_ids: Sequence[str],
    now: datetime,
    replace: bool,
) -> bool:
    """Write a proposed run (``replace``: over the proposed run with the same id); False,
    writing nothing, when the run to replace is no longer proposed."""
    head = {
        "as_of": batch.as_of,
        "currency": batch.currency,
        "status": BatchStatus.PROPOSED.value,
        "carried_in": {seller: m.amount for seller, m in sorted(carried_in.items())},
        "updated_at": now,
    }
    if replace:
        # The run's row first (compare-and-set): a confirmation holding it wins the race.
        updated = conn.execute(
            runs.update()
            .where(runs.c.id == batch.run_id, runs.c.status == BatchStatus.PROPOSED.value)
            .values(**head)
        )
        if updated.rowcount != 1:
            return False
        for table in (items, held, carried):
            conn.execute(table.delete().where(table.c.run_id == batch.run_id))
    else:
        conn.execute(runs.insert().values(id=batch.run_id, period=period, created_at=now, **head))
    if batch.items:
        conn.execute(
            items.insert(),
            [
                {
                    "id": item_id,
                    "run_id": batch.run_id,
                    "position": position,
                    "seller_id": item.seller_id,
                    "amount": item.amount.amount,
                    "currency": item.amount.currency,
                    "carried_in": item.carried_in.amount,
                    "idempotency_key": item.idempotency_key,
                    "covered": list(item.covered_transaction_ids),
                    "status": item.status.value,
                    "created_at": now,
                    "updated_at": now,
                }
                for position, (item_id, item) in enumerate(zip(item_ids, batch.items, strict=True))
            ],
        )
    if batch.held:
        conn.execute(
            held.insert(),
            [
                {
                    "run_id": batch.run_id,
                    "position": position,
                    "seller_id": h.seller_id,
                    "reason": h.reason.value,
                    "amount": h.amount.amount,
                    "currency": h.amount.currency,
                    "transaction_ids": list(h.transaction_ids),
                    "available_on": h.available_on,
                }
                for position, h in enumerate(batch.held)
            ],
        )
    if batch.carried_forward:
        conn.execute(
            carried.insert(),
            [
                {
                    "run_id": batch.run_id,
                    "seller_id": c.seller_id,
                    "amount": c.amount.amount,
                    "currency": c.amount.currency,
                    "settled": list(c.settled_transaction_ids),
                }
                for c in batch.carried_forward
            ],
        )
    return True


def _item(row: Any) -> PayoutItem:
    return PayoutItem(
        seller_id=row.seller_id,
        amount=Money(row.amount, row.currency),
        covered_transaction_ids=tuple(row.covered),
        carried_in=Money(row.carried_in, row.currency),
        idempotency_key=row.idempotency_key,
        status=PayoutStatus(row.status),
        bank_reference=row.bank_reference,
        failure_reason=row.failure_reason,
    )


def get_run(conn: Connection, run_id: str) -> RunRecord | None:
    head = conn.execute(sa.select(runs).where(runs.c.id == run_id)).first()
    if head is None:
        return None
    item_rows = conn.execute(
        sa.select(items).where(items.c.run_id == run_id).order_by(items.c.position)
    ).all()
    held_rows = conn.execute(
        sa.select(held).where(held.c.run_id == run_id).order_by(held.c.position)
    ).all()
    carried_rows = conn.execute(
        sa.select(carried).where(carried.c.run_id == run_id).order_by(carried.c.seller_id)
    ).all()
    batch = PayoutBatch(
        run_id=head.id,
        as_of=head.as_of,
        currency=head.currency,
        items=tuple(_item(row) for row in item_rows),
        held=tuple(
            HeldFunds(
                row.seller_id,
                HoldReason(row.reason),
                Money(row.amount, row.currency),
                tuple(row.transaction_ids),
                row.available_on,
            )
            for row in held_rows
        ),
        carried_forward=tuple(
            CarriedBalance(row.seller_id, Money(row.amount, row.currency), tuple(row.settled))
            for row in carried_rows
        ),
        status=BatchStatus(head.status),
    )
    return RunRecord(
        batch=batch,
        period=head.period,
        carried_in={s: Money(a, head.currency) for s, a in head.carried_in.items()},
        item_ids={row.idempotency_key: row.id for row in item_rows},
        created_at=head.created_at,
        confirmed_at=head.confirmed_at,
    )


def mark_run_confirmed(conn: Connection, run_id: str, now: datetime) -> bool:
    """Compare-and-set proposed -> confirmed; False when another request confirmed first."""
    result = conn.execute(
        runs.update()
        .where(runs.c.id == run_id, runs.c.status == BatchStatus.PROPOSED.value)
        .values(status=BatchStatus.CONFIRMED.value, confirmed_at=now, updated_at=now)
    )
    return result.rowcount == 1


# --- payouts ---------------------------------------------------------------------------------


def _record(row: Any) -> PayoutRecord:
    return PayoutRecord(row.id, row.run_id, _item(row), row.created_at, row.updated_at)


def get_payout(conn: Connection, payout_id: str) -> PayoutRecord | None:
    row = conn.execute(sa.select(items).where(items.c.id == payout_id)).first()
    return _record(row) if row else None


def payouts_of_seller(
    conn: Connection, seller_id: str, *, after_id: str | None, limit: int
) -> list[PayoutRecord]:
    """A seller's confirmed (or later) payouts, newest first."""
    query = (
        sa.select(items)
        .where(items.c.seller_id == seller_id, items.c.status != PayoutStatus.PROPOSED.value)
        .order_by(items.c.id.desc())
        .limit(limit)
    )
    if after_id is not None:
        query = query.where(items.c.id < after_id)
    return [_record(row) for row in conn.execute(query)]


def update_payout(
    conn: Connection, payout_id: str, before: PayoutItem, after: PayoutItem, now: datetime
) -> bool:
    """Write ``after`` if the payout is still in ``before``'s status (compare-and-set)."""
    result = conn.execute(
        items.update()
        .where(items.c.id == payout_id, items.c.status == before.status.value)
        .values(
            status=after.status.value,
            bank_reference=after.bank_reference,
            failure_reason=after.failure_reason,
            updated_at=now,
        )
    )
    return result.rowcount == 1
