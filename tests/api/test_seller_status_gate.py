"""A seller's status decides what its members and keys may do on every seller route:
active sellers do everything; suspended ones read and fulfil orders already routed to them
but list nothing; closed ones only read; applicants are not sellers yet. A refusal is a 403
problem naming the status."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container, build
from bazaar.identity.model import Role
from bazaar.kernel.ids import new_id
from bazaar.sellers.model import SellerStatus
from tests.api.test_sellers import ApprovedSeller, application_json, approved_seller
from tests.support.assertions import StatementCounter, assert_problem
from tests.support.factories import Account, make_account, test_settings
from tests.support.marketplace import fulfillment_of, offer, place_order
from tests.support.sellers import put_seller_on_file

LISTINGS = "/api/v1/seller/listings"
FULFILLMENTS = "/api/v1/seller/fulfillments"
LISTING = {
    "category": "food/coffee",
    "title": "Filter coffee 500 g",
    "price": {"amount": 990, "currency": "EUR"},
    "brand": "Koffie",
}
FEED = {"Content-Type": "application/x-ndjson"}


@pytest.fixture
def container(db_url: str, tmp_path: Path) -> Iterator[Container]:
    c = build(test_settings(db_url, tmp_path, payout_hold_days=0))
    yield c
    c.close()


@dataclass(frozen=True)
class Trading:
    seller: ApprovedSeller
    fulfillment_id: str  # routed, not yet accepted
    listing_id: str


def trading_seller(client: TestClient, container: Container, operator: Account) -> Trading:
    """An approved seller with an order routed to it and a listing submitted."""
    seller = approved_seller(client, container, operator, application_json())
    container.dispatcher.drain()  # approval registers the seller as a fulfiller
    order = place_order(client, [(offer(container, operator, fulfiller=seller.id), 2)])
    listing = client.post(LISTINGS, json=LISTING, headers=seller.key)
    assert listing.status_code == 201, listing.text
    return Trading(seller, fulfillment_of(order, seller.id), listing.json()["id"])


def decide(client: TestClient, operator: Account, seller_id: str, action: str) -> None:
    response = client.post(
        f"/api/v1/admin/sellers/{seller_id}/{action}",
        json={"reason": "audit"},
        headers=operator.headers,
    )
    assert response.status_code == 200, response.text


def refused(response: Any, status: str) -> None:
    problem = assert_problem(response, 403)
    assert (problem["code"], problem["seller_status"]) == ("seller_status", status)
    assert status in problem["detail"]


def step(client: TestClient, headers: dict[str, str], fulfillment_id: str, name: str) -> Any:
    body = {"carrier": "PostNL", "tracking_number": "3S01"} if name == "ship" else {}
    return client.post(
        f"{FULFILLMENTS}/{fulfillment_id}/{name}",
        json=body,
        headers={**headers, "Idempotency-Key": name},
    )


def reads(client: TestClient, headers: dict[str, str], t: Trading) -> list[int]:
    paths = [
        LISTINGS,
        f"{LISTINGS}/{t.listing_id}",
        FULFILLMENTS,
        f"{FULFILLMENTS}/{t.fulfillment_id}",
        "/api/v1/seller/statements",
        "/api/v1/seller/payouts",
    ]
    return [client.get(path, headers=headers).status_code for path in paths]


def test_a_suspended_seller_reads_and_ships_routed_orders_but_lists_nothing(
    client: TestClient, container: Container, operator: Account
) -> None:
    # Given a trading seller, suspended by an operator
    t = trading_seller(client, container, operator)
    decide(client, operator, t.seller.id, "suspend")
    key, member = t.seller.key, t.seller.owner

    # Then it lists nothing: no listing, no resubmission, no feed (key or member alike)
    refused(client.post(LISTINGS, json=LISTING, headers=key), "suspended")
    refused(client.post(LISTINGS, json=LISTING, headers=member), "suspended")
    refused(client.put(f"{LISTINGS}/{t.listing_id}", json=LISTING, headers=key), "suspended")
    feed = client.post(
        f"{LISTINGS}/import", content=json.dumps(LISTING).encode(), headers={**key, **FEED}
    )
    refused(feed, "suspended")

    # And it still reads its listings, fulfillment orders, statement and payouts
    assert reads(client, key, t) == [200] * 6

    # And it still accepts and ships the order routed to it before the suspension
    for name in ("accept", "ship", "deliver"):
        response = step(client, key, t.fulfillment_id, name)
        assert response.status_code == 200, response.text

    # And once reinstated it lists again
    decide(client, operator, t.seller.id, "reinstate")
    assert client.post(LISTINGS, json=LISTING, headers=key).status_code == 201


def test_a_closed_seller_only_reads(
    client: TestClient, container: Container, operator: Account
) -> None:
    # Given a trading seller that an operator closed
    t = trading_seller(client, container, operator)
    decide(client, operator, t.seller.id, "close")
    key = t.seller.key

    # Then it reads its records
    assert reads(client, key, t) == [200] * 6

    # And changes nothing: no fulfillment step, no listing
    for name in ("accept", "reject", "ship", "deliver"):
        refused(step(client, key, t.fulfillment_id, name), "closed")
    refused(client.post(LISTINGS, json=LISTING, headers=key), "closed")
    assert client.get(f"{FULFILLMENTS}/{t.fulfillment_id}", headers=key).json()["status"] == (
        "pending"
    )


@pytest.mark.parametrize("status", [SellerStatus.APPLIED, SellerStatus.CHANGES_REQUESTED])
def test_an_applicant_is_not_a_seller_yet(
    container: Container, client: TestClient, status: SellerStatus
) -> None:
    # Given an account of a seller whose application is still open
    account = make_account(
        container, Role.SELLER, put_seller_on_file(container, new_id("sel"), status)
    )

    # Then every seller route refuses it, naming the status
    for path in (LISTINGS, FULFILLMENTS, "/api/v1/seller/statements", "/api/v1/seller/payouts"):
        refused(client.get(path, headers=account.headers), status.value)
    refused(client.post(LISTINGS, json=LISTING, headers=account.headers), status.value)


def test_an_account_of_no_seller_on_file_is_refused(
    container: Container, client: TestClient
) -> None:
    account = make_account(container, Role.SELLER, new_id("sel"))
    for path in (LISTINGS, FULFILLMENTS, "/api/v1/seller/statements"):
        problem = assert_problem(client.get(path, headers=account.headers), 403)
        assert (problem["code"], problem["seller_status"]) == ("seller_status", None)


def test_statements_and_payouts_need_the_statements_read_scope(
    client: TestClient, container: Container, operator: Account
) -> None:
    # Given a seller with a key that may read orders but not statements
    seller = approved_seller(client, container, operator, application_json())
    created = client.post(
        "/api/v1/seller/api-keys",
        json={"name": "orders only", "scopes": ["orders:read"]},
        headers=seller.owner,
    )
    assert created.status_code == 201, created.text
    orders_only = {"Authorization": f"Bearer {created.json()['secret']}"}

    # Then that key is refused the statement and the payouts, naming the scope
    for path in (
        "/api/v1/seller/statements",
        "/api/v1/seller/payouts",
        "/api/v1/seller/payouts/pyo_01jd3w7k6q8r2m4n5p6s7t8v9x",
    ):
        problem = assert_problem(client.get(path, headers=orders_only), 403)
        assert "statements:read" in problem["detail"]
    # And a key with the scope, and a signed-in member, read them
    for headers in (seller.key, seller.owner):
        assert client.get("/api/v1/seller/statements", headers=headers).status_code == 200
        assert client.get("/api/v1/seller/payouts", headers=headers).status_code == 200


def test_the_status_check_costs_one_primary_key_read(
    client: TestClient, container: Container, operator: Account
) -> None:
    # Given a seller with ten listings
    seller = approved_seller(client, container, operator, application_json())
    for n in range(10):
        body = {**LISTING, "title": f"Coffee {n}"}
        assert client.post(LISTINGS, json=body, headers=seller.key).status_code == 201

    # When it reads its listings and its statement
    with StatementCounter(container.db.engine) as counter:
        assert client.get(LISTINGS, headers=seller.key).status_code == 200
        assert client.get("/api/v1/seller/statements", headers=seller.key).status_code == 200

    # Then the sellers table was read once per request, whatever the number of listings
    seller_reads = [s for s in counter.statements if "FROM sellers" in s]
    assert len(seller_reads) == 2, seller_reads
    assert all("WHERE sellers.id =" in s for s in seller_reads)
