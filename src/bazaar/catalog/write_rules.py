"""How a draft, a patch or a failed insert becomes catalog rows or a precise error.

The catalog's use cases (``service``) own transactions, events, reindexing and cache
invalidation; the rules they apply on the way in live here: merging a patch over the current
product or offer, numbering a batch's errors by position, and turning a unique-constraint
violation raised by a concurrent writer into the same 409 the up-front check would give.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bazaar.catalog.building import IdSupply, References, build_product
from bazaar.catalog.drafts import OfferPatch, ProductDraft, ProductPatch
from bazaar.catalog.events import OfferCreated, OfferUpdated
from bazaar.catalog.model import Offer, Product, check_offer_numbers
from bazaar.catalog.new_products import find_duplicates
from bazaar.infra.db import violates_unique
from bazaar.kernel.errors import Conflict, FieldError, ValidationFailed

_OFFER_FIELDS = ("price", "shipping", "stock", "delivery_days", "status")


def build_batch(
    conn: Connection,
    drafts: Sequence[ProductDraft],
    refs: References,
    now: datetime,
    currency: str,
) -> list[tuple[Product, list[Offer]]]:
    """Build every draft, or raise with every error of the batch at once.

    Errors are reported per product as ``[i].field`` when the batch has more than one; SKUs
    and GTINs already in use are numbered by position in the input too, whether or not the
    rest of a draft is valid, so one response lists everything to fix.
    """
    ids = IdSupply(
        {
            "prd": len(drafts),
            "var": sum(len(d.variants) for d in drafts),
            "ofr": sum(len(d.offers) for d in drafts),
        }
    )
    built: list[tuple[Product, list[Offer]]] = []
    errors: list[FieldError] = []
    for i, draft in enumerate(drafts):
        prefix = f"[{i}]." if len(drafts) > 1 else ""
        try:
            built.append(build_product(draft, refs, now, currency, ids))
        except ValidationFailed as exc:
            errors += [replace(e, field=prefix + e.field) for e in exc.errors]
    duplicates = find_duplicates(conn, [d.variants for d in drafts], multi=len(drafts) > 1)
    if errors:
        raise ValidationFailed("Some products have invalid fields", errors=errors + duplicates)
    if duplicates:
        raise Conflict("A SKU or GTIN is already in use", errors=duplicates)
    return built


def variant_conflict(exc: IntegrityError, *, single: bool) -> Conflict | None:
    """The 409 for a SKU or GTIN a concurrent writer took between our check and insert."""
    for column in ("sku", "gtin"):
        if violates_unique(exc, "variants", column):
            return Conflict(
                f"A {column.upper()} is already in use",
                errors=[FieldError(f"variants[0].{column}", "Already in use", "duplicate")]
                if single
                else [FieldError("variants", "Already in use", "duplicate")],
            )
    return None


def offer_conflict(exc: IntegrityError) -> Conflict | None:
    """The 409 for a second offer by one fulfiller on one variant."""
    # SQLite names the first column, PostgreSQL the constraint
    if not (
        violates_unique(exc, "offers", "variant_id")
        or violates_unique(exc, "offers", "variant_id_fulfiller_id")
    ):
        return None
    return Conflict(
        "This fulfiller already offers this variant; change that offer instead",
        errors=[FieldError("fulfiller_id", "Already offers this variant", "duplicate")],
    )


def merged_product_draft(current: Product, patch: ProductPatch) -> ProductDraft:
    """The draft a patch describes: given fields replace the product's, the rest stay."""
    given = patch.provided
    return ProductDraft(
        title=patch.title or "" if "title" in given else current.title,
        description=patch.description or "" if "description" in given else current.description,
        category=patch.category or "" if "category" in given else current.category_id,
        brand=patch.brand if "brand" in given else current.brand_id,
        attributes=(patch.attributes or {} if "attributes" in given else current.attributes),
        gtin=patch.gtin if "gtin" in given else current.gtin,
        mpn=patch.mpn if "mpn" in given else current.mpn,
        status=patch.status or current.status,
        variants=(),
    )


def patched_offer(
    current: Offer, patch: OfferPatch, now: datetime, currency: str
) -> tuple[Offer, tuple[str, ...]]:
    """The offer with the patch applied and the names of the fields that changed."""
    offer = replace(
        current,
        price=patch.price or current.price,
        shipping=patch.shipping or current.shipping,
        stock=patch.stock if patch.stock is not None else current.stock,
        delivery_days=(
            patch.delivery_days if patch.delivery_days is not None else current.delivery_days
        ),
        status=patch.status or current.status,
        updated_at=now,
    )
    errors = check_offer_numbers(
        offer.price, offer.shipping, offer.stock, offer.delivery_days, currency
    )
    if errors:
        raise ValidationFailed("The offer has invalid fields", errors=errors)
    changed = tuple(k for k in _OFFER_FIELDS if getattr(offer, k) != getattr(current, k))
    return offer, changed


def unprefix(errors: Sequence[FieldError]) -> list[FieldError]:
    """Errors about the one variant a request is about name its fields plainly (``sku``)."""
    return [
        replace(e, field=e.field.removeprefix("variant.").removeprefix("variants[0]."))
        for e in errors
    ]


def offer_event(
    cls: type[OfferCreated] | type[OfferUpdated], offer: Offer, **extra: object
) -> OfferCreated | OfferUpdated:
    return cls(
        product_id=offer.product_id,
        offer_id=offer.id,
        variant_id=offer.variant_id,
        fulfiller_id=offer.fulfiller_id,
        price=offer.price,
        shipping=offer.shipping,
        stock=offer.stock,
        status=offer.status.value,
        **extra,  # type: ignore[arg-type]
    )
