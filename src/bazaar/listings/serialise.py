"""Listings as JSON documents, for the store and the outbox. Pure Python.

Drafts, fixes, check results and product matches are stored as JSON columns of the listing
row. Attribute values stay exactly what normalisation made them: a ``Decimal`` (``1.5 l``)
is written as ``{"decimal": "1.5"}`` rather than as a float, so a stored listing reads back
equal to the one that was saved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, cast

from bazaar.kernel.money import Money
from bazaar.listings.checks import CheckName, CheckResult, CheckStatus, ProductRef
from bazaar.listings.matching import ProductMatch
from bazaar.listings.normalise import Fix, FixRule, ListingDraft

_DECIMAL = "decimal"


def value_json(value: object) -> object:
    """An attribute value as JSON; see the module docstring for decimals."""
    if isinstance(value, Decimal):
        return {_DECIMAL: str(value)}
    return value


def value_of(raw: object) -> object:
    if isinstance(raw, dict) and set(raw) == {_DECIMAL}:
        return Decimal(str(raw[_DECIMAL]))
    return raw


def draft_json(draft: ListingDraft) -> dict[str, Any]:
    return {
        "seller_id": draft.seller_id,
        "category_id": draft.category_id,
        "title": draft.title,
        "price": draft.price.to_dict(),
        "brand": draft.brand,
        "gtin": draft.gtin,
        "mpn": draft.mpn,
        "description": draft.description,
        "attributes": {name: value_json(v) for name, v in draft.attributes.items()},
        "image_urls": list(draft.image_urls),
    }


def draft_of(raw: Mapping[str, Any]) -> ListingDraft:
    return ListingDraft(
        seller_id=raw["seller_id"],
        category_id=raw["category_id"],
        title=raw["title"],
        price=Money.from_dict(raw["price"]),
        brand=raw.get("brand"),
        gtin=raw.get("gtin"),
        mpn=raw.get("mpn"),
        description=raw.get("description", ""),
        attributes={name: value_of(v) for name, v in raw.get("attributes", {}).items()},
        image_urls=tuple(raw.get("image_urls", ())),
    )


def fixes_json(fixes: Sequence[Fix]) -> list[dict[str, str]]:
    return [
        {"field": f.field, "before": f.before, "after": f.after, "rule": f.rule.value}
        for f in fixes
    ]


def fixes_of(raw: Sequence[Mapping[str, str]]) -> tuple[Fix, ...]:
    return tuple(Fix(f["field"], f["before"], f["after"], FixRule(f["rule"])) for f in raw)


def results_json(results: Sequence[CheckResult]) -> list[dict[str, str | None]]:
    return [
        {
            "check": r.check.value,
            "status": r.status.value,
            "field": r.field,
            "reason": r.reason,
            "suggestion": r.suggestion,
        }
        for r in results
    ]


def results_of(raw: Sequence[Mapping[str, str | None]]) -> tuple[CheckResult, ...]:
    return tuple(
        CheckResult(
            CheckName(cast(str, r["check"])),
            CheckStatus(cast(str, r["status"])),
            r.get("field"),
            r.get("reason") or "",
            r.get("suggestion"),
        )
        for r in raw
    )


def match_json(match: ProductMatch | None) -> dict[str, str | None] | None:
    if match is None:
        return None
    return {
        "product_id": match.product.product_id,
        "variant_id": match.product.variant_id,
        "matched_by": match.matched_by,
    }


def match_of(raw: Mapping[str, str | None] | None) -> ProductMatch | None:
    if raw is None:
        return None
    ref = ProductRef(cast(str, raw["product_id"]), raw.get("variant_id"))
    return ProductMatch(ref, "gtin" if raw["matched_by"] == "gtin" else "brand_mpn")
