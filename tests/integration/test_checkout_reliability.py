"""Checkout under pressure: racing buyers, duplicate requests, crashes, expiry.

Each test runs on SQLite and on PostgreSQL, with real threads against the real database.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container, build
from bazaar.http.app import create_app
from bazaar.identity.model import Role
from bazaar.kernel.clock import FixedClock
from bazaar.payments.test_gateway import TestGateway
from tests.support.checkout import guest_cart, order_body, stock_of, stocked_offer
from tests.support.concurrency import race
from tests.support.factories import T0, Account, make_account, test_settings

ORDERS = "/api/v1/orders"


@pytest.fixture
def gateway() -> TestGateway:
    return TestGateway()


@pytest.fixture
def shop(db_url: str, tmp_path: Path, gateway: TestGateway) -> Iterator[Container]:
    # A pool as large as a production process's, so threads race in the database itself
    c = build(test_settings(db_url, tmp_path, database_pool_size=20), gateway=gateway)
    yield c
    c.close()


def test_two_hundred_buyers_race_for_ten_units(
    http: TestClient, shop: Container, staff: Account, gateway: TestGateway
) -> None:
    # Given 10 units and 200 guests, each with the item in their cart
    offer_id, sku = stocked_offer(shop, staff, stock=10)
    carts = [guest_cart(http, offer_id, 1) for _ in range(200)]

    # When all 200 place their order at the same moment
    def buy(i: int) -> int:
        cart_id, headers = carts[i]
        response = http.post(
            ORDERS,
            json=order_body(cart_id),
            headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
        )
        if response.status_code == 409:
            assert response.json()["code"] == "insufficient_stock", response.text
        return response.status_code

    outcomes = Counter(race(200, buy))

    # Then exactly 10 succeed, the others are told the stock ran out, and no unit is lost
    assert outcomes == {201: 10, 409: 190}
    on_hand, reserved, allocated, available = stock_of(shop, sku)
    assert (on_hand, reserved, allocated, available) == (10, 0, 10, 0)
    assert on_hand == allocated + available  # sold + available
    assert len(gateway.authorizations()) == 10


def test_fifty_identical_requests_make_one_order_and_one_charge(
    http: TestClient, shop: Container, staff: Account, gateway: TestGateway
) -> None:
    offer_id, sku = stocked_offer(shop, staff, stock=5)
    cart_id, headers = guest_cart(http, offer_id, 1)
    same = {**headers, "Idempotency-Key": "one-click-fifty-times"}

    responses = race(50, lambda _: http.post(ORDERS, json=order_body(cart_id), headers=same))

    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, statuses
    created = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(created) == 1  # replays carry the same order
    conflicts = [r.json()["code"] for r in responses if r.status_code == 409]
    assert set(conflicts) <= {"idempotency_key_in_use"}
    assert len(gateway.authorizations()) == 1
    assert stock_of(shop, sku) == (5, 0, 1, 4)
    assert len(shop.orders.list_orders(staff.principal, after_id=None, limit=10)) == 1


def test_a_crash_after_authorization_is_repaired_without_a_second_charge(
    http: TestClient, shop: Container, staff: Account, gateway: TestGateway
) -> None:
    # Given a gateway that authorizes and then loses the answer (a timeout after the charge)
    offer_id, sku = stocked_offer(shop, staff, stock=3)
    cart_id, headers = guest_cart(http, offer_id, 2)
    gateway.fail_after_authorize = True

    response = http.post(
        ORDERS, json=order_body(cart_id), headers={**headers, "Idempotency-Key": "crash-1"}
    )

    # Then the order waits, its stock still held, with one authorization at the provider
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "awaiting_payment"
    assert stock_of(shop, sku) == (3, 2, 0, 1)
    gateway.fail_after_authorize = False

    # When the reconciler runs, it finds the authorization under the order's key
    assert shop.checkout.reconcile(older_than=timedelta(seconds=-1)) == 1

    # Then the order is paid, its stock allocated, and nothing was charged twice
    view = shop.orders.view(staff.principal, response.json()["id"])
    assert view.order.status.value == "paid"
    assert stock_of(shop, sku) == (3, 0, 2, 1)
    assert len(gateway.authorizations()) == 1
    # And a retry of the original request replays the accepted answer
    retry = http.post(
        ORDERS, json=order_body(cart_id), headers={**headers, "Idempotency-Key": "crash-1"}
    )
    assert retry.json()["id"] == response.json()["id"]
    assert len(gateway.authorizations()) == 1


def test_a_process_dying_between_gateway_and_database_is_repaired(
    http: TestClient, shop: Container, staff: Account, gateway: TestGateway, monkeypatch: Any
) -> None:
    # Given a process that dies right after the gateway authorized (before recording it)
    offer_id, sku = stocked_offer(shop, staff, stock=3)
    cart_id, headers = guest_cart(http, offer_id, 1)

    def crash(*_: Any, **__: Any) -> None:
        raise RuntimeError("process killed")

    monkeypatch.setattr(shop.checkout, "record_authorization", crash)
    died = http.post(
        ORDERS, json=order_body(cart_id), headers={**headers, "Idempotency-Key": "die-1"}
    )
    assert died.status_code == 500
    monkeypatch.undo()
    assert len(gateway.authorizations()) == 1
    assert stock_of(shop, sku) == (3, 1, 0, 2)

    # When the reconciler runs
    shop.checkout.reconcile(older_than=timedelta(seconds=-1))

    # Then the order completes with the one authorization, and its stock is allocated
    orders = shop.orders.list_orders(staff.principal, after_id=None, limit=5)
    assert [o.order.status.value for o in orders] == ["paid"]
    assert stock_of(shop, sku) == (3, 0, 1, 2)
    assert len(gateway.authorizations()) == 1


def test_expired_reservations_are_released_and_a_late_payment_is_voided(
    db_url: str, tmp_path: Path
) -> None:
    # Given an order waiting for 3-D Secure, with a clock the test moves
    clock = FixedClock(T0)
    gateway = TestGateway()
    shop = build(test_settings(db_url, tmp_path), clock=clock, gateway=gateway)
    try:
        staff = make_account(shop, Role.OPERATOR)
        with TestClient(create_app(shop, run_dispatcher=False)) as http:
            offer_id, sku = stocked_offer(shop, staff, stock=2)
            cart_id, headers = guest_cart(http, offer_id, 2)
            placed = http.post(
                ORDERS,
                json=order_body(cart_id, token="tok_3ds"),
                headers={**headers, "Idempotency-Key": "slow-payer"},
            ).json()
            assert stock_of(shop, sku) == (2, 2, 0, 0)

            # When the reservation outlives its time to live and the sweeper runs
            clock.advance(shop.settings.reservation_ttl_s + 1)
            assert shop.inventory.sweep_expired() == 1
            shop.dispatcher.drain()  # the orders context cancels the unpaid order

            # Then the stock is back on sale and the order is cancelled
            assert stock_of(shop, sku) == (2, 0, 0, 2)
            view = shop.orders.view(staff.principal, placed["id"])
            assert view.order.status.value == "cancelled"

            # And when the customer completes 3-D Secure afterwards, the money is released
            token = {"Order-Token": placed["access_token"]}
            late = http.post(f"{ORDERS}/{placed['id']}/payment/confirm", headers=token)
            assert late.status_code == 200, late.text
            assert late.json()["payment"]["status"] == "voided"
            assert stock_of(shop, sku) == (2, 0, 0, 2)
    finally:
        shop.close()
