"""Checkout over HTTP: placing orders, payment outcomes, idempotency, access, cancel, returns.

Every test runs on SQLite and on PostgreSQL with the built-in test gateway.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container, build
from bazaar.http.app import create_app
from bazaar.identity.model import Role
from bazaar.payments.test_gateway import TestGateway
from tests.support.assertions import StatementCounter, assert_problem
from tests.support.checkout import ADDRESS, guest_cart, order_body, stock_of, stocked_offer
from tests.support.factories import Account, make_account, test_settings

ORDERS = "/api/v1/orders"
# Statements of a one-line checkout, end to end, BEGINs included (see docs/checkout.md).
ONE_LINE_SQLITE = 26
ONE_LINE_POSTGRES = 23


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def place(
    client: TestClient, cart_headers: dict[str, str], body: dict[str, Any], **headers: str
) -> Any:
    return client.post(ORDERS, json=body, headers={**cart_headers, **key(), **headers})


def gateway_of(container: Container) -> TestGateway:
    gateway = container.payments.gateway
    assert isinstance(gateway, TestGateway)
    return gateway


def test_a_guest_order_is_paid_split_and_its_stock_allocated(
    client: TestClient, container: Container, operator: Account
) -> None:
    # Given a product with 5 in stock and a guest cart holding 2
    offer_id, sku = stocked_offer(container, operator, stock=5, price=2000)
    cart_id, headers = guest_cart(client, offer_id, 2)

    # When the guest places the order with a token that authorizes
    response = place(client, headers, order_body(cart_id))

    # Then the order is paid, one fulfillment order is open, and 2 units are allocated
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "paid"
    assert order["grand_total"]["amount"] == 4495  # 2 x 20.00 + 4.95 shipping, VAT included
    assert order["payment"]["status"] == "authorized"  # captured at shipment by default
    assert [f["status"] for f in order["fulfillments"]] == ["pending"]
    assert response.headers["cache-control"] == "no-store"
    assert stock_of(container, sku) == (5, 0, 2, 3)
    assert len(gateway_of(container).authorizations()) == 1

    # And the guest reads it with its order token only; anyone else is told it does not exist
    token = {"Order-Token": order["access_token"]}
    assert client.get(f"{ORDERS}/{order['id']}", headers=token).json()["status"] == "paid"
    assert_problem(client.get(f"{ORDERS}/{order['id']}"), 404)
    stranger = make_account(container, Role.CUSTOMER)
    assert_problem(client.get(f"{ORDERS}/{order['id']}", headers=stranger.headers), 404)
    # And the cart is spent
    assert_problem(place(client, headers, order_body(cart_id)), 409)


def test_an_answer_recorded_first_by_someone_else_is_not_applied_twice(
    client: TestClient, container: Container, operator: Account, monkeypatch: Any
) -> None:
    # Given a gateway whose answer the reconciler records while the request still waits
    offer_id, sku = stocked_offer(container, operator, stock=5)
    cart_id, headers = guest_cart(client, offer_id, 2)
    gateway = gateway_of(container)
    authorize = gateway.authorize

    def answer_twice(*args: Any, **kwargs: Any) -> Any:
        result = authorize(*args, **kwargs)
        container.checkout.record_authorization(kwargs["order_id"], result)
        return result

    monkeypatch.setattr(gateway, "authorize", answer_twice)

    # When the order is placed, its transaction 2 finds the payment already recorded
    response = place(client, headers, order_body(cart_id))

    # Then it answers from what is stored: paid once, one fulfillment, 2 units allocated once
    assert response.status_code == 201, response.text
    order = response.json()
    assert (order["status"], order["payment"]["status"]) == ("paid", "authorized")
    assert len(order["fulfillments"]) == 1
    assert stock_of(container, sku) == (5, 0, 2, 3)
    assert len(gateway.authorizations()) == 1
    # and the replay of its key is the same answer
    replay = client.post(
        ORDERS,
        json=order_body(cart_id),
        headers={**headers, "Idempotency-Key": response.request.headers["Idempotency-Key"]},
    )
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == order


def test_a_declined_payment_fails_the_order_and_releases_its_stock(
    client: TestClient, container: Container, operator: Account
) -> None:
    offer_id, sku = stocked_offer(container, operator, stock=3)
    cart_id, headers = guest_cart(client, offer_id, 2)

    response = place(client, headers, order_body(cart_id, token="tok_decline"))

    problem = assert_problem(response, 402)
    assert problem["code"] == "payment_declined"
    assert problem["decline_code"] == "card_declined"
    order = container.orders.view(operator.principal, problem["order_id"])
    assert order.order.status.value == "payment_failed"
    assert stock_of(container, sku) == (3, 0, 0, 3)


def test_three_d_secure_waits_for_the_confirmation(
    client: TestClient, container: Container, operator: Account
) -> None:
    offer_id, sku = stocked_offer(container, operator, stock=3)
    cart_id, headers = guest_cart(client, offer_id, 1)

    response = place(client, headers, order_body(cart_id, token="tok_3ds"))

    assert response.status_code == 201, response.text
    order = response.json()
    assert (order["status"], order["payment"]["status"]) == ("awaiting_payment", "requires_action")
    assert order["payment"]["action_url"]
    assert stock_of(container, sku) == (3, 1, 0, 2)

    token = {"Order-Token": order["access_token"]}
    confirmed = client.post(f"{ORDERS}/{order['id']}/payment/confirm", headers=token)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "paid"
    assert stock_of(container, sku) == (3, 0, 1, 2)
    # A second confirmation (a double click) changes nothing
    again = client.post(f"{ORDERS}/{order['id']}/payment/confirm", headers=token)
    assert again.json()["status"] == "paid"
    assert len(gateway_of(container).authorizations()) == 1


def test_an_unreachable_gateway_leaves_the_order_pending_for_the_reconciler(
    client: TestClient, container: Container, operator: Account
) -> None:
    offer_id, sku = stocked_offer(container, operator, stock=3)
    cart_id, headers = guest_cart(client, offer_id, 1)

    response = place(client, headers, order_body(cart_id, token="tok_network_error"))

    assert response.status_code == 202, response.text
    assert response.json()["payment"]["status"] == "pending"
    assert stock_of(container, sku) == (3, 1, 0, 2)

    # The gateway never saw the request: the reconciler fails the order and frees the stock
    assert container.checkout.reconcile(older_than=_no_wait()) == 1
    view = container.orders.view(operator.principal, response.json()["id"])
    assert view.order.status.value == "payment_failed"
    assert stock_of(container, sku) == (3, 0, 0, 3)


def _no_wait() -> timedelta:
    return timedelta(seconds=-1)  # settle everything pending, however recent


def test_the_same_idempotency_key_replays_and_a_different_body_is_refused(
    client: TestClient, container: Container, operator: Account
) -> None:
    offer_id, sku = stocked_offer(container, operator, stock=5)
    cart_id, headers = guest_cart(client, offer_id, 1)
    same = {**headers, "Idempotency-Key": "order-attempt-1"}
    body = order_body(cart_id)

    first = client.post(ORDERS, json=body, headers=same)
    second = client.post(ORDERS, json=body, headers=same)
    other = client.post(ORDERS, json={**body, "email": "someone@example.com"}, headers=same)
    missing = client.post(ORDERS, json=body, headers=headers)

    assert first.status_code == 201, first.text
    assert second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]
    problem = assert_problem(other, 422)
    assert problem["errors"][0]["field"] == "header.Idempotency-Key"
    assert assert_problem(missing, 422)["errors"][0]["field"] == "header.Idempotency-Key"
    assert len(gateway_of(container).authorizations()) == 1
    assert stock_of(container, sku) == (5, 0, 1, 4)


def test_out_of_stock_creates_nothing_and_the_key_can_be_retried(
    client: TestClient, container: Container, operator: Account
) -> None:
    offer_id, sku = stocked_offer(container, operator, stock=2)
    cart_id, headers = guest_cart(client, offer_id, 2)
    # another shopper buys one unit first
    other_cart, other_headers = guest_cart(client, offer_id, 1)
    assert place(client, other_headers, order_body(other_cart)).status_code == 201

    retry_key = {**headers, "Idempotency-Key": "retry-me"}
    refused = client.post(ORDERS, json=order_body(cart_id), headers=retry_key)

    assert assert_problem(refused, 409)["code"] == "insufficient_stock"
    assert stock_of(container, sku) == (2, 0, 1, 1)
    # After a restock the same key goes through (nothing was recorded under it)
    warehouse = container.inventory.levels([sku])[0].level.warehouse_id
    container.inventory.set_stock(operator.principal, sku, warehouse, 5)
    assert client.post(ORDERS, json=order_body(cart_id), headers=retry_key).status_code == 201


def test_card_numbers_and_bad_addresses_are_refused_naming_the_field(
    client: TestClient, container: Container, operator: Account
) -> None:
    offer_id, sku = stocked_offer(container, operator, stock=2)
    cart_id, headers = guest_cart(client, offer_id, 1)

    card = place(
        client,
        headers,
        order_body(cart_id, shipping_address={**ADDRESS, "line2": "4111 1111 1111 1111"}),
    )
    postcode = place(
        client, headers, order_body(cart_id, shipping_address={**ADDRESS, "postcode": "ABC"})
    )
    email = place(client, headers, order_body(cart_id, email="not-an-email"))

    problem = assert_problem(card, 422)
    assert problem["errors"][0]["field"] == "body.shipping_address.line2"
    assert "4111" not in card.text
    assert assert_problem(postcode, 422)["errors"][0]["field"] == "shipping_address.postcode"
    assert assert_problem(email, 422)["errors"][0]["field"] == "email"
    assert stock_of(container, sku) == (2, 0, 0, 2)
    assert gateway_of(container).authorizations() == []


def test_customers_list_only_their_own_orders(
    client: TestClient, container: Container, operator: Account, customer: Account
) -> None:
    offer_id, _ = stocked_offer(container, operator, stock=5)
    cart = client.post("/api/v1/carts", json={"country": "NL"}, headers=customer.headers).json()
    client.post(
        f"/api/v1/carts/{cart['id']}/items",
        json={"offer_id": offer_id, "quantity": 1},
        headers=customer.headers,
    )
    mine = place(client, customer.headers, order_body(cart["id"]))
    assert mine.status_code == 201, mine.text
    other_cart, other_headers = guest_cart(client, offer_id, 1)
    place(client, other_headers, order_body(other_cart))

    listed = client.get(ORDERS, headers=customer.headers).json()["items"]
    assert [o["id"] for o in listed] == [mine.json()["id"]]
    assert mine.json()["customer_id"] == customer.user.id
    everyone = client.get(ORDERS, headers=operator.headers).json()["items"]
    assert len(everyone) == 2


def test_cancel_before_shipment_voids_and_releases(
    client: TestClient, container: Container, operator: Account
) -> None:
    offer_id, sku = stocked_offer(container, operator, stock=4)
    cart_id, headers = guest_cart(client, offer_id, 2)
    order = place(client, headers, order_body(cart_id)).json()
    token = {"Order-Token": order["access_token"]}

    cancelled = client.post(f"{ORDERS}/{order['id']}/cancel", json={}, headers=token)

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["payment"]["status"] == "voided"
    assert [f["status"] for f in cancelled.json()["fulfillments"]] == ["cancelled"]
    assert stock_of(container, sku) == (4, 0, 0, 4)


def test_shipping_captures_and_a_received_return_is_refunded_and_restocked(
    client: TestClient, container: Container, operator: Account
) -> None:
    offer_id, sku = stocked_offer(container, operator, stock=4, price=3000)
    cart_id, headers = guest_cart(client, offer_id, 2)
    order = place(client, headers, order_body(cart_id)).json()
    token = {"Order-Token": order["access_token"]}
    fulfillment = order["fulfillments"][0]["id"]

    # The operator ships it: the payment is captured, the units leave the shelf
    shipped = client.post(
        f"/api/v1/admin/fulfillments/{fulfillment}/ship",
        json={"carrier": "PostNL", "tracking_number": "3SABC123"},
        headers=operator.headers,
    )
    assert shipped.status_code == 200, shipped.text
    after_ship = client.get(f"{ORDERS}/{order['id']}", headers=token).json()
    assert after_ship["status"] == "fulfilled"
    assert after_ship["payment"]["status"] == "captured"
    assert stock_of(container, sku) == (2, 0, 0, 2)

    # The customer sends one unit back; the operator approves and receives it
    line = order["lines"][0]["id"]
    requested = client.post(
        f"{ORDERS}/{order['id']}/returns",
        json={"lines": [{"line_id": line, "quantity": 1}], "reason": "too small"},
        headers=token,
    )
    assert requested.status_code == 201, requested.text
    return_id = requested.json()["id"]
    ops = operator.headers
    assert client.post(f"/api/v1/admin/returns/{return_id}/approve", headers=ops).is_success
    received = client.post(f"/api/v1/admin/returns/{return_id}/receive", json={}, headers=ops)

    assert received.status_code == 200, received.text
    assert received.json()["refunded"] == {"amount": 3000, "currency": "EUR"}
    final = client.get(f"{ORDERS}/{order['id']}", headers=token).json()
    assert final["status"] == "partially_refunded"
    assert final["payment"]["refunded"]["amount"] == 3000
    assert stock_of(container, sku) == (3, 0, 0, 3)
    # Asking for more than is left to return names the field
    too_many = client.post(
        f"{ORDERS}/{order['id']}/returns",
        json={"lines": [{"line_id": line, "quantity": 2}], "reason": "again"},
        headers=token,
    )
    assert assert_problem(too_many, 422)["errors"][0]["field"] == "lines[0].quantity"


def by_engine(container: Container, *, sqlite: int, postgresql: int) -> int:
    return sqlite if container.db.is_sqlite else postgresql


def _checkout_statements(
    client: TestClient, container: Container, operator: Account, lines: int
) -> int:
    offers = [stocked_offer(container, operator, stock=5)[0] for _ in range(lines)]
    cart_id, headers = guest_cart(client, offers[0], 1)
    for offer_id in offers[1:]:
        client.post(
            f"/api/v1/carts/{cart_id}/items",
            json={"offer_id": offer_id, "quantity": 2},
            headers=headers,
        )
    # the shopper looked at the quote first: the compiled pricing rules are loaded, as they
    # are in a running store (a rule change reloads them once per process)
    client.get(f"/api/v1/carts/{cart_id}/quote", headers=headers)
    with StatementCounter(container.db.engine) as counter:
        response = place(client, headers, order_body(cart_id))
    assert response.status_code == 201, response.text
    return counter.count


@pytest.fixture
def steady_container(db_url: str, tmp_path: Path) -> Iterator[Container]:
    """A container whose in-memory webhook subscriptions do not expire while a test measures:
    on a slow machine the default refresh (2 s) can fall between the quote and the order, and
    a refresh is a per-process cost, not a per-checkout one."""
    c = build(test_settings(db_url, tmp_path, webhook_subscriptions_refresh_s=3600.0))
    yield c
    c.close()


def test_a_checkout_costs_a_bounded_number_of_statements(steady_container: Container) -> None:
    container = steady_container
    operator = make_account(container, Role.OPERATOR)
    with TestClient(create_app(container, run_dispatcher=False)) as client:
        # When a one-line and a four-line cart are checked out (placement, payment, response)
        one = _checkout_statements(client, container, operator, 1)
        four = _checkout_statements(client, container, operator, 4)

    # Then the fixed cost is bounded, and each further line adds only its own stock moves:
    # one conditional UPDATE of its level to reserve and one to allocate
    assert one <= by_engine(container, sqlite=ONE_LINE_SQLITE, postgresql=ONE_LINE_POSTGRES)
    assert four - one <= 3 * 2
