"""Reading product files: JSONL and CSV rows to product drafts, or errors naming line and field.

No database and no files opened here: the readers take a binary stream and yield one
:class:`ParsedProduct` per product, in file order, holding either a draft or its row errors.
Memory stays constant whatever the file size: one line (at most ``MAX_LINE_BYTES``) and one
product's rows at a time. JSONL lines are validated by the same ``ProductCreate`` schema as
``POST /api/v1/products``, and CSV rows are turned into that shape first, so the API and the
files accept exactly the same products. The formats are documented in docs/bulk.md.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from pydantic import ValidationError

from bazaar.catalog.attributes import AttributeDef, AttributeType
from bazaar.catalog.drafts import ProductDraft
from bazaar.catalog.import_runs import RowError
from bazaar.catalog.schemas import ProductCreate
from bazaar.infra import collector
from bazaar.kernel.errors import FieldError, ValidationFailed
from bazaar.kernel.money import exponent

MAX_LINE_BYTES = 1_048_576  # longer lines are row errors, and are skipped without being held
_SKIP_CHUNK = 65_536
_BOM = b"\xef\xbb\xbf"


class Source(Protocol):
    """A binary stream read line by line (an open file, ``io.BytesIO``)."""

    def readline(self, size: int = -1, /) -> bytes: ...


class UnusableInput(ValidationFailed):
    """The file as a whole cannot be read (missing or unknown CSV columns): nothing is imported."""

    code = "unusable_input"
    title = "Unusable input"


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


# --- lines -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    number: int
    text: str | None  # None when the line cannot be used; ``problem`` says why
    problem: str = ""


def read_lines(source: Source, max_bytes: int = MAX_LINE_BYTES) -> Iterator[Line]:
    """Decoded lines (newline kept) numbered from 1; too long or non-UTF-8 lines are flagged."""
    number = 0
    while True:
        raw = source.readline(max_bytes + 1)
        if not raw:
            return
        number += 1
        if number == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM) :]
        if len(raw) > max_bytes and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):  # drop the rest of the line unread
                raw = source.readline(_SKIP_CHUNK)
            yield Line(number, None, f"Longer than {max_bytes} bytes")
            continue
        try:
            yield Line(number, raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            yield Line(number, None, f"Not valid UTF-8 (byte {exc.start + 1})")


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


def field_path(loc: Sequence[int | str]) -> str:
    """A pydantic location as the catalog names fields: ``variants[0].sku``."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


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
_INTEGER = re.compile(r"^[+-]?\d+$")
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})

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


@dataclass(frozen=True)
class CsvRecord:
    """One CSV record spanning lines ``start``..``end``: its cells by header name, or None
    and the ``problem`` when the record is malformed (bad quoting, wrong column count, an
    unreadable line)."""

    start: int
    end: int
    cells: dict[str, str] | None
    problem: str = ""


