"""A seller never reaches another seller's data: every seller route, called by seller B
with seller A's ids, answers 404 - the answer for an id that does not exist.

To add a route: put it in ``WALK`` with the credentials it accepts, and give seller A the
resource its path names in :func:`world` (``A_IDS`` maps each path parameter to it). The
coverage test fails for a seller route with an id that is in neither ``WALK`` nor
``NOT_YET_WALKED``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container
from tests.api.test_sellers import (
    ApprovedSeller,
    application_json,
    approved_seller,
    other_application_json,
)
from tests.support.assertions import assert_problem
from tests.support.factories import Account

KEY, MEMBER, APPLICATION = "key", "member", "application"


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # template: each {name} is filled with seller A's id of that name
    credentials: tuple[str, ...] = (KEY, MEMBER)  # what the route accepts from a seller
    body: dict[str, Any] | None = None


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
]

# Seller routes of other contexts whose resources (fulfillment orders, payouts, listings)
# need their own fixtures: their owners add them to WALK.
NOT_YET_WALKED = {
    ("GET", "/api/v1/seller/fulfillments/{fulfillment_id}"),
    ("POST", "/api/v1/seller/fulfillments/{fulfillment_id}/accept"),
    ("POST", "/api/v1/seller/fulfillments/{fulfillment_id}/reject"),
    ("POST", "/api/v1/seller/fulfillments/{fulfillment_id}/ship"),
    ("POST", "/api/v1/seller/fulfillments/{fulfillment_id}/deliver"),
    ("GET", "/api/v1/seller/payouts/{payout_id}"),
    ("GET", "/api/v1/seller/listings/{listing_id}"),
    ("PUT", "/api/v1/seller/listings/{listing_id}"),
    ("GET", "/api/v1/seller/listings/imports/{feed_id}"),
}

SELLER_PREFIXES = ("/api/v1/seller/", "/api/v1/seller-applications/", "/api/v1/webhooks/")


@dataclass(frozen=True)
class World:
    a: ApprovedSeller
    b: ApprovedSeller
    a_ids: dict[str, str]  # path parameter -> seller A's id of that kind


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
        },
    )


def _headers(world: World, credential: str) -> dict[str, str]:
    return {KEY: world.b.key, MEMBER: world.b.owner, APPLICATION: world.b.application}[credential]


@pytest.mark.parametrize("route", WALK, ids=lambda r: f"{r.method} {r.path}")
def test_seller_b_gets_404_for_seller_a_ids(client: TestClient, world: World, route: Route) -> None:
    path = route.path.format(**world.a_ids)
    for credential in route.credentials:
        response = client.request(
            route.method, path, headers=_headers(world, credential), json=route.body
        )
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
    assert with_ids - walked - NOT_YET_WALKED == set(), "add these routes to WALK"
