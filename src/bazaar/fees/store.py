"""The ledger as stored: transactions and their entries, plus what postings need to remember.

* ``ledger_transactions`` / ``ledger_entries``: append-only. A transaction is written once
  with all its entries; nothing is updated or deleted afterwards (a correction is a new,
  reversing transaction). ``dedupe_key`` makes posting idempotent: it is ``<kind>:<reference>``
  for the kinds whose business reference happens once (an order paid, a refund, a payout...),
  ``reversal:<original id>`` for a reversal (nothing is reversed twice) and empty for manual
  adjustments. An at-least-once handler that posts twice inserts nothing the second time.
* ``ledger_refund_items``: which units of which order lines (and which shipping charges) each
  refund or cancellation gave back, so the next refund of the order knows where it starts.
* ``seller_deliveries``: the day each seller's part of an order was delivered or ended,
  from which payout runs count the hold period.
* ``fee_schedules``: every fee schedule an operator saved; the newest is in force.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from bazaar.fees.ledger import (
    SELLER_PAYABLE_PREFIX,
    Account,
    AccountKind,
    Entry,
    Purpose,
    Side,
    Transaction,
    TransactionKind,
)
from bazaar.infra.db import IdColumn, Json, UtcDateTime, metadata
from bazaar.kernel.money import Money

transactions = sa.Table(
    "ledger_transactions",
    metadata,
    IdColumn(),
    sa.Column("kind", sa.String(24), nullable=False),
    sa.Column("reference", sa.String(120), nullable=False),
    sa.Column("posted_at", UtcDateTime(), nullable=False),
    sa.Column("original_id", sa.String(40), nullable=True),
    sa.Column("dedupe_key", sa.String(160), nullable=True, unique=True),
    sa.Column("recorded_at", UtcDateTime(), nullable=False),
    sa.Index(None, "kind", "reference"),
    sa.Index(None, "original_id"),
    sa.Index(None, "posted_at"),
)

entries = sa.Table(
    "ledger_entries",
    metadata,
    sa.Column(
        "transaction_id",
        sa.String(40),
        sa.ForeignKey("ledger_transactions.id"),
        primary_key=True,
    ),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("account", sa.String(80), nullable=False),
    sa.Column("account_kind", sa.String(12), nullable=False),
    sa.Column("side", sa.String(6), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("purpose", sa.String(16), nullable=False),
    sa.Column("item", sa.String(120), nullable=False),
    sa.CheckConstraint("side IN ('debit', 'credit')", name="side_known"),
    sa.Index(None, "account", "transaction_id"),
)

refund_items = sa.Table(
    "ledger_refund_items",
    metadata,
    sa.Column(
        "transaction_id",
        sa.String(40),
        sa.ForeignKey("ledger_transactions.id"),
        primary_key=True,
    ),
    sa.Column("item", sa.String(120), primary_key=True),  # a line id or shipping:<fulfiller>
    sa.Column("units", sa.Integer, nullable=False),
    sa.CheckConstraint("units > 0", name="units_positive"),
)

deliveries = sa.Table(
    "seller_deliveries",
    metadata,
    sa.Column("order_id", sa.String(40), primary_key=True),
    sa.Column("seller_id", sa.String(40), primary_key=True),
    sa.Column("delivered_on", sa.Date, nullable=False),
    sa.Column("recorded_at", UtcDateTime(), nullable=False),
)

fee_schedules = sa.Table(
    "fee_schedules",
    metadata,
    IdColumn(),
    sa.Column("schedule", Json, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("created_by", sa.String(40), nullable=True),
)

REFUND_KINDS = (TransactionKind.REFUND.value, TransactionKind.CANCELLATION.value)


def _insert_once(table: sa.Table, returning: sa.Column[Any]) -> dict[str, Any]:
    # ON CONFLICT is spelled the same on both engines, but SQLAlchemy builds it per dialect;
    # whether a row went in is read from RETURNING (psycopg reports no INSERT rowcount).
    return {
        name: dialect.insert(table).on_conflict_do_nothing().returning(returning)
        for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
    }


# The statements every posting and every paid order run, built once per process: building
# and cache-keying a statement per call cost more CPU than executing it.
_INSERT_TRANSACTION = _insert_once(transactions, transactions.c.id)
_INSERT_DELIVERY = _insert_once(deliveries, deliveries.c.order_id)
_INSERT_ENTRIES = entries.insert()
_INSERT_REFUND_ITEMS = refund_items.insert()
_KEY_EXISTS = sa.select(transactions.c.id).where(transactions.c.dedupe_key == sa.bindparam("key"))
_LATEST_FEE_SCHEDULE = (
    sa.select(fee_schedules.c.id, fee_schedules.c.schedule, fee_schedules.c.created_at)
    .order_by(fee_schedules.c.id.desc())
    .limit(1)
)


def dedupe_key(kind: TransactionKind, reference: str, original_id: str | None = None) -> str | None:
    """The key that makes posting ``kind`` for ``reference`` happen at most once."""
    if kind is TransactionKind.REVERSAL:
        return f"reversal:{original_id}"
    if kind is TransactionKind.ADJUSTMENT:
        return None
    return f"{kind.value}:{reference}"


# --- writing ---------------------------------------------------------------------------------


def insert_transaction(
    conn: Connection,
    t: Transaction,
    now: datetime,
    *,
    refunded: Mapping[str, int] | None = None,
) -> bool:
    """Write ``t`` with its entries (and the units a refund gave back); False, writing
    nothing, when a transaction with the same dedupe key is already stored."""
    key = dedupe_key(t.kind, t.reference, t.original_id)
    inserted = conn.execute(
        _INSERT_TRANSACTION[conn.dialect.name],
        {
            "id": t.id,
            "kind": t.kind.value,
            "reference": t.reference,
            "posted_at": t.posted_at,
            "original_id": t.original_id,
            "dedupe_key": key,
            "recorded_at": now,
        },
    ).first()
    if inserted is None:
        return False
    if t.entries:
        conn.execute(
            _INSERT_ENTRIES,
            [
                {
                    "transaction_id": t.id,
                    "position": position,
                    "account": e.account.code,
                    "account_kind": e.account.kind.value,
                    "side": e.side.value,
                    "amount": e.amount.amount,
                    "currency": e.amount.currency,
                    "purpose": e.purpose.value,
                    "item": e.item,
                }
                for position, e in enumerate(t.entries)
            ],
        )
    if refunded:
        conn.execute(
            _INSERT_REFUND_ITEMS,
            [{"transaction_id": t.id, "item": item, "units": n} for item, n in refunded.items()],
        )
    return True


def record_delivery(
    conn: Connection, order_id: str, seller_id: str, on: date, now: datetime
) -> bool:
    """Remember the day ``seller_id``'s part of ``order_id`` ended; the first day wins."""
    inserted = conn.execute(
        _INSERT_DELIVERY[conn.dialect.name],
        {"order_id": order_id, "seller_id": seller_id, "delivered_on": on, "recorded_at": now},
    ).first()
    return inserted is not None


