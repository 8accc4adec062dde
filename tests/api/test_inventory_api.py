"""Warehouses, stock levels and stock feeds over HTTP: roles, scopes, problem+json fields."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container
from bazaar.inventory.allocation import AllocationLine
from bazaar.kernel.events import Actor
from bazaar.kernel.ids import new_id
from tests.support.assertions import assert_problem
from tests.support.factories import T0, Account

WAREHOUSES = "/api/v1/warehouses"
STOCK = "/api/v1/stock"
SYNC = "/api/v1/stock/sync"


def fields(problem: dict[str, Any]) -> list[str]:
    return [e["field"] for e in problem.get("errors", [])]


def create_warehouse(client: TestClient, who: Account, **body: Any) -> dict[str, Any]:
    payload = {"name": "Venlo DC", "country": "NL"} | body
    response = client.post(WAREHOUSES, json=payload, headers=who.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def partner_key(client: TestClient, operator: Account, scopes: list[str]) -> tuple[str, str]:
    """An API key of a new partner with ``scopes``: (partner id, secret)."""
    partner_id = new_id("prt")
    response = client.post(
        "/api/v1/api-keys",
        json={"name": "wms", "scopes": scopes, "owner_type": "partner", "owner_id": partner_id},
        headers=operator.headers,
    )
    assert response.status_code == 201, response.text
    return partner_id, response.json()["secret"]


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


# --- warehouses ------------------------------------------------------------------------------


def test_an_operator_creates_lists_and_updates_warehouses(
    client: TestClient, operator: Account
) -> None:
    # when an operator creates two warehouses
    venlo = create_warehouse(client, operator, priority=1)
    created = client.post(
        WAREHOUSES,
        json={"name": "Berlin", "country": "DE", "owner": "retailer"},
        headers=operator.headers,
    )

    # then each has an id and a location, and both are listed
    assert created.status_code == 201
    berlin = created.json()
    assert created.headers["location"] == f"{WAREHOUSES}/{berlin['id']}"
    assert venlo | {"id": "x"} == {
        "id": "x",
        "name": "Venlo DC",
        "owner": "retailer",
        "country": "NL",
        "priority": 1,
        "active": True,
    }
    listed = client.get(WAREHOUSES, params={"owner": "retailer"}, headers=operator.headers)
    assert [w["id"] for w in listed.json()["items"]] == [venlo["id"], berlin["id"]]
    page = client.get(WAREHOUSES, params={"limit": 1}, headers=operator.headers).json()
    assert len(page["items"]) == 1
    assert page["next_cursor"]

    # when one is deactivated and renamed
    patched = client.patch(
        f"{WAREHOUSES}/{venlo['id']}",
        json={"active": False, "name": "Venlo (closed)"},
        headers=operator.headers,
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["active"], patched.json()["name"]) == (False, "Venlo (closed)")
    got = client.get(f"{WAREHOUSES}/{venlo['id']}", headers=operator.headers)
    assert got.json()["active"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "country": "nl"}, "country"),
        ({"name": "X", "country": "Netherlands"}, "country"),
        ({"country": "NL"}, "name"),
        ({"name": "X", "country": "NL", "owner": "Not An Id"}, "owner"),
        ({"name": "X", "country": "NL", "priority": -1}, "priority"),
        ({"name": "X", "country": "NL", "colour": "red"}, "colour"),
    ],
)
def test_invalid_warehouses_are_a_422_naming_the_field(
    client: TestClient, operator: Account, body: dict[str, Any], field: str
) -> None:
    problem = assert_problem(client.post(WAREHOUSES, json=body, headers=operator.headers), 422)
    assert fields(problem) == [field]


def test_warehouses_are_for_operators(
    client: TestClient, customer: Account, operator: Account
) -> None:
    assert_problem(client.get(WAREHOUSES), 401)
    assert_problem(client.get(WAREHOUSES, headers=customer.headers), 403)
    assert_problem(
        client.post(WAREHOUSES, json={"name": "X", "country": "NL"}, headers=customer.headers),
        403,
    )
    missing = client.patch(f"{WAREHOUSES}/whs_nope", json={}, headers=operator.headers)
    assert_problem(missing, 404)


# --- stock levels ----------------------------------------------------------------------------


def test_an_operator_sets_and_reads_stock_levels(
    client: TestClient, container: Container, operator: Account
) -> None:
    # given a warehouse
    w = create_warehouse(client, operator)

    # when the operator counts a SKU and sets its threshold
    put = client.put(
        f"{STOCK}/MUG-1/{w['id']}",
        json={"on_hand": 12, "low_stock_threshold": 3},
        headers=operator.headers,
    )

    # then the level is answered and listed per warehouse
    assert put.status_code == 200, put.text
    expected = {
        "sku": "MUG-1",
        "warehouse_id": w["id"],
        "warehouse_name": "Venlo DC",
        "owner": "retailer",
        "warehouse_active": True,
        "on_hand": 12,
        "reserved": 0,
        "allocated": 0,
        "available": 12,
        "low_stock_threshold": 3,
    }
    assert {k: v for k, v in put.json().items() if k != "updated_at"} == expected
    listed = client.get(STOCK, params={"sku": ["MUG-1", "NONE"]}, headers=operator.headers)
    assert [{k: v for k, v in i.items() if k != "updated_at"} for i in listed.json()["items"]] == [
        expected
    ]

    # and a count below what orders hold is a 409 naming on_hand
    with container.uow(Actor.system("test")) as uow:
        container.inventory.reserve(
            uow,
            "ord_1",
            [AllocationLine("l1", "MUG-1", 5, "retailer")],
            destination_country="NL",
            now=T0,
        )
        uow.commit()
    below = client.put(f"{STOCK}/MUG-1/{w['id']}", json={"on_hand": 4}, headers=operator.headers)
    problem = assert_problem(below, 409)
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [("on_hand", "below_committed")]


def test_invalid_stock_requests_name_the_field(client: TestClient, operator: Account) -> None:
    w = create_warehouse(client, operator)
    path = f"{STOCK}/MUG-1/{w['id']}"
    for body, field in (
        ({"on_hand": -1}, "on_hand"),
        ({"on_hand": "many"}, "on_hand"),
        ({"on_hand": 1, "low_stock_threshold": -2}, "low_stock_threshold"),
        ({}, "on_hand"),
    ):
        problem = assert_problem(client.put(path, json=body, headers=operator.headers), 422)
        assert fields(problem) == [field], body
    spaced = client.put(f"{STOCK}/MUG%201/{w['id']}", json={"on_hand": 1}, headers=operator.headers)
    assert fields(assert_problem(spaced, 422)) == ["sku"]
    unknown = client.put(
        f"{STOCK}/MUG-1/whs_missing", json={"on_hand": 1}, headers=operator.headers
    )
    assert_problem(unknown, 404)
    assert fields(assert_problem(client.get(STOCK, headers=operator.headers), 422)) == ["sku"]


# --- stock feeds -----------------------------------------------------------------------------


def test_a_partner_key_syncs_its_warehouses_and_gets_each_outcome(
    client: TestClient, operator: Account
) -> None:
    # given a partner with a stock:write key and a warehouse
    partner_id, secret = partner_key(client, operator, ["stock:write"])
    w = create_warehouse(client, operator, owner=partner_id)
    other = create_warehouse(client, operator)  # the retailer's
    items = [
        {"sku": "P-1", "warehouse_id": w["id"], "on_hand": 8, "sequence": 2},
        {"sku": "P-1", "warehouse_id": w["id"], "on_hand": 9, "sequence": 1},
        {"sku": "P-2", "warehouse_id": w["id"], "delta": -1, "idempotency_key": "k-1"},
        {"sku": "P-1", "warehouse_id": other["id"], "on_hand": 1, "sequence": 1},
    ]

    # when its WMS posts a batch, twice
    first = client.post(SYNC, json={"source": "wms-1", "items": items}, headers=bearer(secret))
    again = client.post(SYNC, json={"source": "wms-1", "items": items}, headers=bearer(secret))

    # then every item has an outcome, and the retry changes nothing
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["applied"], body["stale"], body["duplicate"], body["rejected"]) == (1, 1, 0, 2)
    assert [(i["index"], i["outcome"], i["reason"], i["on_hand"]) for i in body["items"]] == [
        (0, "applied", None, 8),
        (1, "stale", "stale_sequence", None),
        (2, "rejected", "negative_on_hand", None),
        (3, "rejected", "unknown_warehouse", None),
    ]
    assert [i["outcome"] for i in again.json()["items"]] == [
        "stale",
        "stale",
        "rejected",
        "rejected",
    ]
    levels = client.get(STOCK, params={"sku": "P-1"}, headers=operator.headers).json()["items"]
    assert [(i["warehouse_id"], i["on_hand"]) for i in levels] == [(w["id"], 8)]


def test_a_feed_needs_the_stock_write_scope(
    client: TestClient, operator: Account, customer: Account
) -> None:
    partner_id, secret = partner_key(client, operator, ["orders:read"])
    w = create_warehouse(client, operator, owner=partner_id)
    body = {
        "source": "wms",
        "items": [{"sku": "S-1", "warehouse_id": w["id"], "on_hand": 1, "sequence": 1}],
    }
    problem = assert_problem(client.post(SYNC, json=body, headers=bearer(secret)), 403)
    assert "stock:write" in problem["detail"]
    assert_problem(client.post(SYNC, json=body, headers=customer.headers), 403)
    assert_problem(client.post(SYNC, json=body), 401)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"items": [{"sku": "S", "warehouse_id": "w", "on_hand": 1, "sequence": 1}]}, "source"),
        ({"source": "has space", "items": []}, "source"),
        ({"source": "wms", "items": []}, "items"),
        (
            {
                "source": "wms",
                "items": [
                    {"sku": "S", "warehouse_id": "w", "on_hand": 1, "delta": 1, "sequence": 1}
                ],
            },
            "items[0].on_hand",
        ),
        (
            {"source": "wms", "items": [{"sku": "S", "warehouse_id": "w", "on_hand": 1}]},
            "items[0].sequence",
        ),
        (
            {
                "source": "wms",
                "items": [
                    {"sku": "S", "warehouse_id": "w", "on_hand": 1, "sequence": 1},
                    {"sku": "S", "warehouse_id": "w", "on_hand": -1, "sequence": 2},
                ],
            },
            "items[1].on_hand",
        ),
        (
            {
                "source": "wms",
                "items": [{"sku": "S S", "warehouse_id": "w", "on_hand": 1, "sequence": 1}],
            },
            "items[0].sku",
        ),
        (
            {
                "source": "wms",
                "items": [{"sku": "S", "warehouse_id": "w", "on_hand": 1, "sequence": 1}] * 1001,
            },
            "items",
        ),
    ],
)
def test_invalid_feeds_are_a_422_naming_the_field(
    client: TestClient, operator: Account, body: dict[str, Any], field: str
) -> None:
    _, secret = partner_key(client, operator, ["stock:write"])
    problem = assert_problem(client.post(SYNC, json=body, headers=bearer(secret)), 422)
    assert field in fields(problem), problem
