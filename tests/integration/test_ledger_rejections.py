"""The ledger fed by sellers' rejections through the seller fulfillment API.

A rejection refunds what will never ship (``RefundIssued``), possibly while the payment is
only authorized (the refund then waits for the capture, or the authorization is voided).
The ledger reverses exactly those units, records the seller's part as ended, and settles
the refund once the gateway has given the money back.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from bazaar.bootstrap import Container
from bazaar.fees import store
from bazaar.fees.ledger import (
    COMMISSION_REVENUE,
    CUSTOMER_PAYMENTS_CLEARING,
    ORDER_FEE_REVENUE,
    REFUNDS_PAYABLE,
    seller_payable,
)
from tests.api.test_seller_fulfillments import (
    SELLER_API,
    key,
    make_seller,
    mixed_order,
    place_paid_order,
    read_order,
    seller_offer,
)
from tests.support.factories import Account
from tests.support.marketplace import balances, set_fees


def test_a_seller_rejecting_everything_gets_nothing_and_the_customer_is_paid_back(
    client: TestClient, container: Container, operator: Account
) -> None:
    # Given a paid order with the retailer's line and two lines of a seller, posted
    set_fees(container, operator, rate="0.10", order_fee=50)
    mixed = mixed_order(client, container, operator)
    seller = mixed.seller
    container.dispatcher.drain()
    assert balances(container)[seller_payable(seller.id).code] > 0

    # When the seller rejects its whole part before anything is captured
    rejected = client.post(
        f"{SELLER_API}/{mixed.seller_fulfillment}/reject",
        json={"reason": "warehouse_closed", "release_stock": True},
        headers={**seller.headers, **key()},
    )
    assert rejected.status_code == 200, rejected.text
    container.dispatcher.drain()

    # Then its sales, shipping, commission and order fee are all reversed, the customer is
    # owed the money back, and the seller's part counts as ended for payouts
    owed = read_order(client, mixed.order)["refunded_total"]["amount"]
    got = balances(container)
    assert got[seller_payable(seller.id).code] == 0
    assert (got[COMMISSION_REVENUE.code], got[ORDER_FEE_REVENUE.code]) == (0, 0)
    assert got[REFUNDS_PAYABLE.code] == owed
    with container.db.read() as conn:
        assert (mixed.order["id"], seller.id) in store.delivered_on(conn, [mixed.order["id"]])

    # When the retailer ships its part: the capture releases the waiting refund
    shipped = client.post(
        f"/api/v1/admin/fulfillments/{mixed.retailer_fulfillment}/ship",
        json={},
        headers=operator.headers,
    )
    assert shipped.status_code == 200, shipped.text
    container.dispatcher.drain()
    container.ledger.settle_refunds()

    # Then the refund is settled and only the retailer's sale is left in clearing
    got = balances(container)
    assert got[REFUNDS_PAYABLE.code] == 0
    paid = mixed.order["grand_total"]["amount"] - owed
    assert got[CUSTOMER_PAYMENTS_CLEARING.code] == paid
    report = container.ledger.check()
    assert report.ok, report.problems


def test_when_the_only_seller_rejects_the_voided_order_leaves_no_trace(
    client: TestClient, container: Container, operator: Account
) -> None:
    # Given a paid order of one seller's mugs, posted
    seller = make_seller(container, operator)
    mug, _ = seller_offer(container, operator, seller, price=1999, stock=3)
    order = place_paid_order(client, [(mug, 2)])
    container.dispatcher.drain()

    # When the seller rejects everything: the order is cancelled and its payment voided
    rejected = client.post(
        f"{SELLER_API}/{order['fulfillments'][0]['id']}/reject",
        json={"reason": "out_of_stock"},
        headers={**seller.headers, **key()},
    )
    assert rejected.status_code == 200, rejected.text
    assert read_order(client, order)["payment"]["status"] == "voided"
    container.dispatcher.drain()

    # Then the refund reversed the whole order and the void settled it: every account is 0
    assert all(amount == 0 for amount in balances(container).values())
    report = container.ledger.check()
    assert report.ok, report.problems
    assert report.transactions == 3  # order paid, the refund, the refund paid (the void)
