"""From drafts to validated products and offers, with references looked up once per batch.

An import of 5,000 products naming 300 categories and 1,000 brands resolves them in a
handful of queries, not one per product: :class:`References` preloads every category,
ancestor, brand and fulfiller a batch mentions.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.catalog import store
from bazaar.catalog.attributes import AttributeDef, AttributeValue, merge_definitions
from bazaar.catalog.attributes import validate_attributes as check_attributes
from bazaar.catalog.drafts import OfferDraft, ProductDraft
from bazaar.catalog.model import (
    MAX_DESCRIPTION,
    MAX_MPN,
    Brand,
    Category,
    Offer,
    Product,
    ProductStatus,
    Variant,
    check_gtin,
    check_offer_numbers,
    check_rating,
    check_title,
    check_variant,
    clean_text,
)
from bazaar.kernel.errors import FieldError, ValidationFailed
from bazaar.kernel.ids import is_valid_id, new_ids
from bazaar.kernel.money import Money

# Every column as the driver returns it, without SQLAlchemy's result processing: comparing a
# row with the cached copy then costs no JSON decoding or date conversion.
_RAW_CATEGORY = sa.select(*[sa.type_coerce(c, sa.Text).label(c.key) for c in store.categories.c])


class CategoryCache:
    """Parsed categories kept from one batch to the next, each with the row it was parsed from.

    A batch still reads the rows of every category it names (and their ancestors), as plain
    text; only a row that differs from the cached copy is parsed again. So each batch
    validates against exactly the declarations committed when it runs, and an import naming
    hundreds of categories does not decode their attribute declarations once per batch.
    """

    def __init__(self, limit: int = 10_000) -> None:
        self._limit = limit
        self._entries: dict[str, tuple[tuple[Any, ...], Category]] = {}

    def load(
        self, conn: Connection, ids: Collection[str], paths: Collection[str] = ()
    ) -> list[Category]:
        """The categories with one of ``ids`` or ``paths``: one query, two if any changed."""
        if not ids and not paths:
            return []
        c = store.categories.c
        query = _RAW_CATEGORY.where(sa.or_(c.id.in_(sorted(ids)), c.path.in_(sorted(paths))))
        rows = [tuple(row) for row in conn.execute(query)]
        found: dict[str, Category] = {}
        stale: dict[str, tuple[Any, ...]] = {}
        for row in rows:
            entry = self._entries.get(row[0])
            if entry is not None and entry[0] == row:
                found[row[0]] = entry[1]
            else:
                stale[row[0]] = row
        if stale:
            if len(self._entries) + len(stale) > self._limit:
                self._entries.clear()
            for category_id, category in store.categories_by_ids(conn, stale).items():
                self._entries[category_id] = (stale[category_id], category)
                found[category_id] = category
        return list(found.values())


class References:
    """Categories, brands and fulfillers a batch of drafts refers to, loaded in bulk.

    With a :class:`CategoryCache` (bulk writes), categories parsed for an earlier batch are
    reused when their rows have not changed.
    """

    def __init__(self, conn: Connection, categories: CategoryCache | None = None) -> None:
        self._conn = conn
        self._cache = categories
        self._categories: dict[str, Category | None] = {}
        self._ancestors: dict[str, Category] = {}
        self._attributes: dict[str, dict[str, AttributeDef]] = {}
        self._brands: dict[str, Brand | None] = {}
        self._fulfillers: set[str] = set()

    def preload(
        self,
        category_refs: Iterable[str],
        brand_refs: Iterable[str],
        fulfiller_ids: Iterable[str] = (),
    ) -> References:
        """Resolve every reference in at most six queries."""
        conn = self._conn
        cats = {r for r in category_refs if r not in self._categories}
        category_ids = {r for r in cats if is_valid_id(r, "cat")}
        paths = {r.strip().strip("/").lower(): r for r in cats if not r.startswith("cat_")}
        if self._cache is not None:
            loaded = self._cache.load(conn, category_ids, paths)
            by_id = {c.id: c for c in loaded if c.id in category_ids}
            by_path = {c.path: c for c in loaded if c.path in paths}
        else:
            by_id = store.categories_by_ids(conn, category_ids)
            by_path = store.categories_by_paths(conn, paths)
        for ref in cats:
            key = ref.strip().strip("/").lower()
            found = by_id.get(ref) or by_path.get(key)
            self._categories[ref] = found
            if found is not None:
                self._categories[found.id] = found
        wanted = {a for c in self._categories.values() if c for a in c.ancestor_ids}
        self._load_ancestors(wanted - set(self._ancestors))
        brands = {r for r in brand_refs if r not in self._brands}
        ids = store.brands_by_ids(conn, {r for r in brands if is_valid_id(r, "brd")})
        slugs = store.brands_by_slugs(conn, {r.strip().lower() for r in brands})
        for ref in brands:
            brand = ids.get(ref) or slugs.get(ref.strip().lower())
            self._brands[ref] = brand
            if brand is not None:
                self._brands[brand.id] = brand
        self._fulfillers |= set(store.fulfillers_by_ids(conn, fulfiller_ids))
        return self

    def category(self, ref: str) -> Category | None:
        if ref not in self._categories:
            self.preload([ref], [])
        return self._categories[ref]

    def brand(self, ref: str) -> Brand | None:
        if ref not in self._brands:
            self.preload([], [ref])
        return self._brands[ref]

    def category_chain(self, category_id: str) -> tuple[str, ...]:
        """Ancestors and the category (loaded by :meth:`preload`), root first."""
        category = self.category(category_id)
        if category is None:
            raise KeyError(category_id)
        return category.chain_ids

    def has_fulfiller(self, fulfiller_id: str) -> bool:
        if fulfiller_id not in self._fulfillers:
            self.preload([], [], [fulfiller_id])
        return fulfiller_id in self._fulfillers

    def attributes(self, category: Category) -> dict[str, AttributeDef]:
        """The declarations in force: the category's and its ancestors'."""
        if category.id not in self._attributes:
            self._load_ancestors(set(category.ancestor_ids) - set(self._ancestors))
            chain = [self._ancestors[a].attributes for a in category.ancestor_ids]
            self._attributes[category.id] = merge_definitions([*chain, category.attributes])
        return self._attributes[category.id]

    def _load_ancestors(self, ids: set[str]) -> None:
        if self._cache is None:
            self._ancestors.update(store.categories_by_ids(self._conn, ids))
        else:
            self._ancestors.update((c.id, c) for c in self._cache.load(self._conn, ids))


class IdSupply:
    """New ids minted a batch at a time: a bulk write of a thousand products makes five
    thousand ids, and minting each alone costs a lock, a clock read and random bits."""

    def __init__(self, wanted: Mapping[str, int] | None = None) -> None:
        self._pools = {prefix: new_ids(prefix, n) for prefix, n in (wanted or {}).items()}
        self._taken = dict.fromkeys(self._pools, 0)

    def take(self, prefix: str, count: int) -> list[str]:
        """``count`` new ids, from the pool minted for ``prefix`` while it lasts."""
        pool, start = self._pools.get(prefix, []), self._taken.get(prefix, 0)
        ids = pool[start : start + count]
        self._taken[prefix] = start + len(ids)
        if len(ids) < count:
            ids += new_ids(prefix, count - len(ids))
        return ids


@dataclass(frozen=True)
class ProductFields:
    title: str
    description: str
    category_id: str
    brand_id: str | None
    attributes: dict[str, AttributeValue]
    gtin: str | None
    mpn: str | None
    status: ProductStatus


def product_fields(draft: ProductDraft, refs: References) -> ProductFields:
    """Validate the product-level fields of a draft; the values to store, or a 422."""
    title = clean_text(draft.title)
    description = draft.description.strip()
    errors = check_title(title)
    if len(description) > MAX_DESCRIPTION:
        errors.append(FieldError("description", f"At most {MAX_DESCRIPTION} characters"))
    errors += check_gtin(draft.gtin, "gtin")
    if draft.mpn is not None and not 0 < len(draft.mpn.strip()) <= MAX_MPN:
        errors.append(FieldError("mpn", f"1 to {MAX_MPN} characters"))
    category = refs.category(draft.category)
    attributes: dict[str, AttributeValue] = {}
    if category is None:
        errors.append(FieldError("category", "No such category", "unknown_category"))
    else:
        attributes, attr_errors = check_attributes(refs.attributes(category), draft.attributes)
        errors += attr_errors
    brand = refs.brand(draft.brand) if draft.brand is not None else None
    if draft.brand is not None and brand is None:
        errors.append(FieldError("brand", "No such brand", "unknown_brand"))
    if errors or category is None:
        raise ValidationFailed("The product has invalid fields", errors=errors)
    return ProductFields(
        title=title,
        description=description,
        category_id=category.id,
        brand_id=brand.id if brand else None,
        attributes=attributes,
        gtin=draft.gtin,
        mpn=draft.mpn.strip() if draft.mpn else None,
        status=ProductStatus(draft.status),
    )


def build_product(
    draft: ProductDraft,
    refs: References,
    now: datetime,
    currency: str,
    ids: IdSupply | None = None,
) -> tuple[Product, list[Offer]]:
    """A new product with its variants and offers, or a 422 listing every bad field."""
    ids = ids or IdSupply()
    errors: list[FieldError] = []
    fields: ProductFields | None = None
    try:
        fields = product_fields(draft, refs)
    except ValidationFailed as exc:
        errors += exc.errors
    errors += check_rating(draft.rating, "rating")
    if not draft.variants:
        errors.append(FieldError("variants", "At least one variant", "required"))
    skus: set[str] = set()
    for i, v in enumerate(draft.variants):
        errors += check_variant(v, f"variants[{i}]")
        if v.sku in skus:
            errors.append(FieldError(f"variants[{i}].sku", "Repeated", "duplicate"))
        skus.add(v.sku)
    product_id = ids.take("prd", 1)[0]
    variant_ids = ids.take("var", len(draft.variants))
    variants = tuple(
        Variant(vid, product_id, v.sku, dict(v.options), v.gtin, v.weight_g, v.dimensions, i)
        for i, (vid, v) in enumerate(zip(variant_ids, draft.variants, strict=True))
    )
    offers: list[Offer] = []
    product: Product | None = None
    if fields is not None:
        product = Product(
            id=product_id,
            title=fields.title,
            description=fields.description,
            brand_id=fields.brand_id,
            category_id=fields.category_id,
            attributes=fields.attributes,
            gtin=fields.gtin,
            mpn=fields.mpn,
            status=fields.status,
            rating=draft.rating,
            rating_count=draft.rating_count,
            created_at=now,
            updated_at=now,
            variants=variants,
        )
        try:
            offers = build_offers(
                product, draft.offers, refs, now, currency, prefix="offers", ids=ids
            )
        except ValidationFailed as exc:
            errors += exc.errors
    if errors or product is None:
        raise ValidationFailed("The product has invalid fields", errors=errors)
    return product, offers


def build_offers(
    product: Product,
    drafts: Sequence[OfferDraft],
    refs: References,
    now: datetime,
    currency: str,
    prefix: str = "",
    ids: IdSupply | None = None,
) -> list[Offer]:
    """Offers for variants of ``product`` (named by id or SKU); one per fulfiller and variant."""
    offer_ids = iter((ids or IdSupply()).take("ofr", len(drafts)))
    errors: list[FieldError] = []
    offers: list[Offer] = []
    seen: set[tuple[str, str]] = set()
    # a variant by id or SKU; the first one in order wins, as a scan would find it
    by_ref = {ref: v for v in reversed(product.variants) for ref in (v.sku, v.id)}
    for i, d in enumerate(drafts):
        at = f"{prefix}[{i}]." if prefix else ""
        variant = by_ref.get(d.variant)
        shipping = d.shipping or Money(0, d.price.currency)
        problems = [
            replace(e, field=at + e.field)
            for e in check_offer_numbers(d.price, shipping, d.stock, d.delivery_days, currency)
        ]
        if variant is None:
            problems.append(FieldError(f"{at}variant", "No such variant of this product"))
        if not refs.has_fulfiller(d.fulfiller_id):
            problems.append(FieldError(f"{at}fulfiller_id", "No such fulfiller", "unknown"))
        if variant is not None and (variant.id, d.fulfiller_id) in seen:
            problems.append(FieldError(f"{at}fulfiller_id", "Repeated", "duplicate"))
        errors += problems
        if variant is None or problems:
            continue
        seen.add((variant.id, d.fulfiller_id))
        offers.append(
            Offer(
                id=next(offer_ids),
                product_id=product.id,
                variant_id=variant.id,
                fulfiller_id=d.fulfiller_id,
                price=d.price,
                shipping=shipping,
                stock=d.stock,
                delivery_days=d.delivery_days,
                status=d.status,
                created_at=now,
                updated_at=now,
            )
        )
    if errors:
        raise ValidationFailed("The offer has invalid fields", errors=errors)
    return offers
