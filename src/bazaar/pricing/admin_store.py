"""Staff-side pricing queries: rule rows, budgets, coupons and customer groups.

The tables are :mod:`bazaar.pricing.store`'s; what checkouts race for stays there, and
price experiments' lifecycle and results are in :mod:`bazaar.pricing.experiment_store`. A
rule row's ``definition`` is its staff input as JSON (:mod:`bazaar.pricing.schemas`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.infra.db import dialect_insert
from bazaar.pricing.store import (
    coupons,
    customer_group_members,
    customer_groups,
    pricing_rules,
    promotion_budgets,
)

# --- rule rows ---------------------------------------------------------------------------------


class RuleKind(StrEnum):
    """``pricing_rules.kind``."""

    PRICE_LIST = "price_list"
    SALE_PRICE = "sale_price"
    PROMOTION = "promotion"
    EXPERIMENT = "experiment"


@dataclass(frozen=True)
class RuleRow:
    id: str
    kind: str
    definition: Mapping[str, Any]
    active: bool
    created_at: datetime
    updated_at: datetime


def _rule(row: Any) -> RuleRow:
    r = row._mapping
    return RuleRow(
        r["id"], r["kind"], r["definition"], bool(r["active"]), r["created_at"], r["updated_at"]
    )


def insert_rule(
    conn: Connection,
    rule_id: str,
    kind: str,
    definition: Mapping[str, Any],
    now: datetime,
    *,
    active: bool = True,
) -> None:
    conn.execute(
        pricing_rules.insert().values(
            id=rule_id,
            kind=kind,
            definition=dict(definition),
            active=active,
            created_at=now,
            updated_at=now,
        )
    )


def update_rule(
    conn: Connection, rule_id: str, definition: Mapping[str, Any], now: datetime
) -> bool:
    """Replace an active rule's definition; False when it is missing or deleted."""
    r = pricing_rules
    result = conn.execute(
        r.update()
        .where(r.c.id == rule_id, r.c.active.is_(sa.true()))
        .values(definition=dict(definition), updated_at=now)
    )
    return result.rowcount == 1


def set_rule_active(conn: Connection, rule_id: str, active: bool, now: datetime) -> bool:
    """Switch a rule on or off; False when it already was (nothing changed)."""
    r = pricing_rules
    result = conn.execute(
        r.update()
        .where(r.c.id == rule_id, r.c.active.is_(sa.true() if not active else sa.false()))
        .values(active=active, updated_at=now)
    )
    return result.rowcount == 1


def get_rule(conn: Connection, kind: str, rule_id: str) -> RuleRow | None:
    r = pricing_rules
    row = conn.execute(sa.select(r).where(r.c.id == rule_id, r.c.kind == kind)).first()
    return _rule(row) if row is not None else None


def list_rules(
    conn: Connection, kind: str, *, active_only: bool, after_id: str | None, limit: int
) -> list[RuleRow]:
    """Rules of ``kind`` in id (creation) order, after ``after_id``."""
    r = pricing_rules
    query = sa.select(r).where(r.c.kind == kind).order_by(r.c.id).limit(limit)
    if active_only:
        query = query.where(r.c.active.is_(sa.true()))
    if after_id is not None:
        query = query.where(r.c.id > after_id)
    return [_rule(row) for row in conn.execute(query)]


def active_rule_rows(conn: Connection) -> list[RuleRow]:
    """Every active rule, by id: what the compiled rules are built from."""
    r = pricing_rules
    query = sa.select(r).where(r.c.active.is_(sa.true())).order_by(r.c.id)
    return [_rule(row) for row in conn.execute(query)]


