"""Writing a batch of new products: their uniqueness check, their rows and their events.

:meth:`CatalogService.create_products` runs these in one transaction; a bulk import calls it
once per batch, so each is a fixed number of statements whatever the batch size.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import Connection

from bazaar.catalog import product_store, store
from bazaar.catalog.events import OfferLine, ProductCreated
from bazaar.catalog.model import Offer, Product, VariantDraft
from bazaar.infra.bulk_insert import insert_rows
from bazaar.kernel.errors import FieldError


def find_duplicates(
    conn: Connection, variant_sets: Sequence[Sequence[VariantDraft]], multi: bool
) -> list[FieldError]:
    """SKUs and GTINs already taken, in the catalog or by an earlier product of the batch.

    One query each for the whole batch; ``variant_sets`` holds each product's variants.
    Errors are numbered ``[i].variants[j]`` when ``multi``, ``variants[j]`` otherwise.
    """
    taken_skus = product_store.existing_skus(conn, [v.sku for vs in variant_sets for v in vs])
    taken_gtins = product_store.existing_gtins(
        conn, [v.gtin for vs in variant_sets for v in vs if v.gtin]
    )
    errors: list[FieldError] = []
    seen_elsewhere: set[str] = set()  # skus of earlier products in the batch
    for i, variants in enumerate(variant_sets):
        prefix = f"[{i}]." if multi else ""
        for j, v in enumerate(variants):
            if v.sku in taken_skus or v.sku in seen_elsewhere:
                errors.append(
                    FieldError(f"{prefix}variants[{j}].sku", "Already in use", "duplicate")
                )
            if v.gtin and v.gtin in taken_gtins:
                errors.append(
                    FieldError(f"{prefix}variants[{j}].gtin", "Already in use", "duplicate")
                )
        seen_elsewhere.update(v.sku for v in variants)
    return errors


def insert_built(conn: Connection, built: Sequence[tuple[Product, list[Offer]]]) -> None:
    """Products, variants and offers in three statements, straight through the driver."""
    insert_rows(conn, store.products, [product_store.product_values(p) for p, _ in built])
    insert_rows(
        conn,
        store.variants,
        [product_store.variant_values(v) for p, _ in built for v in p.variants],
    )
    insert_rows(conn, store.offers, [product_store.offer_values(o) for _, os in built for o in os])


def product_created(product: Product, offers: Sequence[Offer]) -> ProductCreated:
    """The event of a new product, its first offers included: a bulk import writes one outbox
    row per product, not one per offer as well."""
    return ProductCreated(
        product_id=product.id,
        title=product.title,
        category_id=product.category_id,
        brand_id=product.brand_id,
        status=product.status.value,
        skus=tuple(v.sku for v in product.variants),
        offers=tuple(OfferLine.of(o) for o in offers),
    )
