"""Reading bulk files: numbered lines and CSV records, whatever the rows describe.

No database here: the readers take a binary stream and yield one line or record at a time, so
memory stays constant whatever the file size (one line is at most ``MAX_LINE_BYTES``). Product
imports (:mod:`bazaar.catalog.product_files`) and seller feeds (``bazaar.listings``) both read
their files with these, and convert cells with :func:`minor_units` and :func:`typed_attribute`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Protocol

from bazaar.catalog.attributes import AttributeDef, AttributeType
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


def field_path(loc: Sequence[int | str]) -> str:
    """A pydantic location as the catalog names fields: ``variants[0].sku``."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


# --- CSV records ---------------------------------------------------------------------------

_INTEGER = re.compile(r"^[+-]?\d+$")
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})


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
