"""Tables and queries of the checkout rules a quote applies: each fulfiller's shipping
rules and each category's VAT rate class. Staff set them (:mod:`bazaar.carts.checkout_rules`);
every quote and checkout reads them, with statements built once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.carts.shipping_rules import rule_kind
from bazaar.checkout.shipping import ShippingRule, WeightBand
from bazaar.checkout.tax import RateClass
from bazaar.infra.db import IdColumn, Json, UtcDateTime, metadata
from bazaar.kernel.money import Money

shipping_rules = sa.Table(
    "shipping_rules",
    metadata,
    IdColumn(),
    sa.Column("fulfiller_id", sa.String(40), nullable=False),
    sa.Column("position", sa.SmallInteger, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("label", sa.String(80), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("amount", sa.BigInteger, nullable=True),  # flat and free_over: per parcel
    sa.Column("free_over", sa.BigInteger, nullable=True),
    sa.Column("bands", Json, nullable=False),  # by_weight: [{"up_to_g": 1000, "amount": 495}]
    sa.Column("countries", Json, nullable=True),  # null: everywhere
    sa.Column("excluded_countries", Json, nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("fulfiller_id", "position"),
    sa.CheckConstraint("kind IN ('flat', 'free_over', 'by_weight')", name="kind_known"),
)

tax_category_classes = sa.Table(
    "tax_category_classes",
    metadata,
    sa.Column("category_id", sa.String(40), primary_key=True),
    sa.Column("rate_class", sa.String(16), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("rate_class IN ('standard', 'reduced', 'zero')", name="rate_class_known"),
)


# --- shipping rules --------------------------------------------------------------------------


def _rule(row: Mapping[Any, Any]) -> ShippingRule:
    currency = row["currency"]
    return ShippingRule(
        id=row["id"],
        label=row["label"],
        flat_rate=Money(row["amount"], currency) if row["amount"] is not None else None,
        weight_bands=tuple(
            WeightBand(b["up_to_g"], Money(b["amount"], currency)) for b in row["bands"]
        ),
        free_over=Money(row["free_over"], currency) if row["free_over"] is not None else None,
        countries=frozenset(row["countries"]) if row["countries"] is not None else None,
        excluded_countries=frozenset(row["excluded_countries"]),
    )


def _rule_values(
    fulfiller_id: str, position: int, rule: ShippingRule, now: datetime, currency: str
) -> dict[str, Any]:
    return {
        "id": rule.id,
        "fulfiller_id": fulfiller_id,
        "position": position,
        "kind": rule_kind(rule).value,
        "label": rule.label,
        "currency": currency,
        "amount": rule.flat_rate.amount if rule.flat_rate is not None else None,
        "free_over": rule.free_over.amount if rule.free_over is not None else None,
        "bands": [{"up_to_g": b.up_to_g, "amount": b.price.amount} for b in rule.weight_bands],
        "countries": sorted(rule.countries) if rule.countries is not None else None,
        "excluded_countries": sorted(rule.excluded_countries),
        "updated_at": now,
    }


def replace_shipping_rules(
    conn: Connection,
    fulfiller_id: str,
    rules: Sequence[ShippingRule],
    now: datetime,
    currency: str,
) -> None:
    """Make ``rules`` (in order) the fulfiller's whole rule list."""
    conn.execute(shipping_rules.delete().where(shipping_rules.c.fulfiller_id == fulfiller_id))
    if rules:
        conn.execute(
            shipping_rules.insert(),
            [_rule_values(fulfiller_id, n, r, now, currency) for n, r in enumerate(rules)],
        )


# Built once: every quote and checkout runs it.
_RULES_OF = (
    sa.select(shipping_rules)
    .where(shipping_rules.c.fulfiller_id.in_(sa.bindparam("fulfiller_ids", expanding=True)))
    .order_by(shipping_rules.c.fulfiller_id, shipping_rules.c.position)
)


def shipping_rules_for(
    conn: Connection, fulfiller_ids: Iterable[str]
) -> dict[str, list[ShippingRule]]:
    """Each fulfiller's own rules in order, in one query; fulfillers without any are absent."""
    wanted = sorted(set(fulfiller_ids))
    by_fulfiller: dict[str, list[ShippingRule]] = {}
    if not wanted:
        return by_fulfiller
    for row in conn.execute(_RULES_OF, {"fulfiller_ids": wanted}).mappings():
        by_fulfiller.setdefault(row["fulfiller_id"], []).append(_rule(row))
    return by_fulfiller


# --- VAT rate classes of categories ----------------------------------------------------------


def set_tax_class(
    conn: Connection, category_id: str, rate_class: RateClass | None, now: datetime
) -> None:
    """Set a category's own rate class, or remove it (None) so it inherits again."""
    if rate_class is None:
        conn.execute(
            tax_category_classes.delete().where(tax_category_classes.c.category_id == category_id)
        )
        return
    updated = conn.execute(
        tax_category_classes.update()
        .where(tax_category_classes.c.category_id == category_id)
        .values(rate_class=rate_class.value, updated_at=now)
    ).rowcount
    if not updated:
        conn.execute(
            tax_category_classes.insert().values(
                category_id=category_id, rate_class=rate_class.value, updated_at=now
            )
        )


# Built once: every quote and checkout runs it.
_CLASSES_OF = sa.select(
    tax_category_classes.c.category_id, tax_category_classes.c.rate_class
).where(tax_category_classes.c.category_id.in_(sa.bindparam("category_ids", expanding=True)))


def tax_classes_for(conn: Connection, category_ids: Iterable[str]) -> dict[str, RateClass]:
    """The own rate classes of those of ``category_ids`` that have one, in one query."""
    wanted = sorted(set(category_ids))
    if not wanted:
        return {}
    rows = conn.execute(_CLASSES_OF, {"category_ids": wanted})
    return {row.category_id: RateClass(row.rate_class) for row in rows}


def all_tax_classes(conn: Connection) -> list[tuple[str, RateClass, datetime]]:
    query = sa.select(tax_category_classes).order_by(tax_category_classes.c.category_id)
    return [
        (row.category_id, RateClass(row.rate_class), row.updated_at) for row in conn.execute(query)
    ]
