"""The return window runs per parcel (:func:`bazaar.orders.returns.check_return_window`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bazaar.orders.events import ReturnLine
from bazaar.orders.fulfillment import FulfillmentOrder
from bazaar.orders.model import Order, OrderStatus
from bazaar.orders.returns import ReturnWindowClosed, check_return_window, request_return
from tests.unit.test_orders_model import accepted, paid_order, split

WINDOW = timedelta(days=30)
DELIVERED = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)


def _delivered_order() -> tuple[Order, list[FulfillmentOrder]]:
    order = paid_order()
    fulfillments = [
        f.ship(f"shp_{f.id}").value.mark_delivered().value for f in accepted(split(order))
    ]
    synced = order.sync_fulfillments(fulfillments).value
    return synced, fulfillments


def test_each_parcel_has_its_own_window_counted_from_its_delivery() -> None:
    # Given an order whose two parcels (retailer's oln_1, seller's oln_2) were delivered
    # ten days apart
    order, fulfillments = _delivered_order()
    retailer, seller = fulfillments
    finished = {retailer.id: DELIVERED, seller.id: DELIVERED + timedelta(days=10)}
    both = [ReturnLine("oln_1", 1), ReturnLine("oln_2", 1)]

    # When a return of both lines is checked a moment before the first window ends
    check_return_window(
        order,
        fulfillments,
        both,
        finished,
        now=DELIVERED + WINDOW - timedelta(seconds=1),
        window=WINDOW,
    )

    # Then it passes; at the end of the first window, only that line is refused
    with pytest.raises(ReturnWindowClosed) as closed:
        check_return_window(
            order, fulfillments, both, finished, now=DELIVERED + WINDOW, window=WINDOW
        )
    assert [e.field for e in closed.value.errors] == ["lines[0].line_id"]
    assert closed.value.code == "return_window_closed"
    check_return_window(
        order,
        fulfillments,
        [ReturnLine("oln_2", 1)],
        finished,
        now=DELIVERED + WINDOW,
        window=WINDOW,
    )


def test_a_parcel_not_delivered_yet_has_no_window_running() -> None:
    order, fulfillments = _delivered_order()
    check_return_window(
        order,
        fulfillments,
        [ReturnLine("oln_1", 1)],
        {},
        now=DELIVERED + 10 * WINDOW,
        window=WINDOW,
    )


def test_a_completed_order_takes_no_return_whatever_the_dates() -> None:
    # Given a completed order
    order, fulfillments = _delivered_order()
    completed = order.complete(fulfillments).value
    assert completed.status is OrderStatus.COMPLETED

    # Then both the window check and the request refuse it as closed (409)
    with pytest.raises(ReturnWindowClosed):
        check_return_window(completed, fulfillments, [], {}, now=DELIVERED, window=WINDOW)
    with pytest.raises(ReturnWindowClosed):
        request_return(
            completed, fulfillments, [], [ReturnLine("oln_1", 1)], return_id="ret_1", reason="x"
        )
