"""A seller never reaches another seller's data: every seller route, called by seller B
with seller A's ids, answers 404 - the answer for an id that does not exist.

To add a route: put it in ``WALK`` with the credentials it accepts, and give seller A the
resource its path names in :func:`world` (``World.a_ids`` maps each path parameter to it).
The coverage test fails for a seller route with an id that is not in ``WALK``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container, build
from tests.api.test_sellers import (
    ApprovedSeller,
    application_json,
    approved_seller,
    other_application_json,
)
from tests.support.assertions import assert_problem
from tests.support.factories import Account, test_settings
from tests.support.marketplace import fulfillment_of, offer, place_order

KEY, MEMBER, APPLICATION = "key", "member", "application"


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # template: each {name} is filled with seller A's id of that name
    credentials: tuple[str, ...] = (KEY, MEMBER)  # what the route accepts from a seller
    body: dict[str, Any] | None = None
    headers: tuple[tuple[str, str], ...] = ()  # beyond the credential's


ONCE = (("Idempotency-Key", "walk-once"),)


LISTING = {
    "category": "food/coffee",
    "title": "Espresso beans 1 kg",
    "price": {"amount": 1850, "currency": "EUR"},
    "brand": "Koffie",
}

WALK = [
    Route("GET", "/api/v1/seller/members/{member_id}"),
    # keys are managed by signed-in members; a key gets 403 whatever the id
    Route("DELETE", "/api/v1/seller/api-keys/{key_id}", credentials=(MEMBER,)),
    Route("GET", "/api/v1/webhooks/{subscription_id}"),
    Route("DELETE", "/api/v1/webhooks/{subscription_id}"),
    Route("GET", "/api/v1/seller-applications/{seller_id}", credentials=(APPLICATION,)),
    Route(
        "PUT",
        "/api/v1/seller-applications/{seller_id}",
        credentials=(APPLICATION,),
        body=application_json(),
    ),
    Route(
        "POST",
        "/api/v1/seller-applications/{seller_id}/owner",
        credentials=(APPLICATION,),
        body={"password": "correct horse battery staple"},
    ),
    Route("GET", "/api/v1/seller/fulfillments/{fulfillment_id}"),
    Route("POST", "/api/v1/seller/fulfillments/{fulfillment_id}/accept"),
    Route(
        "POST",
        "/api/v1/seller/fulfillments/{fulfillment_id}/reject",
        body={"reason": "gone"},
        headers=ONCE,
    ),
    Route(
        "POST",
        "/api/v1/seller/fulfillments/{fulfillment_id}/ship",
        body={"carrier": "PostNL", "tracking_number": "3SB0001"},
        headers=ONCE,
    ),
    Route("POST", "/api/v1/seller/fulfillments/{fulfillment_id}/deliver"),
    Route("GET", "/api/v1/seller/payouts/{payout_id}"),
    Route("GET", "/api/v1/seller/listings/{listing_id}"),
    Route("PUT", "/api/v1/seller/listings/{listing_id}", body=LISTING),
    Route("GET", "/api/v1/seller/listings/imports/{feed_id}"),
]

SELLER_PREFIXES = ("/api/v1/seller/", "/api/v1/seller-applications/", "/api/v1/webhooks/")


@dataclass(frozen=True)
class World:
    a: ApprovedSeller
    b: ApprovedSeller
    a_ids: dict[str, str]  # path parameter -> seller A's id of that kind


@pytest.fixture
def container(db_url: str, tmp_path: Path) -> Iterator[Container]:
    """The usual container, with no hold after delivery so seller A's sale is paid out."""
    c = build(test_settings(db_url, tmp_path, payout_hold_days=0))
    yield c
    c.close()


@pytest.fixture
def world(client: TestClient, container: Container, operator: Account) -> World:
    a = approved_seller(client, container, operator, application_json())
    b = approved_seller(client, container, operator, other_application_json())
    invited = client.post(
        "/api/v1/seller/members", json={"email": "ops@a.example"}, headers=a.owner
    )
    hook = client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/a", "event_types": ["SellerSuspended"]},
        headers=a.key,
    )
    assert invited.status_code == hook.status_code == 201, invited.text + hook.text
    return World(
        a=a,
        b=b,
        a_ids={
            "member_id": invited.json()["id"],
            "key_id": a.key_id,
            "subscription_id": hook.json()["id"],
            "seller_id": a.id,
            **_trade_of(client, container, operator, a),
        },
    )


