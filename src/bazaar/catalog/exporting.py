"""Writing the catalog out as JSONL or CSV, in the same shapes the importer reads.

Products are read in id order by keyset, a page at a time (a fixed number of queries per
page), so memory stays flat however big the catalog is. An export imports back into a store
that has the same categories, brands and fulfillers.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import IO, Any

from bazaar.catalog import product_store, store
from bazaar.catalog.import_runs import Format
from bazaar.catalog.model import Brand, Category, Offer, Product, ProductStatus, Variant
from bazaar.catalog.product_files import (
    ATTR_PREFIX,
    OFFER_COLUMNS,
    OPTION_PREFIX,
    PRODUCT_COLUMNS,
    VARIANT_COLUMNS,
)
from bazaar.infra.db import Database
from bazaar.kernel.money import exponent

PAGE_SIZE = 500
Record = dict[str, Any]
Tick = Callable[[int], None] | None  # called with the number of products written so far


def product_record(
    product: Product, offers: Sequence[Offer], category: Category, brand: Brand | None
) -> Record:
    """A product as one JSONL line: the body ``POST /api/v1/products`` would accept."""
    skus = {v.id: v.sku for v in product.variants}
    record: Record = {"title": product.title}
    if product.description:
        record["description"] = product.description
    record["category"] = category.path
    if brand is not None:
        record["brand"] = brand.slug
    if product.attributes:
        record["attributes"] = dict(product.attributes)
    for name in ("gtin", "mpn"):
        if (value := getattr(product, name)) is not None:
            record[name] = value
    record["status"] = product.status.value
    record["variants"] = [_variant(v) for v in product.variants]
    record["offers"] = [
        {
            "variant": skus[o.variant_id],
            "price": o.price.to_dict(),
            "shipping": o.shipping.to_dict(),
            "stock": o.stock,
            "delivery_days": o.delivery_days,
            "fulfiller_id": o.fulfiller_id,
            "status": o.status.value,
        }
        for o in offers
    ]
    if product.rating is not None:
        record["rating"] = float(Decimal(product.rating) / 10)
    if product.rating_count:
        record["rating_count"] = product.rating_count
    return record


def _variant(v: Variant) -> Record:
    out: Record = {"sku": v.sku}
    if v.options:
        out["options"] = dict(v.options)
    if v.gtin is not None:
        out["gtin"] = v.gtin
    if v.weight_g is not None:
        out["weight_g"] = v.weight_g
    if v.dimensions is not None:
        d = v.dimensions
        out["dimensions"] = {
            "length_mm": d.length_mm,
            "width_mm": d.width_mm,
            "height_mm": d.height_mm,
        }
    return out


def iter_records(
    db: Database, statuses: Sequence[ProductStatus], page_size: int = PAGE_SIZE
) -> Iterator[tuple[str, Record]]:
    """Every product with one of ``statuses`` as ``(product id, record)``, in id order."""
    after: str | None = None
    while True:
        with db.read() as conn:
            ids = product_store.product_ids_page(
                conn, statuses=statuses, after_id=after, limit=page_size
            )
            if not ids:
                return
            products = product_store.products_by_ids(conn, ids)
            offers = product_store.offers_for_products(conn, ids)
            categories = store.categories_by_ids(conn, {p.category_id for p in products.values()})
            brands = store.brands_by_ids(
                conn, {p.brand_id for p in products.values() if p.brand_id}
            )
        for pid in ids:
            product = products.get(pid)
            if product is None:  # deleted between the two queries
                continue
            brand = brands.get(product.brand_id) if product.brand_id else None
            category = categories[product.category_id]
            yield pid, product_record(product, offers.get(pid, []), category, brand)
        after = ids[-1]


def write_jsonl(records: Iterator[tuple[str, Record]], out: IO[bytes], tick: Tick = None) -> int:
    count = 0
    for _, record in records:
        out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
        count += 1
        if tick is not None:
            tick(count)
    return count


def major_units(money: Mapping[str, Any]) -> str:
    """``{"amount": 1999, "currency": "EUR"}`` -> ``"19.99"``, exactly."""
    digits = exponent(money["currency"])
    return f"{Decimal(money['amount']).scaleb(-digits):.{digits}f}"


def csv_rows(handle: str, record: Record) -> Iterator[dict[str, str]]:
    """A product record as CSV rows: one per variant, plus one per extra offer of a variant."""
    product: dict[str, str] = {"handle": handle}
    for name in PRODUCT_COLUMNS[2:]:
        if name in record:
            product[name] = str(record[name])
    for name, value in record.get("attributes", {}).items():
        product[ATTR_PREFIX + name] = _cell(value)
    offers_by_sku: dict[str, list[Record]] = {}
    for offer in record["offers"]:
        offers_by_sku.setdefault(offer["variant"], []).append(offer)
    first = True
    for variant in record["variants"]:
        row = dict(product) if first else {"handle": handle}
        first = False
        row["sku"] = variant["sku"]
        for name, value in variant.get("options", {}).items():
            row[OPTION_PREFIX + name] = value
        if "gtin" in variant:
            row["variant_gtin"] = variant["gtin"]
        if "weight_g" in variant:
            row["weight_g"] = str(variant["weight_g"])
        for name, value in variant.get("dimensions", {}).items():
            row[name] = str(value)
        offers = offers_by_sku.get(variant["sku"], [])
        yield {**row, **_offer_cells(offers[0])} if offers else row
        for offer in offers[1:]:  # further offers of the variant: the sku again
            yield {"handle": handle, "sku": variant["sku"], **_offer_cells(offer)}


def _offer_cells(offer: Record) -> dict[str, str]:
    return {
        "price": major_units(offer["price"]),
        "currency": offer["price"]["currency"],
        "shipping": major_units(offer["shipping"]),
        "stock": str(offer["stock"]),
        "delivery_days": str(offer["delivery_days"]),
        "fulfiller_id": offer["fulfiller_id"],
        "offer_status": offer["status"],
    }


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_csv(records: Iterator[tuple[str, Record]], out: IO[bytes], tick: Tick = None) -> int:
    """Write CSV; the rows go to a temporary file first because the header (which ``attr.`` and
    ``option.`` columns exist) is only known once every product has been seen."""
    extra: dict[str, None] = {}  # insertion-ordered set of attr./option. columns
    count = 0
    with tempfile.TemporaryFile() as spool:
        for handle, record in records:
            for row in csv_rows(handle, record):
                for column in row:
                    if column.startswith((ATTR_PREFIX, OPTION_PREFIX)):
                        extra.setdefault(column)
                spool.write(json.dumps(row, ensure_ascii=False).encode() + b"\n")
            count += 1
            if tick is not None:
                tick(count)
        attrs = sorted(c for c in extra if c.startswith(ATTR_PREFIX))
        options = sorted(c for c in extra if c.startswith(OPTION_PREFIX))
        header = [
            *PRODUCT_COLUMNS[1:],
            *attrs,
            VARIANT_COLUMNS[0],
            *options,
            *VARIANT_COLUMNS[1:],
            *OFFER_COLUMNS,
        ]
        text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        try:
            writer = csv.DictWriter(text, fieldnames=header, lineterminator="\n")
            writer.writeheader()
            spool.seek(0)
            for line in spool:
                writer.writerow(json.loads(line))
        finally:
            text.detach()  # leave ``out`` open for the caller
    return count


def write_export(
    db: Database,
    out: IO[bytes],
    fmt: Format,
    statuses: Sequence[ProductStatus],
    tick: Tick = None,
) -> int:
    """Write every product with one of ``statuses`` to ``out``; return how many."""
    records = iter_records(db, statuses)
    if fmt is Format.CSV:
        return write_csv(records, out, tick)
    return write_jsonl(records, out, tick)
