"""What confirmed payout runs settled, and the balances they carried forward.

* ``payout_balances``: each seller's balance carried forward (zero or negative) by the last
  confirmed runs, from which the next run starts.
* ``payout_settlements``: which seller payable movements a confirmed run settled (paid out
  or netted into a carried balance), so no later run pays them again. The primary key is
  the pair, so two runs can never settle the same movement; a failed payout's rows are
  deleted, which makes its movements payable again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.fees.ledger import SELLER_PAYABLE_PREFIX
from bazaar.fees.store import entries
from bazaar.infra.db import UtcDateTime, metadata
from bazaar.kernel.money import Money

balances = sa.Table(
    "payout_balances",
    metadata,
    sa.Column("seller_id", sa.String(40), primary_key=True),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("amount <= 0", name="not_positive"),
)

settlements = sa.Table(
    "payout_settlements",
    metadata,
    sa.Column("seller_id", sa.String(40), primary_key=True),
    sa.Column("transaction_id", sa.String(40), primary_key=True),
    sa.Column("run_id", sa.String(40), sa.ForeignKey("payout_runs.id"), nullable=False),
    sa.Column("payout_id", sa.String(40), nullable=True),
    sa.Index(None, "payout_id"),
)


def carried_balances(conn: Connection, currency: str) -> dict[str, Money]:
    query = sa.select(balances.c.seller_id, balances.c.amount).where(
        balances.c.currency == currency, balances.c.amount != 0
    )
    return {str(row[0]): Money(int(row[1]), currency) for row in conn.execute(query)}


def set_balance(conn: Connection, seller_id: str, amount: Money, now: datetime) -> None:
    updated = conn.execute(
        balances.update()
        .where(balances.c.seller_id == seller_id)
        .values(amount=amount.amount, currency=amount.currency, updated_at=now)
    )
    if updated.rowcount == 0:
        conn.execute(
            balances.insert().values(
                seller_id=seller_id, amount=amount.amount, currency=amount.currency, updated_at=now
            )
        )


def settle(conn: Connection, run_id: str, pairs: Iterable[tuple[str, str, str | None]]) -> None:
    """Record (seller id, transaction id, payout id or None) as settled by ``run_id``;
    raises ``IntegrityError`` when another run settled one of them first."""
    rows = [
        {"seller_id": s, "transaction_id": t, "run_id": run_id, "payout_id": p} for s, t, p in pairs
    ]
    if rows:
        conn.execute(settlements.insert(), rows)


def unsettle_payout(conn: Connection, payout_id: str) -> None:
    """A failed payout's movements become payable again."""
    conn.execute(settlements.delete().where(settlements.c.payout_id == payout_id))


def unsettled_pairs(conn: Connection) -> set[tuple[str, str]]:
    """(seller id, transaction id) of every seller payable movement no run has settled."""
    account = SELLER_PAYABLE_PREFIX + settlements.c.seller_id
    query = (
        sa.select(entries.c.account, entries.c.transaction_id)
        .where(
            entries.c.account.startswith(SELLER_PAYABLE_PREFIX, autoescape=True),
            ~sa.exists().where(
                settlements.c.transaction_id == entries.c.transaction_id,
                account == entries.c.account,
            ),
        )
        .distinct()
    )
    return {
        (str(row[0]).removeprefix(SELLER_PAYABLE_PREFIX), str(row[1]))
        for row in conn.execute(query)
    }