def existing_rule_ids(conn: Connection, kind: str, ids: Iterable[str]) -> set[str]:
    """Those of ``ids`` naming a rule of ``kind``, active or not."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    r = pricing_rules
    query = sa.select(r.c.id).where(r.c.kind == kind, r.c.id.in_(wanted))
    found: list[str] = list(conn.scalars(query))
    return set(found)


# --- budgets -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetRow:
    promotion_id: str
    currency: str
    budget: int
    spent: int


def budgets(conn: Connection, promotion_ids: Iterable[str]) -> dict[str, BudgetRow]:
    wanted = sorted(set(promotion_ids))
    if not wanted:
        return {}
    b = promotion_budgets
    rows = conn.execute(sa.select(b).where(b.c.promotion_id.in_(wanted)))
    return {
        row.promotion_id: BudgetRow(row.promotion_id, row.currency, row.budget, row.spent)
        for row in rows
    }


def set_budget(conn: Connection, promotion_id: str, currency: str, amount: int) -> bool:
    """Create or change a promotion's budget, keeping what it has spent.

    False (nothing changed) when more than ``amount`` is already spent, or when the currency
    would change after spending began. One conditional update, so a checkout drawing from
    the budget meanwhile cannot leave it overspent.
    """
    b = promotion_budgets
    changed = conn.execute(
        b.update()
        .where(
            b.c.promotion_id == promotion_id,
            b.c.spent <= amount,
            sa.or_(b.c.currency == currency, b.c.spent == 0),
        )
        .values(budget=amount, currency=currency)
    )
    if changed.rowcount == 1:
        return True
    statement = dialect_insert(conn, b).values(
        promotion_id=promotion_id, currency=currency, budget=amount, spent=0
    )
    inserted = statement.on_conflict_do_nothing(index_elements=["promotion_id"])
    return conn.execute(inserted.returning(b.c.promotion_id)).first() is not None


def remove_budget(conn: Connection, promotion_id: str) -> None:
    """The promotion has no budget any more (what it spent stays in ``promotion_spend``)."""
    b = promotion_budgets
    conn.execute(b.delete().where(b.c.promotion_id == promotion_id))


# --- coupons -----------------------------------------------------------------------------------


def insert_coupons(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> set[str]:
    """Insert coupon rows (``uses`` 0); return the codes inserted. A code already taken is
    skipped, not an error, so a batch can replace the few that clashed."""
    if not rows:
        return set()
    c = coupons
    statement = dialect_insert(conn, c).on_conflict_do_nothing(index_elements=["code"])
    inserted: set[str] = set()
    for start in range(0, len(rows), 1000):
        chunk = [{**row, "uses": 0} for row in rows[start : start + 1000]]
        inserted.update(conn.scalars(statement.returning(c.c.code), chunk))
    return inserted


def get_coupon(conn: Connection, code: str) -> Mapping[str, Any] | None:
    row = conn.execute(sa.select(coupons).where(coupons.c.code == code)).mappings().first()
    return dict(row) if row is not None else None


def list_coupons(
    conn: Connection,
    *,
    promotion_id: str | None,
    batch_id: str | None,
    after_code: str | None,
    limit: int,
) -> list[Mapping[str, Any]]:
    """Coupons in code order, of a promotion and/or a batch, after ``after_code``."""
    c = coupons
    query = sa.select(c).order_by(c.c.code).limit(limit)
    if promotion_id is not None:
        query = query.where(c.c.promotion_id == promotion_id)
    if batch_id is not None:
        query = query.where(c.c.batch_id == batch_id)
    if after_code is not None:
        query = query.where(c.c.code > after_code)
    return [dict(row) for row in conn.execute(query).mappings()]


# --- customer groups ---------------------------------------------------------------------------


def insert_group(conn: Connection, code: str, name: str, now: datetime) -> bool:
    """False when the code is taken."""
    statement = dialect_insert(conn, customer_groups).values(code=code, name=name, created_at=now)
    inserted = statement.on_conflict_do_nothing(index_elements=["code"])
    return conn.execute(inserted.returning(customer_groups.c.code)).first() is not None


def all_groups(conn: Connection) -> list[tuple[str, str, datetime, int]]:
    """(code, name, created_at, members) of every group, by code."""
    g, m = customer_groups, customer_group_members
    members = (
        sa.select(sa.func.count())
        .where(m.c.group_code == g.c.code)
        .scalar_subquery()
        .label("members")
    )
    query = sa.select(g.c.code, g.c.name, g.c.created_at, members).order_by(g.c.code)
    return [(r.code, r.name, r.created_at, int(r.members)) for r in conn.execute(query)]


def group_exists(conn: Connection, code: str) -> bool:
    g = customer_groups
    return conn.scalar(sa.select(g.c.code).where(g.c.code == code)) is not None


def set_member(conn: Connection, customer_id: str, group_code: str | None, now: datetime) -> None:
    """Put a customer in a group (one group each), or with None in none."""
    m = customer_group_members
    if group_code is None:
        conn.execute(m.delete().where(m.c.customer_id == customer_id))
        return
    statement = dialect_insert(conn, m).values(
        customer_id=customer_id, group_code=group_code, updated_at=now
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["customer_id"], set_={"group_code": group_code, "updated_at": now}
        )
    )
