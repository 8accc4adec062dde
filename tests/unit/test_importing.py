"""Reading product files: JSONL and CSV to drafts or row errors, without a database."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

import pytest

from bazaar.catalog.attributes import AttributeDef, AttributeType
from bazaar.catalog.import_batches import Batch, batches, locate_errors
from bazaar.catalog.import_runs import RowError
from bazaar.catalog.importing import UnusableInput, minor_units, read_lines
from bazaar.catalog.product_files import ParsedProduct, csv_column, parse_csv, parse_jsonl
from bazaar.kernel.errors import FieldError, ValidationFailed
from bazaar.kernel.money import Money

DECLARED = {
    "weight": AttributeDef("weight", AttributeType.NUMBER, unit="g"),
    "organic": AttributeDef("organic", AttributeType.BOOLEAN),
    "fit": AttributeDef("fit", AttributeType.ENUM, values=("slim", "regular")),
}


def declarations(ref: str) -> Mapping[str, AttributeDef] | None:
    return DECLARED if ref == "apparel/t-shirts" else None


def product_line(sku: str, **fields: Any) -> str:
    body: dict[str, Any] = {
        "title": f"Tee {sku}",
        "category": "apparel/t-shirts",
        "variants": [{"sku": sku}],
        "offers": [{"variant": sku, "price": {"amount": 1999, "currency": "EUR"}}],
    }
    body.update(fields)
    return json.dumps(body)


def jsonl(*lines: str | bytes) -> list[ParsedProduct]:
    data = b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines)
    return list(parse_jsonl(io.BytesIO(data)))


def csv_file(text: str, **kwargs: Any) -> list[ParsedProduct]:
    source = io.BytesIO(text.encode())
    return list(parse_csv(source, currency="EUR", attribute_types=declarations, **kwargs))


# --- JSONL -----------------------------------------------------------------------------------


def test_jsonl_lines_become_drafts_numbered_by_line() -> None:
    # given two products around a blank line
    parsed = jsonl(product_line("A-1"), "", product_line("B-1", attributes={"weight": 180}))

    # then each is a draft carrying its own line number; the blank line is ignored
    assert [(p.line, p.draft is not None) for p in parsed] == [(1, True), (3, True)]
    draft = parsed[1].draft
    assert draft is not None
    assert draft.attributes == {"weight": 180}
    assert draft.offers[0].price == Money(1999, "EUR")


def test_malformed_jsonl_lines_are_row_errors_not_crashes() -> None:
    # given bad JSON, a JSON array, a line that is not UTF-8, and an unknown field
    parsed = jsonl(
        "{bad json",
        "[1, 2]",
        b"\xff\xfe{}",
        product_line("C-1", colour="red"),
        product_line("D-1"),
    )

    # then each bad line has its error, and the good line after them still parses
    errors = [e for p in parsed for e in p.errors]
    assert [(e.line, e.field, e.code) for e in errors] == [
        (1, "line", "malformed"),
        (2, "line", "malformed"),
        (3, "line", "malformed"),
        (4, "colour", "extra_forbidden"),
    ]
    assert errors[0].reason.startswith("Malformed JSON")
    assert "UTF-8" in errors[2].reason
    assert parsed[-1].draft is not None


def test_jsonl_field_errors_name_the_field_path_like_the_catalog() -> None:
    parsed = jsonl(product_line("E-1", variants=[{"sku": "E-1", "weight_g": "heavy"}]))

    assert [(e.line, e.field) for e in parsed[0].errors] == [(1, "variants[0].weight_g")]


def test_a_huge_line_is_skipped_without_being_held_in_memory() -> None:
    # given a line far longer than the limit between two good ones
    huge = '{"title": "' + "x" * 5000 + '"}'
    source = io.BytesIO(f"{product_line('A-1')}\n{huge}\n{product_line('B-1')}\n".encode())

    # when read with a 1 KiB limit
    lines = list(read_lines(source, max_bytes=1024))

    # then the long line is flagged and the next line is read whole
    assert [(line.number, line.text is None) for line in lines] == [
        (1, False),
        (2, True),
        (3, False),
    ]
    assert "Longer than 1024 bytes" in lines[1].problem
    assert json.loads(lines[2].text or "")["variants"][0]["sku"] == "B-1"


def test_jsonl_resumes_after_a_checkpoint_line() -> None:
    parsed = list(
        parse_jsonl(
            io.BytesIO("\n".join(product_line(f"S-{i}") for i in range(5)).encode()),
            after_line=3,
        )
    )

    assert [p.line for p in parsed] == [4, 5]


# --- CSV -------------------------------------------------------------------------------------

HEADER = "handle,title,category,attr.weight,attr.organic,sku,option.size,price,currency,stock\n"


def test_csv_rows_with_the_same_handle_are_one_product_with_variants() -> None:
    parsed = csv_file(
        HEADER + "tee,Tee,apparel/t-shirts,180,yes,TEE-S,S,19.99,,5\n"
        "tee,,,,,TEE-M,M,21.50,,3\n"
        "mug,Mug,kitchen,,,MUG-1,,7,,1\n"
    )

    assert [(p.line, p.last_line) for p in parsed] == [(2, 3), (4, 4)]
    tee = parsed[0].draft
    assert tee is not None
    assert [v.sku for v in tee.variants] == ["TEE-S", "TEE-M"]
    assert [dict(v.options) for v in tee.variants] == [{"size": "S"}, {"size": "M"}]
    assert [o.price for o in tee.offers] == [Money(1999, "EUR"), Money(2150, "EUR")]
    assert [o.stock for o in tee.offers] == [5, 3]


def test_csv_attribute_cells_are_typed_by_the_category_declarations() -> None:
    parsed = csv_file(
        "title,category,attr.weight,attr.organic,attr.fit,sku\n"
        "Tee,apparel/t-shirts,180,no,slim,T-1\n"
        "Tee,apparel/t-shirts,1.5,TRUE,,T-2\n"
        "Tee,apparel/t-shirts,heavy,maybe,,T-3\n"
        "Mug,unknown/category,12,yes,,M-1\n"
    )

    attributes = [dict(p.draft.attributes) for p in parsed if p.draft is not None]
    assert attributes == [
        {"weight": 180, "organic": False, "fit": "slim"},
        {"weight": 1.5, "organic": True},
        # text that does not parse is left for the catalog to report, as the API would
        {"weight": "heavy", "organic": "maybe"},
        # without declarations (unknown category) cells stay text
        {"weight": "12", "organic": "yes"},
    ]


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("19.99", "EUR", 1999),
        ("0.1", "EUR", 10),
        ("1000", "EUR", 100000),
        ("12345678.91", "EUR", 1234567891),
        ("500", "JPY", 500),
        ("1.234", "KWD", 1234),
        ("-1.00", "EUR", -100),
    ],
)
def test_prices_are_converted_to_minor_units_exactly(text: str, currency: str, minor: int) -> None:
    assert minor_units(text, currency, "price") == minor


@pytest.mark.parametrize("text", ["19.999", "1.5e-3", "abc", "NaN", "Infinity", "1_000"])
def test_prices_that_need_rounding_or_are_not_numbers_are_refused(text: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        minor_units(text, "EUR", "price")
    assert raised.value.errors[0].field == "price"


def test_csv_row_errors_name_the_line_and_the_column() -> None:
    parsed = csv_file(
        HEADER + "tee,Tee,apparel/t-shirts,,,TEE-S,S,19.99,,5\n"
        "tee,,,,,TEE-M,M,19.999,,5\n"  # too precise for EUR
        "cup,Cup,kitchen,,,CUP-1,,,,4\n"  # stock without a price
        "bad,row\n"  # wrong column count
        "mug,Mug,kitchen,,,MUG-1,,3.50,,x\n"  # stock is not a number
    )

    errors = [(e.line, e.field, e.code) for p in parsed for e in p.errors]
    assert errors == [
        (3, "price", "too_precise"),
        (4, "price", "required"),
        (5, "line", "malformed"),
        (6, "stock", "int_parsing"),
    ]


def test_csv_quoted_fields_span_lines_and_line_numbers_stay_physical() -> None:
    parsed = csv_file(
        "title,description,category,sku\n"
        'Tee,"two\nlines",apparel/t-shirts,T-1\n'
        "Mug,,kitchen,M-1\n"
        'Cup,"bad"quote,kitchen,C-1\n'
    )

    assert [(p.line, p.last_line) for p in parsed] == [(2, 3), (4, 4), (5, 5)]
    first = parsed[0].draft
    assert first is not None
    assert first.description == "two\nlines"
    assert parsed[2].errors[0].reason.startswith("Malformed CSV")


def test_csv_lines_that_are_not_utf8_are_row_errors() -> None:
    data = b"title,category,sku\nTee,apparel,T-1\n\xff\xfe,apparel,T-2\nMug,kitchen,M-1\n"

    parsed = list(parse_csv(io.BytesIO(data), currency="EUR", attribute_types=declarations))

    assert [(p.line, bool(p.errors)) for p in parsed] == [(2, False), (3, True), (4, False)]
    assert "UTF-8" in parsed[1].errors[0].reason


def test_a_repeated_sku_row_is_one_more_offer_of_that_variant() -> None:
    parsed = csv_file(
        "handle,title,category,sku,price,fulfiller_id\n"
        "tee,Tee,apparel,T-1,19.99,retailer\n"
        "tee,,,T-1,18.50,sel_01jd3w7k6q8r2m4n5p6s7t8v9x\n"
    )

    draft = parsed[0].draft
    assert draft is not None
    assert [v.sku for v in draft.variants] == ["T-1"]
    assert [(o.variant, o.price.amount) for o in draft.offers] == [("T-1", 1999), ("T-1", 1850)]
    assert parsed[0].offer_lines == (2, 3)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("title,category\nx,y\n", "Missing the column 'sku'"),
        ("title,category,sku,prize\nx,y,z,1\n", "Unknown column 'prize'"),
        ("title,category,sku,sku\nx,y,z,z\n", "appears twice"),
        ("title,category,sku,attr.Bad Name\nx,y,z,1\n", "Bad name"),
        ("", "empty"),
    ],
)
def test_a_bad_header_makes_the_file_unusable(text: str, problem: str) -> None:
    with pytest.raises(UnusableInput) as raised:
        csv_file(text)
    messages = [raised.value.detail] + [e.message for e in raised.value.errors]
    assert any(problem in m for m in messages), messages


def test_csv_resumes_after_a_checkpoint_on_a_product_boundary() -> None:
    text = HEADER + "".join(
        f"p{i},T{i},apparel/t-shirts,,,S{i}-{j},{j},1,,1\n" for i in range(3) for j in "SM"
    )

    parsed = csv_file(text, after_line=3)

    assert [(p.line, p.last_line) for p in parsed] == [(4, 5), (6, 7)]


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("variants[1].sku", (1, "sku")),
        ("variants[0].gtin", (0, "variant_gtin")),
        ("variants[2].options.size", (2, "option.size")),
        ("variants[0].dimensions.width_mm", (0, "width_mm")),
        ("offers[1].price.amount", (1, "price")),
        ("offers[0].variant", (0, "sku")),
        ("attributes.weight", (None, "attr.weight")),
        ("category", (None, "category")),
        ("variants", (None, "sku")),
    ],
)
def test_catalog_field_paths_map_to_csv_columns(path: str, where: tuple[int | None, str]) -> None:
    assert csv_column(path) == where


# --- batches ---------------------------------------------------------------------------------


def test_batches_group_products_and_errors_in_file_order() -> None:
    parsed = jsonl(*(product_line(f"S-{i}") for i in range(5)), "{oops")

    groups = list(batches(parsed, 2))

    assert [(b.first_line, b.last_line, len(b.drafts)) for b in groups] == [
        (1, 2, 2),
        (3, 4, 2),
        (5, 6, 1),
    ]
    assert groups[-1].parse_errors[0].line == 6


def test_catalog_errors_are_located_on_the_line_of_their_product_and_variant() -> None:
    # given a batch of a JSONL product and a two-row CSV product
    line_product = jsonl(product_line("A-1"))[0]
    csv_product = csv_file(HEADER + "t,T,apparel/t-shirts,,,T-S,S,1,,1\nt,,,,,T-M,M,1,,1\n")[0]
    batch = Batch([line_product, csv_product])

    # when the catalog rejects fields of both
    located, failed = locate_errors(
        batch,
        [
            FieldError("[0].category", "No such category", "unknown_category"),
            FieldError("[1].variants[1].sku", "Already in use", "duplicate"),
            FieldError("[1].attributes.weight", "Must be a number", "invalid_value"),
        ],
    )

    # then each error points at its line and field (a column for CSV)
    assert located == [
        RowError(1, "category", "No such category", "unknown_category"),
        RowError(3, "sku", "Already in use", "duplicate"),
        RowError(2, "attr.weight", "Must be a number", "invalid_value"),
    ]
    assert failed == 2