def insert_fee_schedule(
    conn: Connection, schedule_id: str, data: Mapping[str, Any], actor_id: str | None, now: datetime
) -> None:
    conn.execute(
        fee_schedules.insert(),
        {"id": schedule_id, "schedule": dict(data), "created_at": now, "created_by": actor_id},
    )


# --- reading ---------------------------------------------------------------------------------


def latest_fee_schedule(conn: Connection) -> tuple[str, dict[str, Any], datetime] | None:
    """(id, schedule, saved at) of the newest saved schedule (ids sort by creation)."""
    row = conn.execute(_LATEST_FEE_SCHEDULE).first()
    return (row.id, dict(row.schedule), row.created_at) if row else None


def _restore(heads: Sequence[Any], rows: Iterable[Any]) -> list[Transaction]:
    by_id: dict[str, list[Entry]] = {head.id: [] for head in heads}
    for row in rows:
        # Entry() would refuse an amount of zero or less; a stored row with one is
        # corruption for check_ledger to report, so build it without the check.
        entry = object.__new__(Entry)
        values = {
            "account": Account(row.account, AccountKind(row.account_kind)),
            "side": Side(row.side),
            "amount": Money(row.amount, row.currency),
            "purpose": Purpose(row.purpose),
            "item": row.item,
        }
        for name, value in values.items():
            object.__setattr__(entry, name, value)
        by_id[row.transaction_id].append(entry)
    return [
        Transaction.restore(
            head.id,
            TransactionKind(head.kind),
            head.reference,
            head.posted_at,
            by_id[head.id],
            head.original_id,
        )
        for head in heads
    ]


def _load(conn: Connection, where: Any | None = None, batch: int = 500) -> list[Transaction]:
    query = sa.select(transactions).order_by(transactions.c.posted_at, transactions.c.id)
    if where is not None:
        query = query.where(where)
    heads = conn.execute(query).all()
    loaded: list[Transaction] = []
    for start in range(0, len(heads), batch):
        chunk = heads[start : start + batch]
        rows = conn.execute(
            sa.select(entries)
            .where(entries.c.transaction_id.in_([h.id for h in chunk]))
            .order_by(entries.c.transaction_id, entries.c.position)
        ).all()
        loaded += _restore(chunk, rows)
    return loaded


