"""Seller routing rules: the acceptance deadline, idempotent acceptance, and what a rejection
or an expiry gives back. Pure: no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bazaar.kernel.money import Money
from bazaar.orders.events import FulfillmentCancelled, LineQuantity, OrderCancelled, RefundIssued
from bazaar.orders.fulfillment import (
    SELLER_SLA_EXPIRED,
    AcceptanceDeadlinePassed,
    FulfillmentOrder,
    FulfillmentStatus,
    route_fulfillments,
)
from bazaar.orders.model import Order, OrderStatus
from bazaar.orders.settlement import refund_unfulfilled
from tests.unit.test_orders_model import paid_order, split

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def routed(order: Order) -> tuple[FulfillmentOrder, FulfillmentOrder]:
    retailer, seller = route_fulfillments(split(order), now=NOW, seller_accept_within=DAY)
    return retailer, seller


def test_only_sellers_get_an_acceptance_deadline() -> None:
    # given / when
    retailer, seller = routed(paid_order())
    # then
    assert retailer.accept_by is None
    assert seller.accept_by == NOW + DAY
    assert seller.created().accept_by == NOW + DAY


def test_accepting_twice_is_accepting_once_and_late_is_refused() -> None:
    # given
    _, seller = routed(paid_order())
    # when
    accepted = seller.accept(now=NOW).value
    # then
    assert accepted.status is FulfillmentStatus.ACCEPTED
    assert accepted.accept(now=NOW + 2 * DAY).events == ()
    with pytest.raises(AcceptanceDeadlinePassed):
        seller.accept(now=NOW + DAY)


def test_expiry_cancels_only_an_overdue_pending_part() -> None:
    # given
    _, seller = routed(paid_order())
    # when / then
    assert seller.expire(NOW + DAY - timedelta(seconds=1)).value is seller
    assert seller.accept().value.expire(NOW + 2 * DAY).events == ()
    expired = seller.expire(NOW + DAY)
    assert expired.value.status is FulfillmentStatus.CANCELLED
    (event,) = expired.events
    assert isinstance(event, FulfillmentCancelled)
    assert event.reason == SELLER_SLA_EXPIRED
    assert expired.value.unfulfilled_since(seller) == (LineQuantity("oln_2", 2),)


def test_a_partial_rejection_refunds_its_units_and_keeps_the_shipping() -> None:
    # given
    order = paid_order()
    retailer, seller = routed(order)
    rejected = seller.reject_lines([LineQuantity("oln_2", 1)], "out_of_stock").value
    # when
    settled = refund_unfulfilled(
        order, [retailer, rejected], seller, rejected, refund_id="ref_1", reason="rejected"
    )
    # then
    (refund,) = settled.events
    assert isinstance(refund, RefundIssued)
    assert refund.amount == order.line("oln_2").refund_amount(1)
    assert refund.shipping == Money.zero("EUR")
    assert settled.value.status is OrderStatus.PARTIALLY_REFUNDED


def test_an_expired_part_refunds_its_shipping_and_a_void_order_everything() -> None:
    # given
    order = paid_order()
    retailer, seller = routed(order)
    expired = seller.expire(NOW + DAY).value
    # when the seller's part alone expires
    settled = refund_unfulfilled(
        order, [retailer, expired], seller, expired, refund_id="ref_1", reason=SELLER_SLA_EXPIRED
    )
    # then its lines and its shipping come back, and the order goes on
    (refund,) = settled.events
    assert isinstance(refund, RefundIssued)
    seller_shipping = next(s.total for s in order.shipping if s.fulfiller_id == "sel_a")
    assert refund.shipping == seller_shipping
    assert settled.value.status is OrderStatus.PARTIALLY_REFUNDED
    # when the retailer then rejects everything too
    rejected = retailer.reject("closed").value
    void = refund_unfulfilled(
        settled.value, [rejected, expired], retailer, rejected, refund_id="ref_2", reason="r"
    )
    # then the order is cancelled with everything refunded, exactly once
    assert void.value.status is OrderStatus.CANCELLED
    assert void.value.refunded_total == order.grand_total
    refund2, cancelled = void.events
    assert isinstance(refund2, RefundIssued)
    assert isinstance(cancelled, OrderCancelled)
    assert cancelled.refund_due == Money.zero("EUR")
