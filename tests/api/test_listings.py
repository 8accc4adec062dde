"""Seller listings over HTTP: each validation outcome, review, dead letters, resubmission,
isolation between sellers, and bad input."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
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
    BROKEN_IMAGE,
    FLASK_MPN,
    IMAGE,
    MEDIAN_PRICE,
    NOT_AN_IMAGE,
    ImageHost,
    Marketplace,
    listing,
    make_seller,
    resolve,
    set_up_marketplace,
)

LISTINGS = "/api/v1/seller/listings"
ADMIN = "/api/v1/admin/listings"
MAX_ATTEMPTS = 3


@pytest.fixture
def host() -> ImageHost:
    return ImageHost()


@pytest.fixture
def container(
    db_url: str, tmp_path: Path, clock: FixedClock, host: ImageHost
) -> Iterator[Container]:
    """A fixed clock, outbound HTTP to the fake image host, three attempts per step."""
    c = build(
        test_settings(db_url, tmp_path, listing_max_attempts=MAX_ATTEMPTS),
        clock=clock,
        http_client=httpx.Client(transport=httpx.MockTransport(host)),
        resolve=resolve,
    )
    yield c
    c.close()


@pytest.fixture
def market(container: Container) -> Marketplace:
    return set_up_marketplace(container)


def submit(client: TestClient, market: Marketplace, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(LISTINGS, json=body, headers=market.seller_key)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"{LISTINGS}/{response.json()['id']}"
    created: dict[str, Any] = response.json()
    assert created["status"] == "submitted"
    return created


def validate(container: Container) -> None:
    """What workers do in the background: validate, then publish what was approved."""
    container.listing_workers.drain()
    container.dispatcher.drain()


def seen_by_seller(client: TestClient, market: Marketplace, listing_id: str) -> dict[str, Any]:
    response = client.get(f"{LISTINGS}/{listing_id}", headers=market.seller_key)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    found: dict[str, Any] = response.json()
    return found


def offers_of(client: TestClient, product_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/products/{product_id}/offers")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def seller_id(market: Marketplace) -> str:
    assert market.seller.user.org_id is not None
    return market.seller.user.org_id


# --- outcomes ----------------------------------------------------------------------------------


def test_a_clean_offer_matched_by_gtin_is_approved_and_goes_live(
    client: TestClient, container: Container, market: Marketplace
) -> None:
    # given an offer on the catalog's steel bottle, named by its GTIN only
    body = {
        "category": "kitchen/bottles",
        "gtin": BOTTLE_GTIN,
        "price": {"amount": 2950, "currency": "EUR"},
    }
    created = submit(client, market, body)

    # when the workers have run
    validate(container)

    # then it is approved as it was sent, matched by GTIN, and on sale as the seller's offer
    found = seen_by_seller(client, market, created["id"])
    assert (found["status"], found["fixes"], found["reasons"]) == ("approved", [], [])
    assert found["match"] == {
        "product_id": market.bottle.id,
        "variant_id": market.bottle.variants[0].id,
        "matched_by": "gtin",
    }
    assert {c["status"] for c in found["checks"]} == {"passed"}
    assert (found["live"], found["product_id"]) == (True, market.bottle.id)
    offer = next(o for o in offers_of(client, market.bottle.id) if o["id"] == found["offer_id"])
    assert offer["fulfiller"]["id"] == seller_id(market)
    assert offer["price"] == {"amount": 2950, "currency": "EUR"}


def test_an_offer_is_matched_by_brand_and_mpn_whatever_their_case(
    client: TestClient, container: Container, market: Marketplace
) -> None:
    body = {
        "category": "kitchen/bottles",
        "brand": "HYDRO",
        "mpn": FLASK_MPN.lower(),
        "price": {"amount": 3100, "currency": "EUR"},
    }
    created = submit(client, market, body)

    validate(container)

    found = seen_by_seller(client, market, created["id"])
    assert found["match"]["matched_by"] == "brand_mpn"
    assert found["match"]["product_id"] == market.flask.id
    # the brand's casing was fixed on the way, and the seller is shown the fix
    assert found["status"] == "fixed_and_approved"
    assert [(f["field"], f["before"], f["after"]) for f in found["fixes"]] == [
        ("brand", "HYDRO", "Hydro")
    ]
    assert found["live"] is True
    assert seller_id(market) in {o["fulfiller"]["id"] for o in offers_of(client, market.flask.id)}


def test_a_new_product_is_fixed_and_approved_with_each_fix_shown(
    client: TestClient, container: Container, market: Marketplace
) -> None:
    # given a new product with sloppy text, brand casing, a unit and a colour synonym
    body = listing(
        title="  Insulated   bottle ",
        brand="hydro",
        attributes={"colour": "grey", "volume": "1000 ml"},
    )
    created = submit(client, market, body)

    validate(container)

    found = seen_by_seller(client, market, created["id"])
    assert found["status"] == "fixed_and_approved"
    assert [(f["field"], f["after"], f["rule"]) for f in found["fixes"]] == [
        ("title", "Insulated bottle", "whitespace"),
        ("brand", "Hydro", "brand_casing"),
        ("attributes.colour", "gray", "colour_synonym"),
        ("attributes.volume", "1 l", "unit"),
    ]
    assert found["submitted"]["title"] == "  Insulated   bottle "  # what the seller sent
    assert found["listing"]["attributes"] == {"colour": "gray", "volume": 1}
    # and the new product is in the catalog, fixed, with its image and the seller's offer
    assert (found["live"], found["match"]) == (True, None)
    product = client.get(f"/api/v1/products/{found['product_id']}").json()
    assert (product["title"], product["attributes"]) == (
        "Insulated bottle",
        {"colour": "gray", "volume": 1},
    )
    assert len(product["images"]) == 1
    assert [o["fulfiller"]["id"] for o in offers_of(client, found["product_id"])] == [
        seller_id(market)
    ]


def test_a_price_outlier_waits_for_review_and_a_reviewers_edits_go_live(
    client: TestClient, container: Container, market: Marketplace
) -> None:
    # given an offer priced ten times the category's usual price
    body = {
        "category": "kitchen/bottles",
        "gtin": BOTTLE_GTIN,
        "price": {"amount": MEDIAN_PRICE * 10, "currency": "EUR"},
    }
    created = submit(client, market, body)
    validate(container)
    found = seen_by_seller(client, market, created["id"])
    assert found["status"] == "needs_review"
    assert found["reasons"][0].startswith("price: ")
    assert found["live"] is False

    # when a reviewer reads the queue, it lists the failing check with its suggested fix
    queue = client.get(f"{ADMIN}/review", headers=market.operator.headers)
    assert queue.status_code == 200, queue.text
    [item] = queue.json()["items"]
    assert (item["listing_id"], item["seller_id"]) == (created["id"], seller_id(market))
    assert [(c["check"], c["status"]) for c in item["failing"]] == [("price", "warning")]
    assert item["suggested_fixes"] == [item["failing"][0]["suggestion"]]

    # and approves it with an edit
    approved = client.post(
        f"{ADMIN}/{created['id']}/approve",
        json={"edits": {"title": "Steel bottle, boxed"}},
        headers=market.operator.headers,
    )
    assert approved.status_code == 200, approved.text
    container.dispatcher.drain()

    # then the seller sees the edit as a fix, and the offer is live in the catalog
    found = seen_by_seller(client, market, created["id"])
    assert found["status"] == "fixed_and_approved"
    assert found["fixes"][-1]["rule"] == "operator_edit"
    assert found["live"] is True
    offer = next(o for o in offers_of(client, market.bottle.id) if o["id"] == found["offer_id"])
    assert offer["price"]["amount"] == MEDIAN_PRICE * 10
    assert client.get(f"{ADMIN}/review", headers=market.operator.headers).json()["items"] == []


def test_a_rejected_listing_says_why_and_is_approved_once_corrected(
    client: TestClient, container: Container, market: Marketplace
) -> None:
    # given a listing with a prohibited term, a GTIN with a wrong check digit and a dead link
    body = listing(title="Replica bottle", gtin="4006381333932", image_urls=[BROKEN_IMAGE])
    created = submit(client, market, body)
    validate(container)

    rejected = seen_by_seller(client, market, created["id"])
    assert rejected["status"] == "rejected"
    assert {r.split(":")[0] for r in rejected["reasons"]} == {"title", "gtin", "image_urls[0]"}
    failed = {c["check"] for c in rejected["checks"] if c["status"] == "failed"}
    assert failed == {"prohibited_terms", "gtin", "images"}

    # when the seller corrects it and resubmits
    corrected = client.put(
        f"{LISTINGS}/{created['id']}",
        json=listing(title="Steel bottle", gtin=None, image_urls=[IMAGE]),
        headers=market.seller_key,
    )
    assert corrected.status_code == 200, corrected.text
    assert (corrected.json()["status"], corrected.json()["revision"]) == ("submitted", 2)
    validate(container)

    # then the new revision is approved and live
    found = seen_by_seller(client, market, created["id"])
    assert (found["status"], found["revision"], found["reasons"]) == ("approved", 2, [])
    assert found["live"] is True


def test_an_image_that_is_not_an_image_is_rejected(
    client: TestClient, container: Container, market: Marketplace
) -> None:
    created = submit(client, market, listing(image_urls=[NOT_AN_IMAGE]))
    validate(container)
    found = seen_by_seller(client, market, created["id"])
    assert found["status"] == "rejected"
    assert found["reasons"] == ["image_urls[0]: Not a JPEG, PNG or WebP image"]


def test_an_approved_listing_cannot_be_resubmitted(
    client: TestClient, container: Container, market: Marketplace
) -> None:
    created = submit(client, market, listing())
    validate(container)
    again = client.put(f"{LISTINGS}/{created['id']}", json=listing(), headers=market.seller_key)
    assert assert_problem(again, 409)["code"] == "illegal_transition"


# --- technical failures --------------------------------------------------------------------------


def test_an_image_host_that_stays_down_dead_letters_the_listing_until_an_operator_retries(
    client: TestClient,
    container: Container,
    market: Marketplace,
    host: ImageHost,
    clock: FixedClock,
) -> None:
    # given the image host is down
    host.down = True
    created = submit(client, market, listing())

    # when the workers try, the images step fails and is retried later, with backoff
    container.listing_workers.drain()
    waiting = seen_by_seller(client, market, created["id"])
    assert (waiting["status"], waiting["pending_step"], waiting["attempts"]) == (
        "validating",
        "images",
        1,
    )
    assert "unreachable" in waiting["last_error"]
    assert container.listing_workers.drain() == 0  # not due yet
    for attempt in range(2, MAX_ATTEMPTS + 1):
        clock.advance(600)  # well past the backoff (seconds at this point)
        container.listing_workers.drain()
        assert seen_by_seller(client, market, created["id"])["attempts"] == attempt

    # then after the last attempt it is dead-lettered: kept, and listed for operators
    dead = seen_by_seller(client, market, created["id"])
    assert (dead["status"], dead["pending_step"]) == ("dead_lettered", "images")
    letters = client.get(f"{ADMIN}/dead-letter", headers=market.operator.headers)
    assert [item["id"] for item in letters.json()["items"]] == [created["id"]]
    clock.advance(3600)
    assert container.listing_workers.drain() == 0  # nobody retries it on their own

    # when the host is back and an operator retries it
    host.down = False
    retried = client.post(f"{ADMIN}/{created['id']}/retry", headers=market.operator.headers)
    assert retried.status_code == 200, retried.text
    assert (retried.json()["status"], retried.json()["attempts"]) == ("validating", 0)
    validate(container)

    # then it resumes at the images step and is approved
    found = seen_by_seller(client, market, created["id"])
    assert (found["status"], found["live"]) == ("approved", True)
    assert client.get(f"{ADMIN}/dead-letter", headers=market.operator.headers).json()["items"] == []


def test_only_operators_see_and_retry_dead_letters(client: TestClient, market: Marketplace) -> None:
    assert_problem(client.get(f"{ADMIN}/dead-letter", headers=market.seller_key), 403)
    assert_problem(client.get(f"{ADMIN}/review", headers=market.seller.headers), 403)


# --- sellers' own listings -----------------------------------------------------------------------


def test_a_seller_lists_its_listings_by_status(
    client: TestClient, container: Container, market: Marketplace
) -> None:
    approved = submit(client, market, listing())
    rejected = submit(client, market, listing(title="Counterfeit bottle"))
    validate(container)

    everything = client.get(LISTINGS, headers=market.seller_key).json()["items"]
    assert [i["id"] for i in everything] == [rejected["id"], approved["id"]]  # newest first
    only = client.get(LISTINGS, params={"status": "rejected"}, headers=market.seller_key)
    assert [i["id"] for i in only.json()["items"]] == [rejected["id"]]

    first = client.get(LISTINGS, params={"limit": 1}, headers=market.seller_key).json()
    second = client.get(
        LISTINGS, params={"limit": 1, "cursor": first["next_cursor"]}, headers=market.seller_key
    ).json()
    assert [i["id"] for i in first["items"] + second["items"]] == [rejected["id"], approved["id"]]


def test_a_seller_cannot_see_or_change_another_sellers_listing(
    client: TestClient, container: Container, market: Marketplace
) -> None:
    # given seller A's listing
    created = submit(client, market, listing())
    _, other_key = make_seller(container, "Other")

    # then seller B gets a 404, as for a listing that does not exist
    assert_problem(client.get(f"{LISTINGS}/{created['id']}", headers=other_key), 404)
    put = client.put(f"{LISTINGS}/{created['id']}", json=listing(), headers=other_key)
    assert_problem(put, 404)
    assert client.get(LISTINGS, headers=other_key).json()["items"] == []


def test_only_sellers_with_the_listing_scopes_submit(
    client: TestClient, container: Container, market: Marketplace
) -> None:
    assert_problem(client.post(LISTINGS, json=listing(), headers=market.operator.headers), 403)
    read_only = container.identity.create_api_key(
        market.seller.principal, name="reader", scopes=["listings:read"]
    )
    headers = {"Authorization": f"Bearer {read_only.secret}"}
    assert_problem(client.post(LISTINGS, json=listing(), headers=headers), 403)
    assert client.get(LISTINGS, headers=headers).status_code == 200
    # a seller member signed in with a token uses its role, not scopes
    assert client.post(LISTINGS, json=listing(), headers=market.seller.headers).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (listing(category="no/such-category"), "category"),
        (listing(price={"amount": 3000, "currency": "USD"}), "price.currency"),
        ({k: v for k, v in listing().items() if k != "price"}, "price"),
        (listing(price={"amount": "cheap", "currency": "EUR"}), "price.amount"),
        (listing(image_urls=[IMAGE] * 11), "image_urls"),
        (listing(colour="black"), "colour"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(
    client: TestClient, market: Marketplace, body: dict[str, Any], field: str
) -> None:
    problem = assert_problem(client.post(LISTINGS, json=body, headers=market.seller_key), 422)
    assert field in {e["field"] for e in problem["errors"]}


def test_a_listing_waits_for_the_workers_before_its_outcome(
    client: TestClient, container: Container, market: Marketplace, clock: FixedClock
) -> None:
    created = submit(client, market, listing())
    found = seen_by_seller(client, market, created["id"])
    assert (found["status"], found["pending_step"], found["live"]) == ("submitted", "schema", False)
    clock.advance(timedelta(minutes=1).total_seconds())
    validate(container)
    assert seen_by_seller(client, market, created["id"])["status"] == "approved"