def _trade_of(
    client: TestClient, container: Container, operator: Account, a: ApprovedSeller
) -> dict[str, str]:
    """Seller A's delivered fulfillment order and the payout of its sale, a listing and a
    feed import: the ids of the fulfillment, payout and listing routes."""
    container.dispatcher.drain()  # approval registers A as a fulfiller
    order = place_order(client, [(offer(container, operator, fulfiller=a.id), 2)])
    fulfillment_id = fulfillment_of(order, a.id)
    steps: list[tuple[str, dict[str, str]]] = [
        ("accept", {}),
        ("ship", {"carrier": "DHL", "tracking_number": "JD01"}),
        ("deliver", {}),
    ]
    for step, body in steps:
        url = f"/api/v1/seller/fulfillments/{fulfillment_id}/{step}"
        done = client.post(url, json=body, headers={**a.key, "Idempotency-Key": step})
        assert done.status_code == 200, done.text
    container.dispatcher.drain()  # the ledger posts the sale and its delivery
    run = client.post("/api/v1/admin/payout-runs", headers=operator.headers).json()
    confirm = f"/api/v1/admin/payout-runs/{run['id']}/confirm"
    assert client.post(confirm, headers=operator.headers).status_code == 200
    payouts = client.get("/api/v1/seller/payouts", headers=a.key).json()["items"]
    listing = client.post("/api/v1/seller/listings", json=LISTING, headers=a.key)
    feed = client.post(
        "/api/v1/seller/listings/import",
        content=json.dumps(LISTING).encode() + b"\n",
        headers={**a.key, "Content-Type": "application/x-ndjson"},
    )
    assert (listing.status_code, feed.status_code, len(payouts)) == (201, 202, 1), feed.text
    return {
        "fulfillment_id": fulfillment_id,
        "payout_id": payouts[0]["id"],
        "listing_id": listing.json()["id"],
        "feed_id": feed.json()["id"],
    }


def _headers(world: World, credential: str) -> dict[str, str]:
    return {KEY: world.b.key, MEMBER: world.b.owner, APPLICATION: world.b.application}[credential]


@pytest.mark.parametrize("route", WALK, ids=lambda r: f"{r.method} {r.path}")
def test_seller_b_gets_404_for_seller_a_ids(client: TestClient, world: World, route: Route) -> None:
    path = route.path.format(**world.a_ids)
    for credential in route.credentials:
        headers = {**_headers(world, credential), **dict(route.headers)}
        response = client.request(route.method, path, headers=headers, json=route.body)
        assert_problem(response, 404)
    # and seller A's resources are untouched
    assert (
        client.get(
            f"/api/v1/seller/members/{world.a_ids['member_id']}", headers=world.a.key
        ).status_code
        == 200
    )
    assert (
        client.get(
            f"/api/v1/webhooks/{world.a_ids['subscription_id']}", headers=world.a.key
        ).status_code
        == 200
    )
    assert client.get("/api/v1/seller/profile", headers=world.a.key).json()["status"] == "active"
    ids = world.a_ids
    fulfillment = client.get(
        f"/api/v1/seller/fulfillments/{ids['fulfillment_id']}", headers=world.a.key
    )
    assert fulfillment.json()["status"] == "delivered"
    listing = client.get(f"/api/v1/seller/listings/{ids['listing_id']}", headers=world.a.key)
    assert (listing.json()["revision"], listing.json()["submitted"]["title"]) == (
        1,
        LISTING["title"],
    )
    for path in (f"payouts/{ids['payout_id']}", f"listings/imports/{ids['feed_id']}"):
        assert client.get(f"/api/v1/seller/{path}", headers=world.a.key).status_code == 200


def test_lists_show_only_the_callers_own(client: TestClient, world: World) -> None:
    members = client.get("/api/v1/seller/members", headers=world.b.key).json()["items"]
    keys = client.get("/api/v1/seller/api-keys", headers=world.b.owner).json()["items"]
    hooks = client.get("/api/v1/webhooks", headers=world.b.key).json()["items"]
    profile = client.get("/api/v1/seller/profile", headers=world.b.key).json()
    assert profile["id"] == world.b.id
    assert {m["id"] for m in members}.isdisjoint(world.a_ids.values())
    assert {k["owner_id"] for k in keys} == {world.b.id}
    assert hooks == []


def test_operator_routes_refuse_sellers(client: TestClient, world: World) -> None:
    for path in (
        "/api/v1/admin/seller-applications",
        f"/api/v1/admin/seller-applications/{world.a.id}",
    ):
        assert_problem(client.get(path, headers=world.b.key), 403)
    for action in ("suspend", "close"):
        response = client.post(
            f"/api/v1/admin/sellers/{world.a.id}/{action}",
            json={"reason": "x"},
            headers=world.b.owner,
        )
        assert_problem(response, 403)


def test_every_seller_route_with_an_id_is_walked(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    with_ids = {
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith(SELLER_PREFIXES) and "{" in path
        for method in operations
    }
    walked = {(r.method, r.path) for r in WALK}
    assert with_ids - walked == set(), "add these routes to WALK"
