"""Product files: JSONL lines and CSV rows to product drafts, or errors naming line and field.

The readers take a binary stream and yield one :class:`ParsedProduct` per product, in file
order, holding either a draft or its row errors; memory holds one product's rows at a time.
JSONL lines are validated by the same ``ProductCreate`` schema as ``POST /api/v1/products``,
and CSV rows are turned into that shape first, so the API and the files accept exactly the
same products. The formats are documented in docs/bulk.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError

from bazaar.catalog.attributes import AttributeDef
from bazaar.catalog.drafts import ProductDraft
from bazaar.catalog.import_runs import RowError
from bazaar.catalog.importing import (
    Source,
    csv_records,
    field_path,
    minor_units,
    read_lines,
    typed_attribute,
)
from bazaar.catalog.schemas import ProductCreate
from bazaar.kernel.errors import FieldError, ValidationFailed


@dataclass(frozen=True)
class ParsedProduct:
    """A product as read from lines ``line``..``last_line``: a draft, or why there is none.

    ``variant_lines`` and ``offer_lines`` are the lines each variant and offer came from (CSV
    has a row per variant), so an error the catalog reports on ``variants[1].sku`` points at
    the row that holds it.
    """

    line: int
    last_line: int
    draft: ProductDraft | None = None
    errors: tuple[RowError, ...] = ()
    variant_lines: tuple[int, ...] = ()
    offer_lines: tuple[int, ...] = ()
    csv: bool = False

    def locate(self, error: FieldError) -> RowError:
        """The row error for an error the catalog reported on a field of this product."""
        if not self.csv:
            return RowError(self.line, error.field, error.message, error.code)
        row, column = csv_column(error.field)
        lines = self.offer_lines if error.field.startswith("offers[") else self.variant_lines
        line = lines[row] if row is not None and row < len(lines) else self.line
        return RowError(line, column, error.message, error.code)


# --- JSONL -----------------------------------------------------------------------------------


def parse_jsonl(source: Source, *, after_line: int = 0) -> Iterator[ParsedProduct]:
    """One product per non-blank line, shaped like the body of ``POST /api/v1/products``.

    Lines up to ``after_line`` (an earlier run's checkpoint) are skipped without parsing.
    """
    for line in read_lines(source):
        if line.number <= after_line:
            continue
        n = line.number
        if line.text is None:
            yield ParsedProduct(n, n, errors=(RowError(n, "line", line.problem, "malformed"),))
            continue
        if not line.text.strip():
            continue
        try:
            body = ProductCreate.model_validate_json(line.text)
        except ValidationError as exc:
            yield ParsedProduct(n, n, errors=tuple(_row_errors(exc, n)))
            continue
        yield ParsedProduct(n, n, draft=body.to_draft())


def _row_errors(exc: ValidationError, line: int, csv_rows: bool = False) -> list[RowError]:
    errors: list[RowError] = []
    for err in exc.errors(include_url=False):
        kind = str(err.get("type", "invalid"))
        if kind == "json_invalid":
            message = "Malformed JSON: " + str(err.get("ctx", {}).get("error", err.get("msg")))
            errors.append(RowError(line, "line", message, "malformed"))
            continue
        if kind == "model_type":
            errors.append(RowError(line, "line", "Each line must be a JSON object", "malformed"))
            continue
        message = "Unknown field" if kind == "extra_forbidden" else str(err.get("msg", "Invalid"))
        errors.append(RowError(line, field_path(err.get("loc", ())) or "line", message, kind))
    return errors


# --- CSV -------------------------------------------------------------------------------------

PRODUCT_COLUMNS = (
    "product_key",
    "handle",
    "title",
    "description",
    "category",
    "brand",
    "gtin",
    "mpn",
    "status",
    "rating",
    "rating_count",
)
VARIANT_COLUMNS = ("sku", "variant_gtin", "weight_g", "length_mm", "width_mm", "height_mm")
OFFER_COLUMNS = (
    "price",
    "currency",
    "shipping",
    "stock",
    "delivery_days",
    "fulfiller_id",
    "offer_status",
)
REQUIRED_COLUMNS = ("title", "category", "sku")
ATTR_PREFIX = "attr."
OPTION_PREFIX = "option."
_KNOWN = frozenset(PRODUCT_COLUMNS + VARIANT_COLUMNS + OFFER_COLUMNS)
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

# catalog field -> CSV column, for the fields whose names differ
_VARIANT_FIELDS = {"gtin": "variant_gtin", "dimensions": "length_mm"}
_OFFER_FIELDS = {"variant": "sku", "status": "offer_status"}

AttributeTypes = Callable[[str], Mapping[str, AttributeDef] | None]


def check_header(header: Sequence[str]) -> list[FieldError]:
    """Problems with a CSV header that make the whole file unusable."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, raw in enumerate(header):
        name = raw.strip()
        if name in seen:
            errors.append(FieldError(f"header[{i}]", f"Column {name!r} appears twice", "duplicate"))
        seen.add(name)
        prefixed = next((p for p in (ATTR_PREFIX, OPTION_PREFIX) if name.startswith(p)), None)
        if prefixed is not None:
            if not _NAME.match(name.removeprefix(prefixed)):
                errors.append(
                    FieldError(f"header[{i}]", f"Bad name in column {name!r}", "unknown_column")
                )
        elif name not in _KNOWN:
            errors.append(FieldError(f"header[{i}]", f"Unknown column {name!r}", "unknown_column"))
    errors += [
        FieldError("header", f"Missing the column {name!r}", "missing_column")
        for name in REQUIRED_COLUMNS
        if name not in seen
    ]
    return errors


def csv_column(path: str) -> tuple[int | None, str]:
    """Where a catalog field lives in a CSV file: (variant or offer index, column name).

    ``variants[1].options.size`` -> ``(1, "option.size")``; ``offers[0].price.amount`` ->
    ``(0, "price")``; ``attributes.color`` -> ``(None, "attr.color")``.
    """
    match = re.match(r"^(variants|offers)\[(\d+)\]\.?([a-z_]*)\.?([^.]*)", path)
    if match is None:
        head, _, rest = path.partition(".")
        if head == "attributes" and rest:
            return None, ATTR_PREFIX + rest
        return None, "sku" if head.startswith("variants") else head
    group, index, name, sub = match.groups()
    if group == "variants":
        if name == "options" and sub:
            return int(index), OPTION_PREFIX + sub
        if name == "dimensions" and sub:
            return int(index), sub
        return int(index), _VARIANT_FIELDS.get(name, name or "sku")
    return int(index), _OFFER_FIELDS.get(name, name or "price")


def parse_csv(
    source: Source,
    *,
    currency: str,
    attribute_types: AttributeTypes,
    after_line: int = 0,
) -> Iterator[ParsedProduct]:
    """One row per variant; rows of one product are adjacent and share a key.

    The key is ``product_key`` when that column exists, else ``handle`` (as Shopify exports
    do); without either every row is a product of its own. Product columns are read from a
    product's first row. ``attr.<name>`` cells are typed by the category's declarations
    (``attribute_types``), prices are decimal major units in ``currency`` unless the row has a
    ``currency`` column. Raises :class:`UnusableInput` for a bad header.
    """
    header, records = csv_records(source, check_header)
    key_column = "product_key" if "product_key" in header else "handle"
    grouped = key_column in header
    builder = _CsvProduct(header, currency, attribute_types)
    rows: list[tuple[int, int, dict[str, str]]] = []  # the product being read: first, last line
    key: str | None = None

    def flush() -> Iterator[ParsedProduct]:
        nonlocal rows
        if rows and rows[0][0] > after_line:
            yield builder.build(rows)
        rows = []

    for record in records:
        if record.cells is None:
            yield from flush()
            key = None
            if record.start > after_line:
                error = RowError(record.start, "line", record.problem, "malformed")
                yield ParsedProduct(record.start, record.end, errors=(error,), csv=True)
            continue
        row = record.cells
        row_key = row[key_column].strip() if grouped else None
        if not grouped or not row_key or row_key != key:
            yield from flush()
        key = row_key
        rows.append((record.start, record.end, row))
    yield from flush()


class _CsvProduct:
    """Turns the rows of one product into the ``ProductCreate`` shape, then into a draft."""

    def __init__(self, header: Sequence[str], currency: str, types: AttributeTypes) -> None:
        self._attrs = [h for h in header if h.startswith(ATTR_PREFIX)]
        self._options = [h for h in header if h.startswith(OPTION_PREFIX)]
        self._currency = currency
        self._types = types

    def build(self, rows: list[tuple[int, int, dict[str, str]]]) -> ParsedProduct:
        first_line, _, first = rows[0]
        errors: list[RowError] = []
        body: dict[str, Any] = {}
        for name in PRODUCT_COLUMNS[2:]:
            value = first.get(name, "").strip()
            if value:
                body[name] = value
        declared = self._types(body.get("category", "")) or {}
        attributes: dict[str, Any] = {}
        for column in self._attrs:
            value = first[column].strip()
            if value:
                name = column.removeprefix(ATTR_PREFIX)
                attributes[name] = typed_attribute(declared.get(name), value)
        if attributes:
            body["attributes"] = attributes
        variants: list[dict[str, Any]] = []
        offers: list[dict[str, Any]] = []
        variant_lines: list[int] = []
        offer_lines: list[int] = []
        skus: set[str] = set()
        for line, _, row in rows:
            sku = row["sku"].strip()
            if sku not in skus:  # a repeated sku is one more offer of that variant
                skus.add(sku)
                variants.append(self._variant(row))
                variant_lines.append(line)
            try:
                offer = self._offer(row)
            except ValidationFailed as exc:
                errors += [RowError(line, e.field, e.message, e.code) for e in exc.errors]
                continue
            if offer is not None:
                offers.append(offer)
                offer_lines.append(line)
        body["variants"] = variants
        body["offers"] = offers
        parsed = ParsedProduct(
            first_line,
            rows[-1][1],
            variant_lines=tuple(variant_lines),
            offer_lines=tuple(offer_lines),
            csv=True,
        )
        try:
            draft = ProductCreate.model_validate(body).to_draft()
        except ValidationError as exc:
            errors += [
                parsed.locate(FieldError(e.field, e.reason, e.code))
                for e in _row_errors(exc, first_line)
            ]
            draft = None
        if errors:
            return replace(parsed, errors=tuple(errors))
        return replace(parsed, draft=draft)

    def _variant(self, row: Mapping[str, str]) -> dict[str, Any]:
        variant: dict[str, Any] = {"sku": row["sku"].strip()}
        options = {
            c.removeprefix(OPTION_PREFIX): row[c].strip() for c in self._options if row[c].strip()
        }
        if options:
            variant["options"] = options
        for column, key in (("variant_gtin", "gtin"), ("weight_g", "weight_g")):
            if value := row.get(column, "").strip():
                variant[key] = value
        dims = {c: row.get(c, "").strip() for c in ("length_mm", "width_mm", "height_mm")}
        if any(dims.values()):
            variant["dimensions"] = {k: v or None for k, v in dims.items()}
        return variant

    def _offer(self, row: Mapping[str, str]) -> dict[str, Any] | None:
        cells = {c: row.get(c, "").strip() for c in OFFER_COLUMNS}
        if not cells["price"]:
            given = [c for c, v in cells.items() if v and c != "currency"]
            if given:
                raise ValidationFailed.on("price", f"Required when {given[0]} is given", "required")
            return None
        currency = cells["currency"] or self._currency
        offer: dict[str, Any] = {
            "variant": row["sku"].strip(),
            "price": {
                "amount": minor_units(cells["price"], currency, "price"),
                "currency": currency,
            },
        }
        if cells["shipping"]:
            amount = minor_units(cells["shipping"], currency, "shipping")
            offer["shipping"] = {"amount": amount, "currency": currency}
        for column, key in (
            ("stock", "stock"),
            ("delivery_days", "delivery_days"),
            ("fulfiller_id", "fulfiller_id"),
            ("offer_status", "status"),
        ):
            if cells[column]:
                offer[key] = cells[column]
        return offer