def csv_records(
    source: Source, check: Callable[[Sequence[str]], list[FieldError]]
) -> tuple[list[str], Iterator[CsvRecord]]:
    """The header (checked with ``check``) and the records after it, blank lines skipped.

    Raises :class:`UnusableInput` for an empty file or a header that is unreadable or that
    ``check`` refuses. Line numbers count physical lines, so a quoted cell spanning lines
    gives its record a range.
    """
    lines = read_lines(source)
    problems: dict[int, str] = {}

    def texts() -> Iterator[str]:
        for line in lines:
            if line.text is None:
                problems[line.number] = line.problem
                yield "\n"
            else:
                yield line.text

    reader = csv.reader(texts(), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise UnusableInput("The file is empty; a CSV file starts with its header") from None
    except csv.Error as exc:
        raise UnusableInput(f"The header is not valid CSV: {exc}") from None
    if 1 in problems:
        raise UnusableInput(f"The header line cannot be read: {problems[1]}")
    if errors := check(header):
        raise UnusableInput("The CSV header is not usable", errors=errors)

    def records() -> Iterator[CsvRecord]:
        end = 1
        while True:
            start = end + 1
            try:
                cells = next(reader)
                reason = ""
            except StopIteration:
                return
            except csv.Error as exc:
                cells, reason = [], f"Malformed CSV: {exc}"
            end = reader.line_num
            spanned = [problems.pop(n) for n in range(start, end + 1) if n in problems]
            if not reason and not cells and not spanned:
                continue  # a blank line
            if not reason and (spanned or len(cells) != len(header)):
                reason = (
                    spanned[0] if spanned else f"Expected {len(header)} columns, found {len(cells)}"
                )
            if reason:
                yield CsvRecord(start, end, None, reason)
            else:
                yield CsvRecord(start, end, dict(zip(header, cells, strict=True)))

    return header, records()


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


def minor_units(text: str, currency: str, field_name: str) -> int:
    """``"19.99"`` EUR -> ``1999``: exact decimal arithmetic, never a float.

    More decimals than the currency has (``"1.999"`` EUR) is an error, not a rounding.
    """
    try:
        digits = exponent(currency)
    except ValidationFailed:
        raise ValidationFailed.on("currency", f"Unknown currency {currency!r}") from None
    try:
        value = Decimal(text.replace("_", "x"))  # Decimal("1_000") is valid Python, not a price
    except InvalidOperation:
        raise ValidationFailed.on(field_name, f"Not a decimal amount: {text!r}") from None
    if not value.is_finite():
        raise ValidationFailed.on(field_name, f"Not a decimal amount: {text!r}")
    scaled = value.scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise ValidationFailed.on(
            field_name, f"At most {digits} decimals in {currency}", "too_precise"
        )
    return int(scaled)


def typed_attribute(definition: AttributeDef | None, text: str) -> object:
    """A CSV cell as the type its declaration wants; left as text when it does not parse.

    Text that does not parse is passed on unchanged so the catalog reports it the same way
    for files and the API ("Must be a number").
    """
    if definition is None:
        return text
    if definition.type is AttributeType.NUMBER:
        if _INTEGER.match(text):
            return int(text)
        try:
            number = Decimal(text)
        except InvalidOperation:
            return text
        return float(number) if number.is_finite() else text
    if definition.type is AttributeType.BOOLEAN:
        lowered = text.lower()
        return True if lowered in _TRUE else False if lowered in _FALSE else text
    return text


# --- batches ---------------------------------------------------------------------------------


@dataclass
class Batch:
    """Consecutive products, written all-or-nothing."""

    items: list[ParsedProduct] = field(default_factory=list)

    @property
    def first_line(self) -> int:
        return self.items[0].line

    @property
    def last_line(self) -> int:
        return max(item.last_line for item in self.items)

    @property
    def drafts(self) -> list[ProductDraft]:
        return [item.draft for item in self.items if item.draft is not None]

    @property
    def parse_errors(self) -> list[RowError]:
        return [e for item in self.items for e in item.errors]


def batches(products: Iterable[ParsedProduct], size: int) -> Iterator[Batch]:
    """Group products into batches of ``size`` (a product with errors counts as one)."""
    iterator = iter(products)
    while True:
        with collector.paused():  # parsing a batch frees it all by reference counting
            items = list(itertools.islice(iterator, size))
        if not items:
            return
        yield Batch(items)


def locate_errors(batch: Batch, errors: Sequence[FieldError]) -> tuple[list[RowError], int]:
    """Turn the catalog's ``[i].field`` errors for ``batch.drafts`` into row errors.

    Returns the row errors and how many products they fall on.
    """
    valid = [item for item in batch.items if item.draft is not None]
    located: list[RowError] = []
    failed: set[int] = set()
    for error in errors:
        match = re.match(r"^\[(\d+)\]\.?(.*)$", error.field)
        if match is not None:
            index, rest = int(match.group(1)), match.group(2)
        elif len(valid) == 1:
            index, rest = 0, error.field
        else:  # a batch-wide error: blame the first product
            index, rest = 0, error.field
        item = valid[min(index, len(valid) - 1)]
        failed.add(min(index, len(valid) - 1))
        located.append(item.locate(FieldError(rest or "product", error.message, error.code)))
    return located, len(failed)
