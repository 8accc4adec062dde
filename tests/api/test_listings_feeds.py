"""Listing feeds over HTTP: CSV and JSONL imports as background jobs with per-row results."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container, build
from bazaar.kernel.clock import FixedClock
from tests.support.assertions import assert_problem
from tests.support.factories import test_settings
from tests.support.listings import (
    BOTTLE_GTIN,
    IMAGE,
    ImageHost,
    Marketplace,
    jsonl,
    listing,
    make_seller,
    resolve,
    set_up_marketplace,
)

IMPORT = "/api/v1/seller/listings/import"
NDJSON = {"Content-Type": "application/x-ndjson"}
CSV = {"Content-Type": "text/csv"}


@pytest.fixture
def container(db_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Container]:
    c = build(
        test_settings(db_url, tmp_path, listing_feed_batch_size=2),
        clock=clock,
        http_client=httpx.Client(transport=httpx.MockTransport(ImageHost())),
        resolve=resolve,
    )
    yield c
    c.close()


@pytest.fixture
def market(container: Container) -> Marketplace:
    return set_up_marketplace(container)


def upload(client: TestClient, market: Marketplace, data: bytes, headers: dict[str, str]) -> str:
    response = client.post(IMPORT, content=data, headers=market.seller_key | headers)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    location: str = response.headers["location"]
    return location


def follow(client: TestClient, market: Marketplace, location: str, **params: Any) -> Any:
    response = client.get(location, params=params, headers=market.seller_key)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_jsonl_feed_becomes_listings_with_a_result_per_row(
    client: TestClient, container: Container, market: Marketplace
) -> None:
    # given a feed: an offer by GTIN, a new product, a rejected one and three unusable rows
    data = jsonl(
        {
            "category": "kitchen/bottles",
            "gtin": BOTTLE_GTIN,
            "price": {"amount": 2900, "currency": "EUR"},
        },
        listing(title="Feed bottle"),
        "{not json",
        listing(title="Replica bottle"),
        listing(category="no/such-category"),
        "",
        listing(price={"amount": 100, "currency": "USD"}),
    )
    location = upload(client, market, data, NDJSON)

    # when the workers have imported and validated it
    container.listing_workers.drain()

    # then every row has its result: a listing with its status, or its errors
    feed = follow(client, market, location)
    assert feed["status"] == "succeeded"
    assert feed["progress"] == {
        "lines_done": 7,
        "listings": 3,
        "failed": 3,
        "validation": {"approved": 2, "rejected": 1},
    }
    assert [(r["line"], r["status"]) for r in feed["results"]] == [
        (1, "approved"),
        (2, "approved"),
        (4, "rejected"),
    ]
    assert feed["results"][2]["reasons"] == ["title: Contains 'replica'"]
    assert [(e["line"], e["field"]) for e in feed["errors"]] == [
        (3, "line"),
        (5, "category"),
        (7, "price.currency"),
    ]
    listing_id = feed["results"][0]["listing_id"]
    one = client.get(f"/api/v1/seller/listings/{listing_id}", headers=market.seller_key).json()
    assert (one["feed_id"], one["feed_line"]) == (feed["id"], 1)


def test_a_csv_feed_is_read_with_typed_attributes_and_columns_in_errors(
    client: TestClient, container: Container, market: Marketplace
) -> None:
    data = (
        "category,title,price,brand,gtin,attr.colour,attr.volume,image_urls\n"
        f"kitchen/bottles,Cask bottle,29.90,hydro,,grey,750 ml,{IMAGE}\n"
        "kitchen/bottles,,29.5,,4006381333931,,,\n"
        "kitchen/bottles,Cheap bottle,12.345,,,black,,\n"
        'kitchen/bottles,"Quoted, two-line\nbottle",30,,,black,1,' + IMAGE + "\n"
        f"kitchen/bottles,Bottle,30,,,black,lots,{IMAGE}\n"
    ).encode()
    location = upload(client, market, data, CSV)
    container.listing_workers.drain()

    feed = follow(client, market, location)
    assert [(r["line"], r["status"]) for r in feed["results"]] == [
        (2, "fixed_and_approved"),  # brand casing, colour synonym, 750 ml -> 0.75 l
        (3, "approved"),  # an offer on the catalog's bottle
        (5, "fixed_and_approved"),  # the title spans two lines and gets its whitespace fixed
        (7, "rejected"),  # volume "lots" is not a number
    ]
    assert "attributes.volume: Must be a number in l" in feed["results"][3]["reasons"]
    assert [(e["line"], e["field"], e["code"]) for e in feed["errors"]] == [
        (4, "price", "too_precise")
    ]
    first = feed["results"][0]["listing_id"]
    fixed = client.get(f"/api/v1/seller/listings/{first}", headers=market.seller_key).json()
    assert fixed["listing"]["attributes"] == {"colour": "gray", "volume": 0.75}


def test_per_row_results_come_in_pages(
    client: TestClient, container: Container, market: Marketplace
) -> None:
    location = upload(
        client, market, jsonl(*(listing(title=f"Bottle {n}") for n in range(5))), NDJSON
    )
    container.listing_workers.drain()

    lines: list[int] = []
    cursor = None
    while True:
        page = follow(client, market, location, limit=2, **({"cursor": cursor} if cursor else {}))
        lines += [r["line"] for r in page["results"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert lines == [1, 2, 3, 4, 5]


def test_a_multipart_upload_names_its_format_by_the_file(
    client: TestClient, container: Container, market: Marketplace
) -> None:
    response = client.post(
        IMPORT,
        files={"file": ("listings.jsonl", jsonl(listing()), "application/octet-stream")},
        headers=market.seller_key,
    )
    assert response.status_code == 202, response.text
    container.listing_workers.drain()
    feed = follow(client, market, response.headers["location"])
    assert (feed["format"], feed["progress"]["listings"]) == ("jsonl", 1)


def test_an_unusable_feed_is_refused_at_once(client: TestClient, market: Marketplace) -> None:
    bad_header = client.post(
        IMPORT, content=b"category,colour\nkitchen/bottles,black\n", headers=market.seller_key | CSV
    )
    problem = assert_problem(bad_header, 422)
    assert {e["code"] for e in problem["errors"]} == {"unknown_column", "missing_column"}
    assert_problem(client.post(IMPORT, content=b"", headers=market.seller_key | NDJSON), 422)
    unknown = client.post(IMPORT, content=b"x", headers=market.seller_key | {"Content-Type": "a/b"})
    assert_problem(unknown, 415)


def test_a_seller_cannot_follow_another_sellers_feed(
    client: TestClient, container: Container, market: Marketplace
) -> None:
    location = upload(client, market, jsonl(listing()), NDJSON)
    _, other_key = make_seller(container, "Other")
    assert_problem(client.get(location, headers=other_key), 404)
    assert_problem(client.get(location + "x", headers=market.seller_key), 404)
