"""The ledger fed by real orders: payments, returns, cancellations, on SQLite and PostgreSQL.

Orders go through checkout over HTTP; the dispatcher is drained explicitly, so these tests
also show the handlers are idempotent (redelivered events post nothing twice).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container
from bazaar.fees import store
from bazaar.fees.ledger import (
    COMMISSION_REVENUE,
    CUSTOMER_PAYMENTS_CLEARING,
    ORDER_FEE_REVENUE,
    REFUNDS_PAYABLE,
    RETAILER_SALES_REVENUE,
    VAT_PAYABLE,
    seller_payable,
)
from bazaar.payments.gateway import GatewayUnavailable
from tests.support.factories import Account
from tests.support.marketplace import (
    balances,
    fulfillment_of,
    line_of,
    new_seller,
    offer,
    place_order,
    return_units,
    set_fees,
    ship_and_deliver,
    shipping_of,
)


def _net(money: dict[str, Any], tax: dict[str, Any]) -> int:
    return int(money["amount"]) - int(tax["amount"])


def _mixed_order(
    client: TestClient, container: Container, operator: Account, seller: str, units: int = 3
) -> dict[str, Any]:
    # a seller's mug (3 x 20.00) and the retailer's tee (1 x 15.00), VAT included
    mug = offer(container, operator, fulfiller=seller, price=2000)
    tee = offer(container, operator, price=1500, category="apparel/t-shirts")
    return place_order(client, [(mug, units), (tee, 1)])


def test_a_paid_order_posts_one_balanced_transaction_with_the_sellers_net(
    client: TestClient, container: Container, operator: Account
) -> None:
    # Given 10 % commission with a 2.50 minimum per line and a 0.50 order fee
    seller = new_seller(container, operator)
    set_fees(container, operator, rate="0.10", minimum=250, order_fee=50)

    # When an order with a seller line and a retailer line is paid and its events handled
    order = _mixed_order(client, container, operator, seller)
    container.dispatcher.drain()

    # Then the ledger is sound and holds exactly one order posting
    report = container.ledger.check()
    assert report.ok, report.problems
    assert report.transactions == 1
    got = balances(container)
    mug, tee = line_of(order, seller), line_of(order, "retailer")
    mug_net = _net(mug["total"], mug["tax"])
    commission = max(round(Decimal(mug_net) * Decimal("0.10")), 250)
    seller_shipping = shipping_of(order, seller)
    shipping_net = _net(seller_shipping["total"], seller_shipping["tax"]) if seller_shipping else 0
    # the seller is owed its net sale and shipping, less commission and the order fee
    assert got[seller_payable(seller).code] == mug_net + shipping_net - commission - 50
    assert got[COMMISSION_REVENUE.code] == commission
    assert got[ORDER_FEE_REVENUE.code] == 50
    assert got[CUSTOMER_PAYMENTS_CLEARING.code] == order["grand_total"]["amount"]
    assert got[VAT_PAYABLE.code] == order["tax"]["amount"]
    retailer_shipping = shipping_of(order, "retailer")
    retailer_net = _net(tee["total"], tee["tax"]) + (
        _net(retailer_shipping["total"], retailer_shipping["tax"]) if retailer_shipping else 0
    )
    assert got[RETAILER_SALES_REVENUE.code] == retailer_net

    # And handling the payment again posts nothing
    paid_at = container.clock.now()
    assert container.ledger.record_order_paid(order["id"], paid_at) is False
    assert container.ledger.check().transactions == 1


def test_partial_and_full_returns_reverse_exactly_what_they_return(
    client: TestClient, container: Container, operator: Account
) -> None:
    # Given a delivered order of 3 mugs from a seller (and a tee), handled by the ledger
    seller = new_seller(container, operator)
    set_fees(container, operator, rate="0.13", order_fee=50)
    order = _mixed_order(client, container, operator, seller)
    ship_and_deliver(client, operator, order)
    container.dispatcher.drain()
    after_sale = balances(container)
    mug = line_of(order, seller)

    # When one mug comes back, then the other two (the gateway pays both refunds)
    first = return_units(client, operator, order, mug["id"], 1)
    container.dispatcher.drain()
    after_one = balances(container)
    return_units(client, operator, order, mug["id"], 2)
    container.dispatcher.drain()

    # Then the first refund owed the customer exactly what the orders context refunded,
    # and took one mug's share of sale, VAT and commission back (the order fee stays)
    assert (
        first["refunded"]["amount"]
        == after_sale[CUSTOMER_PAYMENTS_CLEARING.code]
        - (after_one[CUSTOMER_PAYMENTS_CLEARING.code])
    )
    assert after_one[ORDER_FEE_REVENUE.code] == 50
    assert 0 < after_one[COMMISSION_REVENUE.code] < after_sale[COMMISSION_REVENUE.code]
    # And once every mug is back, every mug entry is mirrored: no commission, no fee, and
    # the seller keeps only its shipping charge; every refund is paid back
    final = balances(container)
    assert final[COMMISSION_REVENUE.code] == 0
    assert final[ORDER_FEE_REVENUE.code] == 0
    seller_shipping = shipping_of(order, seller)
    kept = _net(seller_shipping["total"], seller_shipping["tax"]) if seller_shipping else 0
    assert final[seller_payable(seller).code] == kept
    assert final.get(REFUNDS_PAYABLE.code, 0) == 0
    assert (
        final[CUSTOMER_PAYMENTS_CLEARING.code]
        == order["grand_total"]["amount"] - (mug["total"]["amount"])
    )
    report = container.ledger.check()
    assert report.ok, report.problems
    # 1 order paid + 2 refunds + 2 refunds paid; the reconciler's pass finds nothing left
    assert report.transactions == 5
    assert container.ledger.settle_refunds() == 0


def test_cancelling_a_paid_order_returns_every_account_to_zero(
    client: TestClient, container: Container, operator: Account
) -> None:
    # Given a paid two-seller order the ledger has posted
    seller = new_seller(container, operator)
    set_fees(container, operator, rate="0.10", order_fee=75)
    order = _mixed_order(client, container, operator, seller, units=2)
    container.dispatcher.drain()

    # When the customer cancels it before shipment (the authorization is voided)
    token = {"Order-Token": order["access_token"]}
    cancelled = client.post(f"/api/v1/orders/{order['id']}/cancel", json={}, headers=token)
    assert cancelled.status_code == 200, cancelled.text
    container.dispatcher.drain()

    # Then the cancellation mirrors the payment and the void settles what was owed back
    assert all(amount == 0 for amount in balances(container).values())
    report = container.ledger.check()
    assert report.ok, report.problems
    assert report.transactions == 3  # order paid, cancellation, refund paid (the void)


def test_deliveries_are_recorded_once_per_seller_and_order(
    client: TestClient, container: Container, operator: Account
) -> None:
    seller = new_seller(container, operator)
    order = _mixed_order(client, container, operator, seller, units=1)
    ship_and_deliver(client, operator, order)
    container.dispatcher.drain()

    with container.db.read() as conn:
        recorded = store.delivered_on(conn, [order["id"]])
    # only the seller's part is tracked; the retailer's is not payable to anyone
    assert list(recorded) == [(order["id"], seller)]
    day = next(iter(recorded.values()))
    assert container.ledger.record_fulfillment_ended(order["id"], seller, day) is False
    assert fulfillment_of(order, seller)


def test_a_tampered_entry_is_reported_by_the_check(
    client: TestClient, container: Container, operator: Account
) -> None:
    # Given a posted order
    seller = new_seller(container, operator)
    _mixed_order(client, container, operator, seller, units=1)
    container.dispatcher.drain()
    assert container.ledger.check().ok

    # When someone edits one entry's amount behind the ledger's back
    with container.db.write() as conn:
        conn.execute(
            store.entries.update()
            .where(store.entries.c.position == 0)
            .values(amount=store.entries.c.amount + 1)
        )
        tampered: str = conn.execute(
            sa.select(store.entries.c.transaction_id).distinct()
        ).scalar_one()

    # Then the check names the transaction and says it does not balance
    report = container.ledger.check()
    assert not report.ok
    assert [(p.code, p.transaction_id) for p in report.problems] == [("unbalanced", tampered)]


def test_a_refund_the_gateway_pays_later_is_settled_by_the_reconciler(
    client: TestClient, container: Container, operator: Account, monkeypatch: Any
) -> None:
    # Given a delivered order whose return is refunded while the gateway is unreachable
    seller = new_seller(container, operator)
    order = _mixed_order(client, container, operator, seller, units=2)
    ship_and_deliver(client, operator, order)
    gateway = container.payments.gateway
    refund = gateway.refund

    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise GatewayUnavailable("timeout")

    monkeypatch.setattr(gateway, "refund", unreachable)
    returned = return_units(client, operator, order, line_of(order, seller)["id"], 1)
    container.dispatcher.drain()

    # Then the refund is posted and owed to the customer, not yet paid back
    owed = returned["refunded"]["amount"]
    assert balances(container)[REFUNDS_PAYABLE.code] == owed
    assert container.ledger.settle_refunds() == 0

    # When the gateway answers again and the payment reconciler pays the refund
    monkeypatch.setattr(gateway, "refund", refund)
    assert container.orders.reconcile_money(container.clock.now() + timedelta(seconds=1)) == 1

    # Then the ledger's pass settles it, once
    assert container.ledger.settle_refunds() == 1
    assert container.ledger.settle_refunds() == 0
    assert balances(container)[REFUNDS_PAYABLE.code] == 0
    report = container.ledger.check()
    assert report.ok, report.problems