def all_transactions(conn: Connection) -> list[Transaction]:
    """The whole ledger in posting order, rebuilt without checks (for ``ledger check``)."""
    return _load(conn)


def transactions_by_ids(
    conn: Connection, ids: Iterable[str], batch: int = 500
) -> list[Transaction]:
    wanted = sorted(set(ids))
    loaded: list[Transaction] = []
    for start in range(0, len(wanted), batch):
        loaded += _load(conn, transactions.c.id.in_(wanted[start : start + batch]))
    return loaded


def transaction_by_key(conn: Connection, key: str) -> Transaction | None:
    found = _load(conn, transactions.c.dedupe_key == key)
    return found[0] if found else None


def key_exists(conn: Connection, key: str) -> bool:
    return conn.execute(_KEY_EXISTS, {"key": key}).first() is not None


def refunds_of(conn: Connection, original_id: str) -> list[Transaction]:
    """The refunds and the cancellation posted against an order's payment, oldest first."""
    return _load(
        conn,
        sa.and_(transactions.c.original_id == original_id, transactions.c.kind.in_(REFUND_KINDS)),
    )


def refunded_items(conn: Connection, original_id: str) -> dict[str, int]:
    """Units (and shipping charges, as 1) already given back per item of an order."""
    query = (
        sa.select(refund_items.c.item, sa.func.sum(refund_items.c.units))
        .join(transactions, transactions.c.id == refund_items.c.transaction_id)
        .where(transactions.c.original_id == original_id)
        .group_by(refund_items.c.item)
    )
    return {str(row[0]): int(row[1]) for row in conn.execute(query)}


def settled_refund_ids(conn: Connection, refund_ids: Sequence[str]) -> set[str]:
    """Which of these refunds already have their ``refund_paid`` transaction."""
    if not refund_ids:
        return set()
    query = sa.select(transactions.c.original_id).where(
        transactions.c.kind == TransactionKind.REFUND_PAID.value,
        transactions.c.original_id.in_(list(refund_ids)),
    )
    return {row[0] for row in conn.execute(query)}


def orders_with_unpaid_refunds(conn: Connection, limit: int) -> list[str]:
    """Order ids (references of the order payments) with a refund still owed to the
    customer: it credited ``refunds_payable`` and has no ``refund_paid`` yet."""
    paid = transactions.alias("paid")
    settled = transactions.alias("settled")
    query = (
        sa.select(paid.c.reference)
        .select_from(transactions)
        .join(paid, paid.c.id == transactions.c.original_id)
        .where(
            transactions.c.kind.in_(REFUND_KINDS),
            sa.exists().where(
                entries.c.transaction_id == transactions.c.id,
                entries.c.account == "refunds_payable",
            ),
            ~sa.exists().where(
                settled.c.original_id == transactions.c.id,
                settled.c.kind == TransactionKind.REFUND_PAID.value,
            ),
        )
        .group_by(paid.c.reference)
        .order_by(sa.func.min(transactions.c.posted_at))
        .limit(limit)
    )
    return [row[0] for row in conn.execute(query)]


def seller_transactions(conn: Connection, seller_id: str, until: datetime) -> list[Transaction]:
    """Every transaction that moved ``seller_id``'s payable before ``until``."""
    touching = sa.select(entries.c.transaction_id).where(
        entries.c.account == f"{SELLER_PAYABLE_PREFIX}{seller_id}"
    )
    return _load(conn, sa.and_(transactions.c.id.in_(touching), transactions.c.posted_at < until))


def delivered_on(conn: Connection, order_ids: Iterable[str]) -> dict[tuple[str, str], date]:
    wanted = sorted(set(order_ids))
    if not wanted:
        return {}
    query = sa.select(deliveries).where(deliveries.c.order_id.in_(wanted))
    return {(r.order_id, r.seller_id): r.delivered_on for r in conn.execute(query)}


def ledger_size(conn: Connection) -> tuple[int, int]:
    """(transactions, entries) stored."""
    count_t = conn.execute(sa.select(sa.func.count()).select_from(transactions)).scalar_one()
    count_e = conn.execute(sa.select(sa.func.count()).select_from(entries)).scalar_one()
    return int(count_t), int(count_e)
