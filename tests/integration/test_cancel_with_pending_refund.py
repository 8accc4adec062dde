"""Cancelling an order while one of its refunds is still on its way to the customer, on
SQLite and PostgreSQL: the customer gets back exactly what was paid, once, and every
refund the ledger posted is settled (``refunds_payable`` and the clearing account net to
zero)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container, build
from bazaar.fees.ledger import REFUNDS_PAYABLE
from bazaar.http.app import create_app
from bazaar.identity.model import Role
from bazaar.kernel.events import Actor
from bazaar.orders.events import LineQuantity
from bazaar.payments.gateway import GatewayUnavailable
from bazaar.payments.test_gateway import TestGateway
from tests.support.factories import Account, make_account, test_settings
from tests.support.marketplace import CLEARING, balances, fulfillment_of, offer, place_order


def _container(db_url: str, tmp_path: Path, capture_on: str) -> Iterator[Container]:
    c = build(test_settings(db_url, tmp_path, capture_on=capture_on))
    yield c
    c.close()


@pytest.fixture
def at_placement(db_url: str, tmp_path: Path) -> Iterator[Container]:
    """Payments captured when the order is placed: refunds go to the gateway at once."""
    yield from _container(db_url, tmp_path, "placement")


@pytest.fixture
def at_shipment(db_url: str, tmp_path: Path) -> Iterator[Container]:
    """Payments captured at the first shipment: refunds before it wait for the capture."""
    yield from _container(db_url, tmp_path, "shipment")


def _client(container: Container) -> TestClient:
    return TestClient(create_app(container, run_dispatcher=False))


def _two_line_order(client: TestClient, container: Container) -> tuple[Account, dict[str, Any]]:
    operator = make_account(container, Role.OPERATOR)
    mugs = offer(container, operator, price=2000)
    tees = offer(container, operator, price=1500, category="apparel/t-shirts")
    return operator, place_order(client, [(mugs, 2), (tees, 1)])


def _reject_one_mug(container: Container, order: dict[str, Any]) -> None:
    mug = order["lines"][0]["id"]
    container.orders.fulfilling.reject(
        Actor.system("test"),
        fulfillment_of(order, "retailer"),
        [LineQuantity(mug, 1)],
        reason="out of stock",
    )


def _cancel(client: TestClient, order: dict[str, Any]) -> None:
    token = {"Order-Token": order["access_token"]}
    cancelled = client.post(f"/api/v1/orders/{order['id']}/cancel", json={}, headers=token)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"


def _settle_everything(container: Container) -> None:
    """What the workers do: deliver events, then run the reconciler, then deliver again."""
    container.dispatcher.drain()
    later = container.clock.now() + timedelta(hours=1)
    container.orders.reconcile_money(later)
    container.dispatcher.drain()
    container.ledger.settle_refunds()
    container.dispatcher.drain()


def _refunded_at_gateway(container: Container) -> int:
    gateway = container.payments.gateway
    assert isinstance(gateway, TestGateway)
    return sum(r.amount.amount for r in gateway.refunds())


def test_cancelling_while_a_captured_refund_is_pending_refunds_the_rest_once(
    at_placement: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    container = at_placement
    with _client(container) as client:
        # Given a captured order of two mugs and a tee; one mug is rejected while the gateway
        # is unreachable, so its refund stays pending
        _, order = _two_line_order(client, container)
        gateway = container.payments.gateway
        refund = gateway.refund

        def unreachable(*args: Any, **kwargs: Any) -> Any:
            raise GatewayUnavailable("timeout")

        monkeypatch.setattr(gateway, "refund", unreachable)
        _reject_one_mug(container, order)
        monkeypatch.setattr(gateway, "refund", refund)
        assert _refunded_at_gateway(container) == 0

        # When the customer cancels the order, and the workers catch up
        _cancel(client, order)
        _settle_everything(container)

    # Then the gateway paid back exactly the grand total: the pending mug once, the rest once
    assert _refunded_at_gateway(container) == order["grand_total"]["amount"]
    with container.db.read() as conn:
        payment = container.payments.of_order(conn, order["id"])
    assert payment.refunded.amount == order["grand_total"]["amount"]
    # And the ledger settled both refunds: nothing is owed to the customer, nothing is left
    # in the clearing account
    report = container.ledger.check()
    assert report.ok, report.problems
    money = balances(container)
    assert money.get(REFUNDS_PAYABLE.code, 0) == 0
    assert money.get(CLEARING, 0) == 0


def test_cancelling_while_a_refund_waits_for_the_capture_releases_everything_once(
    at_shipment: Container,
) -> None:
    container = at_shipment
    with _client(container) as client:
        # Given an authorized, uncaptured order whose rejected mug's refund waits for a capture
        _, order = _two_line_order(client, container)
        _reject_one_mug(container, order)
        container.dispatcher.drain()

        # When the customer cancels the order, and the workers catch up
        _cancel(client, order)
        _settle_everything(container)

    # Then the authorization was released whole and nothing was refunded on top of it
    assert _refunded_at_gateway(container) == 0
    with container.db.read() as conn:
        payment = container.payments.of_order(conn, order["id"])
    assert payment.status.value == "voided"
    report = container.ledger.check()
    assert report.ok, report.problems
    money = balances(container)
    assert money.get(REFUNDS_PAYABLE.code, 0) == 0
    assert money.get(CLEARING, 0) == 0
