"""The operator's views: the audit log, the delivery queue and replaying dead letters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container, build
from bazaar.catalog.events import ProductCreated
from bazaar.http.app import create_app
from bazaar.identity.model import Role
from bazaar.kernel.clock import FixedClock
from bazaar.kernel.events import StoredEvent
from tests.support.assertions import assert_problem
from tests.support.factories import (
    T0,
    Account,
    ensure_category,
    make_account,
    make_product,
    product_json,
    test_settings,
)

EVENTS = "/api/v1/admin/events"
DELIVERIES = "/api/v1/admin/deliveries"
FAILING = "handler:test.failing"


@pytest.fixture(autouse=True)
def _category(container: Container, operator: Account) -> None:
    ensure_category(container, operator, "apparel/t-shirts")


def post_product(client: TestClient, operator: Account, sku: str, request_id: str) -> str:
    response = client.post(
        "/api/v1/products",
        json=product_json(sku, offers=[]),
        headers={**operator.headers, "X-Request-Id": request_id},
    )
    assert response.status_code == 201, response.text
    product_id: str = response.json()["id"]
    return product_id


def events(client: TestClient, operator: Account, **params: Any) -> list[dict[str, Any]]:
    response = client.get(EVENTS, params=params, headers=operator.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


# --- the audit log ---------------------------------------------------------------------------


def test_the_audit_log_lists_changes_newest_first_with_actor_and_request(
    client: TestClient, operator: Account
) -> None:
    # given two products and an API key created by an operator, each under its own request id
    first = post_product(client, operator, "SKU-A", "req-first-product")
    second = post_product(client, operator, "SKU-B", "req-second-product")
    key = client.post(
        "/api/v1/api-keys",
        json={
            "name": "feed",
            "scopes": ["stock:write"],
            "owner_type": "partner",
            "owner_id": "prt_01feed",
        },
        headers={**operator.headers, "X-Request-Id": "req-api-key"},
    )
    assert key.status_code == 201

    # when the operator reads the audit log
    items = events(client, operator)

    # then the changes are there, newest first, with who did them and under which request
    caused = [(e["type"], e["subject_id"], e["request_id"]) for e in items[:3]]
    assert caused == [
        ("ApiKeyCreated", key.json()["id"], "req-api-key"),
        ("ProductCreated", second, "req-second-product"),
        ("ProductCreated", first, "req-first-product"),
    ]
    for event in items[:3]:
        assert event["actor_type"] == "user"
        assert event["actor_id"] == operator.user.id
    assert items[1]["payload"]["skus"] == ["SKU-B"]
    assert items[1]["payload"]["title"] == "Product SKU-B"
    assert [e["id"] for e in items] == sorted((e["id"] for e in items), reverse=True)


def test_the_audit_log_filters(client: TestClient, container: Container, operator: Account) -> None:
    # given products made by two operators, and a registration
    other = make_account(container, Role.OPERATOR)
    mine = make_product(container, operator, offers=[])
    theirs = make_product(container, other, offers=[])
    registered = client.post(
        "/api/v1/auth/register",
        json={"email": "shopper@example.com", "password": "a long enough password"},
    )
    assert registered.status_code == 201

    # when the log is filtered by type, subject and actor
    by_type = events(client, operator, type="ProductCreated")
    by_subject = events(client, operator, subject_id=mine.id)
    by_actor = events(client, operator, actor_id=other.user.id)
    by_subject_type = events(client, operator, subject_type="user")

    # then each filter keeps exactly the matching events
    assert [e["subject_id"] for e in by_type] == [theirs.id, mine.id]
    assert [(e["type"], e["subject_id"]) for e in by_subject] == [("ProductCreated", mine.id)]
    assert [e["subject_id"] for e in by_actor] == [theirs.id]
    assert {e["subject_id"] for e in by_subject_type} == {
        operator.user.id,
        other.user.id,
        registered.json()["id"],
    }
    assert events(client, operator, type="NoSuchEvent") == []


@pytest.fixture
def clocked(db_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Container]:
    c = build(test_settings(db_url, tmp_path, delivery_max_attempts=2), clock=clock)
    yield c
    c.close()


def test_the_audit_log_filters_by_time(clocked: Container, clock: FixedClock) -> None:
    # given one product now and another an hour later
    operator = make_account(clocked, Role.OPERATOR)
    early = make_product(clocked, operator, offers=[])
    clock.advance(3600)
    late = make_product(clocked, operator, offers=[])
    middle = (T0 + timedelta(minutes=30)).isoformat()

    with TestClient(create_app(clocked, run_dispatcher=False)) as client:
        # when the log is read since and until the half hour
        since = events(client, operator, type="ProductCreated", since=middle)
        until = events(client, operator, type="ProductCreated", until=middle)
        window = events(client, operator, since=T0.isoformat(), until=middle)
        # and with an empty window
        backwards = client.get(
            EVENTS, params={"since": middle, "until": T0.isoformat()}, headers=operator.headers
        )
        empty = client.get(
            EVENTS, params={"since": middle, "until": middle}, headers=operator.headers
        )

    # then each side holds one product, and an empty or backwards window is refused
    assert [e["subject_id"] for e in since] == [late.id]
    assert [e["subject_id"] for e in until] == [early.id]
    assert [e["type"] for e in window] == ["ProductCreated", "UserRegistered"]
    for response in (backwards, empty):
        problem = assert_problem(response, 422)
        assert [e["field"] for e in problem["errors"]] == ["until"]


def test_paging_through_the_audit_log_visits_every_event_once(
    client: TestClient, container: Container, operator: Account
) -> None:
    # given several events
    for _ in range(4):
        make_product(container, operator, offers=[])
    everything = [e["id"] for e in events(client, operator)]
    # four products, the operator's registration and the two categories of the fixture
    assert len(everything) == 7

    # when the log is walked one event per page
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params: dict[str, Any] = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = client.get(EVENTS, params=params, headers=operator.headers).json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    # then every event appears once, in the same order as the full list
    assert seen == everything


def test_an_audit_log_cursor_is_bound_to_its_filters(
    client: TestClient, container: Container, operator: Account
) -> None:
    # given a cursor from the ProductCreated view
    for _ in range(2):
        make_product(container, operator, offers=[])
    page = client.get(
        EVENTS, params={"limit": 1, "type": "ProductCreated"}, headers=operator.headers
    ).json()

    # when it is used without the filter
    response = client.get(
        EVENTS, params={"limit": 1, "cursor": page["next_cursor"]}, headers=operator.headers
    )

    # then it is refused
    problem = assert_problem(response, 422)
    assert [e["field"] for e in problem["errors"]] == ["cursor"]


def test_one_audit_event_by_id(client: TestClient, container: Container, operator: Account) -> None:
    # given a product's event
    product = make_product(container, operator, offers=[])
    listed = events(client, operator, subject_id=product.id)[0]

    # when it is fetched by id
    response = client.get(f"{EVENTS}/{listed['id']}", headers=operator.headers)

    # then it is the same event, and an unknown id is a 404
    assert response.status_code == 200
    assert response.json() == listed
    assert_problem(client.get(f"{EVENTS}/evt_unknown", headers=operator.headers), 404)


@pytest.mark.parametrize("path", [EVENTS, f"{EVENTS}/evt_x", DELIVERIES, f"{DELIVERIES}/dlv_x"])
def test_the_operator_views_refuse_customers_and_anonymous_callers(
    client: TestClient, customer: Account, path: str
) -> None:
    assert_problem(client.get(path, headers=customer.headers), 403)
    assert_problem(client.get(path), 401)


# --- deliveries and dead letters -------------------------------------------------------------


class Switchable:
    """A handler that fails until told to succeed, remembering what it saw."""

    def __init__(self) -> None:
        self.failing = True
        self.seen: list[str] = []

    def __call__(self, event: StoredEvent) -> None:
        self.seen.append(event.id)
        if self.failing:
            raise RuntimeError("downstream is down")


def drain_until_settled(container: Container, clock: FixedClock) -> None:
    """Run the dispatcher, moving time past each backoff, until nothing is left to retry."""
    for _ in range(container.settings.delivery_max_attempts + 1):
        container.dispatcher.drain()
        clock.advance(container.settings.delivery_backoff_max_s)


def test_a_dead_delivery_is_visible_and_can_be_replayed(
    clocked: Container, clock: FixedClock
) -> None:
    # given a handler that always fails, and a product whose event it receives
    handler = Switchable()
    clocked.handlers.register(ProductCreated, "test.failing", handler)
    operator = make_account(clocked, Role.OPERATOR)
    with TestClient(create_app(clocked, run_dispatcher=False)) as client:
        product_id = post_product(client, operator, "SKU-DEAD", "req-dead")

        # when the dispatcher has used up the attempts
        drain_until_settled(clocked, clock)

        # then the dead-letter view shows the delivery
        dead = client.get(DELIVERIES, params={"status": "dead"}, headers=operator.headers)
        assert dead.status_code == 200
        [delivery] = dead.json()["items"]
        assert delivery["subscriber"] == FAILING
        assert delivery["event_type"] == "ProductCreated"
        assert delivery["attempts"] == 2
        assert delivery["last_error"] == "RuntimeError: downstream is down"
        assert len(handler.seen) == 2

        # and its detail shows both failed attempts
        detail = client.get(f"{DELIVERIES}/{delivery['id']}", headers=operator.headers).json()
        assert [(a["attempt"], a["ok"]) for a in detail["history"]] == [(1, False), (2, False)]
        assert all(a["error"] == "RuntimeError: downstream is down" for a in detail["history"])
        event = client.get(f"{EVENTS}/{delivery['event_id']}", headers=operator.headers).json()
        assert event["subject_id"] == product_id

        # and the other subscriber of the same event was delivered
        delivered = client.get(
            DELIVERIES, params={"status": "delivered"}, headers=operator.headers
        ).json()["items"]
        assert sorted(d["subscriber"] for d in delivered if d["event_id"] == event["id"]) == [
            "handler:catalog.invalidate_pages",
            "handler:inventory.stock_of_new_offers",
        ]

        # when the subscriber recovers and the operator replays the delivery
        handler.failing = False
        replayed = client.post(
            f"{DELIVERIES}/{delivery['id']}/retry",
            headers={**operator.headers, "X-Request-Id": "req-replay"},
        )

        # then it is pending again with a fresh budget, and the next pass delivers it
        assert replayed.status_code == 200, replayed.text
        assert replayed.json()["status"] == "pending"
        assert replayed.json()["attempts"] == 0
        assert clocked.dispatcher.drain() == 1
        after = client.get(f"{DELIVERIES}/{delivery['id']}", headers=operator.headers).json()
        assert after["status"] == "delivered"
        assert after["delivered_at"] is not None
        assert [a["ok"] for a in after["history"]] == [False, False, True]
        assert (
            client.get(DELIVERIES, params={"status": "dead"}, headers=operator.headers).json()[
                "items"
            ]
            == []
        )

        # and a delivery that is not dead cannot be replayed
        again = client.post(f"{DELIVERIES}/{delivery['id']}/retry", headers=operator.headers)
        assert_problem(again, 409)

        # and the replay is in the audit log, by the operator, under its request
        [audit] = events(client, operator, type="DeliveryReplayed")
        assert audit["subject_id"] == delivery["id"]
        assert audit["actor_id"] == operator.user.id
        assert audit["request_id"] == "req-replay"
        assert audit["payload"]["subscriber"] == FAILING


def test_delivery_filters(client: TestClient, container: Container, operator: Account) -> None:
    # given one product's pending delivery
    make_product(container, operator, offers=[])

    # when the queue is filtered
    pending = client.get(DELIVERIES, params={"status": "pending"}, headers=operator.headers)
    by_type = client.get(
        DELIVERIES, params={"event_type": "UserRegistered"}, headers=operator.headers
    )
    bogus = client.get(DELIVERIES, params={"status": "bogus"}, headers=operator.headers)

    # then the filters apply and an unknown status is refused
    # (the fixture's two categories are waiting for the catalog's listing handler too, and
    # the product for inventory's handler of new offers besides the catalog's)
    assert sorted(d["event_type"] for d in pending.json()["items"]) == [
        "CategoryCreated",
        "CategoryCreated",
        "ProductCreated",
        "ProductCreated",
    ]
    assert by_type.json()["items"] == []
    problem = assert_problem(bogus, 422)
    assert [e["field"] for e in problem["errors"]] == ["status"]


def test_replaying_an_unknown_delivery_is_a_404(client: TestClient, operator: Account) -> None:
    response = client.post(f"{DELIVERIES}/dlv_unknown/retry", headers=operator.headers)

    assert_problem(response, 404)
