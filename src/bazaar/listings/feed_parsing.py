"""Reading a seller's feed: JSONL and CSV rows to listing drafts, or errors naming line and field.

No database here: categories are resolved through the ``categories`` callback. Memory stays
constant whatever the file size (one row at a time). A JSONL line is validated by the same
:class:`ListingCreate` as ``POST /api/v1/seller/listings``, and a CSV row is turned into that
shape first, so a feed and the API accept exactly the same listings. The formats are in
docs/listings.md.

CSV columns: ``category`` and ``price`` (decimal, in major units) are required; ``title``,
``currency``, ``brand``, ``gtin``, ``mpn``, ``description``, ``image_urls`` (separated by
spaces or ``|``) and ``attr.<name>`` (typed by the category's declarations) are optional.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from bazaar.catalog.import_runs import RowError
from bazaar.catalog.importing import (
    Source,
    csv_records,
    field_path,
    minor_units,
    read_lines,
    typed_attribute,
)
from bazaar.kernel.errors import FieldError, ValidationFailed
from bazaar.listings.feed_runs import FeedFormat
from bazaar.listings.normalise import ListingDraft
from bazaar.listings.ports import CategoryInfo
from bazaar.listings.schemas import ListingCreate

COLUMNS = (
    "category",
    "title",
    "price",
    "currency",
    "brand",
    "gtin",
    "mpn",
    "description",
    "image_urls",
)
REQUIRED_COLUMNS = ("category", "price")
ATTR_PREFIX = "attr."
_TEXT_COLUMNS = ("title", "brand", "gtin", "mpn", "description")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_URL_SEPARATORS = re.compile(r"[\s|]+")


Categories = Callable[[str], CategoryInfo | None]


@dataclass(frozen=True)
class FeedRow:
    """One listing read from lines ``line``..``last_line``: a draft, or why there is none."""

    line: int
    last_line: int
    draft: ListingDraft | None = None
    errors: tuple[RowError, ...] = ()


def parse_feed(
    source: Source,
    fmt: FeedFormat,
    *,
    seller_id: str,
    currency: str,
    categories: Categories,
    after_line: int = 0,
) -> Iterator[FeedRow]:
    """Every row of ``source`` after line ``after_line`` (an earlier run's checkpoint).

    Raises :class:`UnusableInput` for a CSV header that cannot be used.
    """
    builder = _Builder(seller_id, currency, categories)
    if fmt is FeedFormat.JSONL:
        return _jsonl(source, builder, after_line)
    return _csv(source, builder, after_line)


class _Builder:
    def __init__(self, seller_id: str, currency: str, categories: Categories) -> None:
        self.seller_id = seller_id
        self.currency = currency
        self.categories = categories

    def row(
        self, line: int, last_line: int, body: ListingCreate, column: Callable[[str], str]
    ) -> FeedRow:
        category = self.categories(body.category)
        errors: list[RowError] = []
        if category is None:
            errors.append(RowError(line, column("category"), "No such category", "unknown"))
        if body.price.currency != self.currency:
            reason = f"Listings are priced in {self.currency}"
            errors.append(RowError(line, column("price.currency"), reason, "currency"))
        if errors or category is None:
            return FeedRow(line, last_line, errors=tuple(errors))
        return FeedRow(line, last_line, draft=body.to_draft(self.seller_id, category.id))


def _validation_errors(
    exc: ValidationError, line: int, column: Callable[[str], str]
) -> tuple[RowError, ...]:
    errors: list[RowError] = []
    for err in exc.errors(include_url=False):
        kind = str(err.get("type", "invalid"))
        if kind == "json_invalid":
            message = "Malformed JSON: " + str(err.get("ctx", {}).get("error", err.get("msg")))
            errors.append(RowError(line, "line", message, "malformed"))
        elif kind == "model_type":
            errors.append(RowError(line, "line", "Each line must be a JSON object", "malformed"))
        else:
            message = "Unknown field" if kind == "extra_forbidden" else str(err.get("msg"))
            path = field_path(err.get("loc", ())) or "line"
            errors.append(RowError(line, column(path), message, kind))
    return tuple(errors)


# --- JSONL -----------------------------------------------------------------------------------


def _jsonl(source: Source, builder: _Builder, after_line: int) -> Iterator[FeedRow]:
    def same(path: str) -> str:
        return path

    for line in read_lines(source):
        n = line.number
        if n <= after_line:
            continue
        if line.text is None:
            yield FeedRow(n, n, errors=(RowError(n, "line", line.problem, "malformed"),))
            continue
        if not line.text.strip():
            continue
        try:
            body = ListingCreate.model_validate_json(line.text)
        except ValidationError as exc:
            yield FeedRow(n, n, errors=_validation_errors(exc, n, same))
            continue
        yield builder.row(n, n, body, same)


# --- CSV -------------------------------------------------------------------------------------


def check_header(header: Sequence[str]) -> list[FieldError]:
    """Problems with a CSV header that make the whole file unusable."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, name in enumerate(header):
        if name in seen:
            errors.append(FieldError(f"header[{i}]", f"Column {name!r} appears twice", "duplicate"))
        seen.add(name)
        if name.startswith(ATTR_PREFIX):
            if not _NAME.match(name.removeprefix(ATTR_PREFIX)):
                errors.append(
                    FieldError(f"header[{i}]", f"Bad name in column {name!r}", "unknown_column")
                )
        elif name not in COLUMNS:
            errors.append(FieldError(f"header[{i}]", f"Unknown column {name!r}", "unknown_column"))
    errors += [
        FieldError("header", f"Missing the column {name!r}", "missing_column")
        for name in REQUIRED_COLUMNS
        if name not in seen
    ]
    return errors


def csv_column(path: str) -> str:
    """Where a listing field lives in a CSV row: ``attributes.colour`` -> ``attr.colour``,
    ``price.amount`` -> ``price``, ``image_urls[2]`` -> ``image_urls``."""
    head, _, rest = path.partition(".")
    head = head.split("[", 1)[0]
    if head == "attributes" and rest:
        return ATTR_PREFIX + rest
    if head == "price" and rest == "currency":
        return "currency"
    return head


def _csv(source: Source, builder: _Builder, after_line: int) -> Iterator[FeedRow]:
    _header, records = csv_records(source, check_header)
    for record in records:
        if record.start <= after_line:
            continue  # before the checkpoint
        if record.cells is None:
            error = RowError(record.start, "line", record.problem, "malformed")
            yield FeedRow(record.start, record.end, errors=(error,))
            continue
        yield _csv_row(builder, record.start, record.end, record.cells)


def _csv_row(builder: _Builder, start: int, end: int, row: Mapping[str, str]) -> FeedRow:
    cells = {name: value.strip() for name, value in row.items()}
    body: dict[str, Any] = {"category": cells["category"]}
    for name in _TEXT_COLUMNS:
        if row.get(name, "").strip():
            body[name] = row[name]  # untrimmed: trimming is a fix the seller sees
    currency = cells.get("currency") or builder.currency
    try:
        body["price"] = {
            "amount": minor_units(cells["price"], currency, "price"),
            "currency": currency,
        }
    except ValidationFailed as exc:
        return FeedRow(
            start,
            end,
            errors=tuple(
                RowError(start, csv_column(e.field), e.message, e.code) for e in exc.errors
            ),
        )
    if cells.get("image_urls"):
        body["image_urls"] = [u for u in _URL_SEPARATORS.split(cells["image_urls"]) if u]
    category = builder.categories(cells["category"])
    declared = category.attributes if category is not None else {}
    attributes = {
        name.removeprefix(ATTR_PREFIX): typed_attribute(
            declared.get(name.removeprefix(ATTR_PREFIX)), value
        )
        for name, value in row.items()
        if name.startswith(ATTR_PREFIX) and value.strip()
    }
    if attributes:
        body["attributes"] = attributes
    try:
        parsed = ListingCreate.model_validate(body)
    except ValidationError as exc:
        return FeedRow(start, end, errors=_validation_errors(exc, start, csv_column))
    return builder.row(start, end, parsed, csv_column)
