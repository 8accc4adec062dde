"""Reading listing feeds, storing listings as JSON, and what an image fetch failure means."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest

from bazaar.catalog.attributes import AttributeDef, AttributeType
from bazaar.catalog.importing import UnusableInput
from bazaar.kernel.errors import ValidationFailed
from bazaar.kernel.money import Money
from bazaar.listings import serialise
from bazaar.listings.checks import CheckName, CheckResult, CheckStatus, ImageOutcome, ProductRef
from bazaar.listings.feed_parsing import FeedRow, csv_column, parse_feed
from bazaar.listings.feed_runs import FeedFormat
from bazaar.listings.images import outcome_of
from bazaar.listings.matching import ProductMatch
from bazaar.listings.normalise import Fix, FixRule, ListingDraft
from bazaar.listings.ports import CategoryInfo

BOTTLES = CategoryInfo(
    "cat_bottles",
    {
        "colour": AttributeDef("colour", AttributeType.ENUM, True, ("black", "gray")),
        "volume": AttributeDef("volume", AttributeType.NUMBER, unit="l"),
        "insulated": AttributeDef("insulated", AttributeType.BOOLEAN),
    },
)


def categories(ref: str) -> CategoryInfo | None:
    return BOTTLES if ref in ("kitchen/bottles", "cat_bottles") else None


def read(data: str, fmt: FeedFormat, after_line: int = 0) -> list[FeedRow]:
    return list(
        parse_feed(
            io.BytesIO(data.encode()),
            fmt,
            seller_id="sel_1",
            currency="EUR",
            categories=categories,
            after_line=after_line,
        )
    )


def line(**fields: object) -> str:
    body: dict[str, object] = {
        "category": "kitchen/bottles",
        "price": {"amount": 1999, "currency": "EUR"},
    }
    body.update(fields)
    return json.dumps(body) + "\n"


# --- JSONL -----------------------------------------------------------------------------------


def test_a_jsonl_line_is_a_draft_of_the_uploading_seller() -> None:
    [row] = read(line(title=" Bottle ", attributes={"volume": "1000 ml"}), FeedFormat.JSONL)
    assert row.errors == ()
    assert row.draft == ListingDraft(
        seller_id="sel_1",
        category_id="cat_bottles",
        title=" Bottle ",  # untrimmed: trimming is a fix the seller is shown
        price=Money(1999, "EUR"),
        attributes={"volume": "1000 ml"},
    )


def test_jsonl_rows_that_cannot_be_listings_name_line_and_field() -> None:
    rows = read(
        "{oops\n"
        + line(category="garden")
        + line(price={"amount": 5, "currency": "USD"})
        + line(colour="black")
        + "\n"
        + '"a string"\n',
        FeedFormat.JSONL,
    )
    assert [(e.line, e.field, e.code) for r in rows for e in r.errors] == [
        (1, "line", "malformed"),
        (2, "category", "unknown"),
        (3, "price.currency", "currency"),
        (4, "colour", "extra_forbidden"),
        (6, "line", "malformed"),
    ]


def test_jsonl_resumes_after_the_checkpoint() -> None:
    data = "".join(line(title=f"Bottle {n}") for n in range(1, 6))
    assert [r.line for r in read(data, FeedFormat.JSONL, after_line=3)] == [4, 5]


# --- CSV -------------------------------------------------------------------------------------


def test_csv_cells_are_typed_by_the_categorys_declarations() -> None:
    [row] = read(
        "category,title,price,attr.volume,attr.insulated,attr.colour,image_urls\n"
        "kitchen/bottles,Bottle,19.99,2,yes,Grey,https://a.example/1.jpg | https://a.example/2.jpg\n",
        FeedFormat.CSV,
    )
    assert row.draft is not None
    assert row.draft.price == Money(1999, "EUR")
    assert row.draft.attributes == {"volume": 2, "insulated": True, "colour": "Grey"}
    assert row.draft.image_urls == ("https://a.example/1.jpg", "https://a.example/2.jpg")


def test_csv_rows_spanning_lines_keep_their_first_line_and_resume_correctly() -> None:
    data = (
        "category,title,price\n"
        'kitchen/bottles,"Two\nlines",1\n'
        "kitchen/bottles,Third,2\n"
        "kitchen/bottles,Fourth,x\n"
    )
    rows = read(data, FeedFormat.CSV)
    assert [(r.line, r.last_line) for r in rows] == [(2, 3), (4, 4), (5, 5)]
    assert [(e.field, e.code) for e in rows[2].errors] == [("price", "invalid")]
    assert [r.line for r in read(data, FeedFormat.CSV, after_line=3)] == [4, 5]


def test_a_csv_header_that_cannot_be_used_refuses_the_whole_file() -> None:
    with pytest.raises(UnusableInput) as caught:
        read("title,price,colour,title\n", FeedFormat.CSV)
    assert sorted(e.code for e in caught.value.errors) == [
        "duplicate",
        "missing_column",
        "unknown_column",
    ]


@pytest.mark.parametrize(
    ("path", "column"),
    [
        ("attributes.colour", "attr.colour"),
        ("price.amount", "price"),
        ("price.currency", "currency"),
        ("image_urls[3]", "image_urls"),
        ("title", "title"),
    ],
)
def test_errors_name_the_csv_column(path: str, column: str) -> None:
    assert csv_column(path) == column


# --- the store's JSON ------------------------------------------------------------------------


def test_a_listing_reads_back_from_json_exactly_as_it_was() -> None:
    draft = ListingDraft(
        seller_id="sel_1",
        category_id="cat_bottles",
        title="Bottle",
        price=Money(1999, "EUR"),
        brand="Hydro",
        gtin="4006381333931",
        attributes={"volume": Decimal("0.75"), "colour": "gray", "insulated": True, "n": 2},
        image_urls=("https://a.example/1.jpg",),
    )
    fixes = (Fix("attributes.volume", "750 ml", "0.75 l", FixRule.UNIT),)
    results = (CheckResult(CheckName.PRICE, CheckStatus.WARNING, "price", "High", "Check it"),)
    match = ProductMatch(ProductRef("prd_1", "var_1"), "gtin")
    stored = json.loads(json.dumps(serialise.draft_json(draft)))
    assert serialise.draft_of(stored) == draft
    assert serialise.fixes_of(serialise.fixes_json(fixes)) == fixes
    assert serialise.results_of(serialise.results_json(results)) == results
    assert serialise.match_of(serialise.match_json(match)) == match
    assert serialise.match_of(serialise.match_json(None)) is None


# --- image fetch failures --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "message", "outcome"),
    [
        ("timeout", "The image could not be fetched within 10 s", ImageOutcome.UNREACHABLE),
        ("fetch_failed", "The image could not be fetched (ConnectError)", ImageOutcome.UNREACHABLE),
        ("upstream_status", "The server answered HTTP 503", ImageOutcome.UNREACHABLE),
        ("upstream_status", "The server answered HTTP 429", ImageOutcome.UNREACHABLE),
        ("upstream_status", "The server answered HTTP 404", ImageOutcome.NOT_FOUND),
        ("url_not_allowed", "requests to internal networks", ImageOutcome.NOT_FOUND),
        ("too_large", "The image is larger than the limit", ImageOutcome.NOT_AN_IMAGE),
    ],
)
def test_what_an_image_fetch_failure_means(code: str, message: str, outcome: ImageOutcome) -> None:
    assert outcome_of(ValidationFailed.on("image_url", message, code)) is outcome
