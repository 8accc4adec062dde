"""Pricing tables: rules as JSON definitions, and the counters checkouts race for.

Rules (price lists, sale prices, promotions, experiments) are stored as the JSON form of
their staff input (``XIn.model_dump(mode="json")`` of ``pricing/schemas/``): they are
always read whole, compiled into one cached ``PricingRules`` (``pricing/rules.py``), and
written by staff (``pricing/admin.py``, queries in ``pricing/admin_store.py``). ``active``
is false for a deleted rule and, for an experiment, true only while it runs.
``pricing_rules_version`` is bumped in the transaction of every rule change, so each
process knows when its compiled copy is stale.

What concurrent checkouts share is counters, changed only with conditional updates that
state the limit in their ``WHERE`` clause and backed by CHECK constraints: a coupon's uses,
a customer's uses of a coupon, a promotion's spent budget. A checkout that loses the race
sees no row updated and is refused; the database never holds a count past its limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.infra.db import Json, UtcDateTime, dialect_insert, metadata
from bazaar.kernel.money import Money

customer_groups = sa.Table(
    "customer_groups",
    metadata,
    sa.Column("code", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

customer_group_members = sa.Table(
    "customer_group_members",
    metadata,
    sa.Column("customer_id", sa.String(40), primary_key=True),
    sa.Column("group_code", sa.String(40), sa.ForeignKey("customer_groups.code"), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

pricing_rules_version = sa.Table(
    "pricing_rules_version",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.CheckConstraint("id = 1", name="single_row"),
)

# kind: price_list | sale_price | promotion | experiment
pricing_rules = sa.Table(
    "pricing_rules",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("definition", Json, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint(
        "kind IN ('price_list', 'sale_price', 'promotion', 'experiment')", name="kind_known"
    ),
    sa.Index(None, "kind", "active"),
)

promotion_budgets = sa.Table(
    "promotion_budgets",
    metadata,
    sa.Column("promotion_id", sa.String(40), primary_key=True),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("budget", sa.BigInteger, nullable=False),
    sa.Column("spent", sa.BigInteger, nullable=False),
    sa.CheckConstraint("spent >= 0", name="spent_not_negative"),
    sa.CheckConstraint("spent <= budget", name="spent_within_budget"),
)

promotion_spend = sa.Table(
    "promotion_spend",
    metadata,
    sa.Column("promotion_id", sa.String(40), primary_key=True),
    sa.Column("order_id", sa.String(40), primary_key=True),
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

coupons = sa.Table(
    "coupons",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),  # normalised: upper case
    sa.Column("promotion_id", sa.String(40), nullable=False),
    sa.Column("starts_at", UtcDateTime(), nullable=True),
    sa.Column("expires_at", UtcDateTime(), nullable=True),
    sa.Column("usage_limit", sa.Integer, nullable=True),
    sa.Column("usage_limit_per_customer", sa.Integer, nullable=True),
    sa.Column("batch_id", sa.String(40), nullable=True),
    sa.Column("uses", sa.Integer, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("uses >= 0", name="uses_not_negative"),
    sa.CheckConstraint("usage_limit IS NULL OR uses <= usage_limit", name="uses_within_limit"),
    sa.Index(None, "promotion_id"),
    sa.Index(None, "batch_id"),
)

coupon_customer_uses = sa.Table(
    "coupon_customer_uses",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("customer_id", sa.String(40), primary_key=True),
    sa.Column("uses", sa.Integer, nullable=False),
    sa.CheckConstraint("uses >= 0", name="uses_not_negative"),
)

coupon_redemptions = sa.Table(
    "coupon_redemptions",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("order_id", sa.String(40), primary_key=True),
    sa.Column("customer_id", sa.String(40), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

experiment_exposures = sa.Table(
    "experiment_exposures",
    metadata,
    sa.Column("experiment_id", sa.String(40), primary_key=True),
    sa.Column("unit_id", sa.String(64), primary_key=True),
    sa.Column("variant_id", sa.String(40), nullable=False),
    sa.Column("first_seen_at", UtcDateTime(), nullable=False),
)

experiment_conversions = sa.Table(
    "experiment_conversions",
    metadata,
    sa.Column("experiment_id", sa.String(40), primary_key=True),
    sa.Column("order_id", sa.String(40), primary_key=True),
    sa.Column("unit_id", sa.String(64), nullable=False),
    sa.Column("variant_id", sa.String(40), nullable=False),
    sa.Column("revenue", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)


# --- the rules' version ------------------------------------------------------------------------


def rules_version(conn: Connection) -> int:
    found = conn.scalar(
        sa.select(pricing_rules_version.c.version).where(pricing_rules_version.c.id == 1)
    )
    return int(found or 0)


def bump_rules_version(conn: Connection) -> None:
    """Mark every process's compiled rules stale; call in the transaction of the change."""
    statement = dialect_insert(conn, pricing_rules_version).values(id=1, version=1)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["id"], set_={"version": pricing_rules_version.c.version + 1}
        )
    )


def active_rules(conn: Connection) -> list[tuple[str, Mapping[str, Any]]]:
    """(kind, definition) of every active rule, by id."""
    r = pricing_rules
    query = sa.select(r.c.kind, r.c.definition).where(r.c.active.is_(sa.true())).order_by(r.c.id)
    return [(row.kind, row.definition) for row in conn.execute(query)]


def remaining_budgets(conn: Connection, promotion_ids: Iterable[str]) -> dict[str, int]:
    b = promotion_budgets
    wanted = sorted(set(promotion_ids))
    if not wanted:
        return {}
    left = (b.c.budget - b.c.spent).label("left")
    query = sa.select(b.c.promotion_id, left).where(b.c.promotion_id.in_(wanted))
    return {str(row.promotion_id): int(row.left) for row in conn.execute(query)}


# --- what checkouts race for -------------------------------------------------------------------


def spend_budget(
    conn: Connection, promotion_id: str, order_id: str, amount: int, currency: str, now: datetime
) -> bool:
    """Draw ``amount`` from a budgeted promotion; False when less is left (nothing drawn).

    A promotion without a budget row has no budget: always True.
    """
    b = promotion_budgets
    result = conn.execute(
        b.update()
        .where(b.c.promotion_id == promotion_id, b.c.spent + amount <= b.c.budget)
        .values(spent=b.c.spent + amount)
    )
    if result.rowcount != 1:
        exists = conn.scalar(sa.select(b.c.promotion_id).where(b.c.promotion_id == promotion_id))
        if exists is not None:
            return False
    conn.execute(
        promotion_spend.insert().values(
            promotion_id=promotion_id,
            order_id=order_id,
            amount=amount,
            currency=currency,
            created_at=now,
        )
    )
    return True


def coupon_uses(
    conn: Connection, codes: Sequence[str], customer_id: str | None
) -> list[tuple[Mapping[str, Any], int]]:
    """The coupons of ``codes`` (as rows) with the customer's uses of each, in one statement."""
    if not codes:
        return []
    c, u = coupons, coupon_customer_uses
    joined = c.outerjoin(u, sa.and_(u.c.code == c.c.code, u.c.customer_id == (customer_id or "")))
    query = (
        sa.select(c, sa.func.coalesce(u.c.uses, 0).label("customer_uses"))
        .select_from(joined)
        .where(c.c.code.in_(sorted(set(codes))))
    )
    return [(dict(row), int(row["customer_uses"])) for row in conn.execute(query).mappings()]


def redeem_coupon(
    conn: Connection, code: str, order_id: str, customer_id: str | None, now: datetime
) -> bool:
    """Count one use of ``code`` for ``order_id``; False when its limit (overall or the
    customer's) is reached. On False the caller must roll back: the overall use may
    already be counted."""
    c = coupons
    used = conn.execute(
        c.update()
        .where(c.c.code == code, sa.or_(c.c.usage_limit.is_(None), c.c.uses < c.c.usage_limit))
        .values(uses=c.c.uses + 1)
    )
    if used.rowcount != 1:
        return False
    if customer_id is not None:
        u = coupon_customer_uses
        limit = (
            sa.select(sa.func.coalesce(c.c.usage_limit_per_customer, 2**31 - 1))
            .where(c.c.code == code)
            .scalar_subquery()
        )
        statement = dialect_insert(conn, u).values(code=code, customer_id=customer_id, uses=1)
        bumped = statement.on_conflict_do_update(
            index_elements=["code", "customer_id"],
            set_={"uses": u.c.uses + 1},
            where=u.c.uses < limit,
        ).returning(u.c.uses)
        if conn.execute(bumped).first() is None:
            return False
    conn.execute(
        coupon_redemptions.insert().values(
            code=code, order_id=order_id, customer_id=customer_id, created_at=now
        )
    )
    return True


# built once: read on every page a signed-in customer opens
_GROUP_OF = sa.select(customer_group_members.c.group_code).where(
    customer_group_members.c.customer_id == sa.bindparam("customer_id")
)


def group_of(conn: Connection, customer_id: str) -> str | None:
    """The customer group a customer belongs to, or None."""
    group: str | None = conn.scalar(_GROUP_OF, {"customer_id": customer_id})
    return group


def record_conversion(
    conn: Connection,
    experiment_id: str,
    variant_id: str,
    *,
    order_id: str,
    unit_id: str,
    revenue: Money,
    now: datetime,
) -> None:
    """An order placed by a unit exposed to ``variant_id``; once per (experiment, order)."""
    statement = dialect_insert(conn, experiment_conversions).values(
        experiment_id=experiment_id,
        order_id=order_id,
        unit_id=unit_id,
        variant_id=variant_id,
        revenue=revenue.amount,
        currency=revenue.currency,
        created_at=now,
    )
    conn.execute(statement.on_conflict_do_nothing())
