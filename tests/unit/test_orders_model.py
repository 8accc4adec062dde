"""Orders: status machine, fulfillment split and progress, refunds and returns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bazaar.checkout.model import quote
from bazaar.checkout.quote_parts import CheckoutLine, Discount, Quote
from bazaar.checkout.shipping import ShippingRule
from bazaar.checkout.tax import DEFAULT_TAX_TABLE
from bazaar.kernel.errors import ValidationFailed
from bazaar.kernel.events import Event
from bazaar.kernel.money import Money, sum_money
from bazaar.orders.events import (
    FulfillmentAccepted,
    FulfillmentCancelled,
    FulfillmentCreated,
    FulfillmentRejected,
    FulfillmentShipped,
    LineQuantity,
    OrderCancelled,
    OrderCompleted,
    OrderFulfilled,
    OrderPaid,
    OrderPartiallyFulfilled,
    OrderPaymentFailed,
    OrderPlaced,
    RefundIssued,
    ReturnLine,
    ReturnReceived,
    ReturnRefunded,
    ReturnRequested,
)
from bazaar.orders.fulfillment import FulfillmentOrder, FulfillmentStatus, split_fulfillments
from bazaar.orders.model import (
    Changed,
    IllegalTransition,
    Order,
    OrderLine,
    OrderStatus,
    Progress,
    ShippingLine,
)
from bazaar.orders.returns import (
    ReturnRequest,
    ReturnStatus,
    refund_return,
    request_return,
    returnable_quantities,
)
from bazaar.orders.status import ORDER_TRANSITIONS

RATE = Decimal("0.21")


def eur(amount: int) -> Money:
    return Money(amount, "EUR")


def types(events: Sequence[Event]) -> list[type[Event]]:
    return [type(e) for e in events]


def order_from_quote(q: Quote, *, order_id: str = "ord_1") -> Order:
    """How the service turns a quote into an order: one order line per quote line."""
    lines = [
        OrderLine(
            id=f"oln_{i}",
            offer_id=x.offer_id,
            sku=x.sku,
            product_id=f"prd_{i}",
            fulfiller_id=x.fulfiller_id,
            category_id=x.category_id,
            quantity=x.quantity,
            unit_price=x.unit_price,
            discount=x.discount,
            tax=x.tax,
            tax_rate=x.tax_rate,
            total=x.total,
        )
        for i, x in enumerate(q.lines, start=1)
    ]
    shipping = [
        ShippingLine(c.fulfiller_id, c.amount, c.tax, c.tax_rate, c.total) for c in q.shipping
    ]
    return Order.place(
        id=order_id,
        customer_id="usr_1",
        email="anna@example.com",
        currency=q.currency,
        prices_include_tax=q.prices_include_tax,
        lines=lines,
        shipping=shipping,
    ).value


def two_fulfiller_quote(discount: int = 1000) -> Quote:
    # 3 x 10.00 from the retailer, 2 x 25.00 from a seller, 10.00 off the order
    rules = {
        "retailer": [ShippingRule("std", "Standard", flat_rate=eur(495))],
        "sel_a": [ShippingRule("std", "Standard", flat_rate=eur(695))],
    }
    lines = [
        CheckoutLine("off_1", "TEE", "retailer", "cat_tees", 3, eur(1000), 200),
        CheckoutLine("off_2", "MUG", "sel_a", "cat_mugs", 2, eur(2500), 400),
    ]
    discounts = (Discount("promo", "10.00 off", eur(discount)),) if discount else ()
    return quote(
        lines,
        destination="NL",
        tax_table=DEFAULT_TAX_TABLE,
        shipping_rules=rules,
        discounts=discounts,
        prices_include_tax=False,
    )


def paid_order() -> Order:
    order = order_from_quote(two_fulfiller_quote())
    return order.mark_paid("pay_1", order.grand_total).value


def fulfillment_ids() -> Callable[[], str]:
    counter = iter(range(1, 100))
    return lambda: f"ful_{next(counter)}"


def split(order: Order) -> list[FulfillmentOrder]:
    return split_fulfillments(order, new_fulfillment_id=fulfillment_ids())


def accepted(fulfillments: list[FulfillmentOrder]) -> list[FulfillmentOrder]:
    return [f.accept().value for f in fulfillments]


# -- the order ------------------------------------------------------------------------------


def test_an_order_built_from_a_quote_keeps_its_totals() -> None:
    # given a quote with an order discount over two fulfillers
    q = two_fulfiller_quote()
    # when
    placed = Order.place(
        id="ord_1",
        customer_id=None,
        email="guest@example.com",
        currency="EUR",
        prices_include_tax=False,
        lines=order_from_quote(q).lines,
        shipping=order_from_quote(q).shipping,
    )
    # then
    order = placed.value
    assert order.status is OrderStatus.AWAITING_PAYMENT
    assert order.grand_total == q.totals.grand_total
    assert order.tax == q.totals.tax
    assert order.discount == q.totals.discount
    assert order.subtotal == q.totals.subtotal
    (event,) = placed.events
    assert isinstance(event, OrderPlaced)
    assert event.total == q.totals.grand_total
    assert event.fulfiller_ids == ("retailer", "sel_a")
    assert event.customer_id is None


def test_an_order_whose_amounts_do_not_add_up_cannot_be_built() -> None:
    # given a line whose total forgets the tax / when / then
    bad = OrderLine(
        "oln_1",
        "off_1",
        "S",
        "prd_1",
        "retailer",
        "c",
        1,
        eur(1000),
        eur(0),
        eur(210),
        RATE,
        eur(1000),
    )
    with pytest.raises(ValueError, match="does not add up"):
        Order("ord_1", None, "a@example.com", "EUR", False, (bad,), ())


def test_paying_moves_to_paid_once() -> None:
    # given
    order = order_from_quote(two_fulfiller_quote())
    # when
    paid = order.mark_paid("pay_1", order.grand_total)
    # then
    assert paid.value.status is OrderStatus.PAID
    assert types(paid.events) == [OrderPaid]
    # a replayed confirmation changes nothing
    assert paid.value.mark_paid("pay_1", order.grand_total) == Changed(paid.value)
    # a second, different payment is refused
    with pytest.raises(IllegalTransition):
        paid.value.mark_paid("pay_2", order.grand_total)


def test_a_payment_for_the_wrong_amount_is_refused() -> None:
    # given / when / then
    order = order_from_quote(two_fulfiller_quote())
    with pytest.raises(ValidationFailed) as caught:
        order.mark_paid("pay_1", order.grand_total - eur(1))
    assert caught.value.errors[0].field == "amount"


def test_a_declined_payment_ends_the_order() -> None:
    # given
    order = order_from_quote(two_fulfiller_quote())
    # when
    failed = order.mark_payment_failed("card_declined")
    # then: the service releases stock on OrderPaymentFailed; nothing else is possible
    assert failed.value.status is OrderStatus.PAYMENT_FAILED
    assert types(failed.events) == [OrderPaymentFailed]
    assert failed.value.mark_payment_failed("again").events == ()
    with pytest.raises(IllegalTransition):
        failed.value.mark_paid("pay_late", order.grand_total)
    with pytest.raises(IllegalTransition):
        failed.value.cancel("too late", [])


def test_cancelling_before_payment_refunds_nothing() -> None:
    # given / when
    cancelled = order_from_quote(two_fulfiller_quote()).cancel("changed my mind", [])
    # then
    assert cancelled.value.status is OrderStatus.CANCELLED
    (event,) = cancelled.events
    assert isinstance(event, OrderCancelled)
    assert event.refund_due == eur(0)
    assert cancelled.value.cancel("again", []).events == ()


def test_cancelling_a_paid_order_before_shipment_refunds_everything() -> None:
    # given a paid order whose fulfillments were accepted but not shipped
    order = paid_order()
    fulfillments = accepted(split(order))
    # when
    cancelled = order.cancel("changed my mind", fulfillments)
    # then
    (event,) = cancelled.events
    assert isinstance(event, OrderCancelled)
    assert event.refund_due == order.grand_total
    refunded = cancelled.value.refund_remaining("ref_1", reason="cancelled")
    assert refunded.value.refunded_total == order.grand_total
    assert refunded.value.status is OrderStatus.CANCELLED
    # and each fulfillment is cancelled, releasing its units
    for f in fulfillments:
        change = f.cancel("order cancelled")
        assert change.value.status is FulfillmentStatus.CANCELLED
        assert types(change.events) == [FulfillmentCancelled]


def test_cancelling_after_any_shipment_is_refused() -> None:
    # given one fulfiller shipped one unit
    order = paid_order()
    retailer, seller = accepted(split(order))
    retailer = retailer.ship("shp_1", [LineQuantity("oln_1", 1)]).value
    # when / then
    with pytest.raises(IllegalTransition, match="return"):
        order.cancel("too late", [retailer, seller])
    with pytest.raises(IllegalTransition):
        retailer.cancel("too late")


def test_split_makes_one_fulfillment_per_fulfiller_with_its_shipping() -> None:
    # given
    order = paid_order()
    # when
    retailer, seller = split(order)
    # then
    assert (retailer.fulfiller_id, seller.fulfiller_id) == ("retailer", "sel_a")
    assert [fl.line_id for fl in retailer.lines] == ["oln_1"]
    assert [(fl.line_id, fl.quantity) for fl in seller.lines] == [("oln_2", 2)]
    assert retailer.shipping == eur(599)  # 4.95 + 21 %
    assert seller.shipping == eur(841)  # 6.95 + 21 %
    assert retailer.status is FulfillmentStatus.PENDING
    created = seller.created()
    assert isinstance(created, FulfillmentCreated)
    assert created.audience() == ("seller:sel_a",)
    assert retailer.created().audience() == ()


def test_only_a_paid_order_is_split() -> None:
    # given / when / then
    with pytest.raises(IllegalTransition):
        split(order_from_quote(two_fulfiller_quote()))


def test_order_status_follows_its_fulfillments_to_completion() -> None:
    # given a paid order with accepted fulfillments
    order = paid_order()
    retailer, seller = accepted(split(order))
    # when the retailer ships part of its line
    retailer = retailer.ship("shp_1", [LineQuantity("oln_1", 2)], carrier="PostNL").value
    synced = order.sync_fulfillments([retailer, seller])
    # then
    assert retailer.status is FulfillmentStatus.PARTIALLY_SHIPPED
    assert synced.value.status is OrderStatus.PARTIALLY_FULFILLED
    assert types(synced.events) == [OrderPartiallyFulfilled]
    assert synced.value.sync_fulfillments([retailer, seller]).events == ()
    # when the rest ships
    retailer = retailer.ship("shp_2").value
    seller_shipped = seller.ship("shp_3", tracking_number="3S123")
    seller = seller_shipped.value
    order = synced.value.sync_fulfillments([retailer, seller]).value
    # then
    assert isinstance(seller_shipped.events[0], FulfillmentShipped)
    assert seller_shipped.events[0].complete
    assert order.status is OrderStatus.FULFILLED
    with pytest.raises(IllegalTransition):
        order.complete([retailer, seller])  # not delivered yet
    # when everything is delivered
    retailer = retailer.mark_delivered().value
    seller = seller.mark_delivered().value
    completed = order.complete([retailer, seller])
    # then
    assert completed.value.status is OrderStatus.COMPLETED
    assert types(completed.events) == [OrderCompleted]


def test_a_fulfillment_ships_only_once_accepted_and_only_what_is_open() -> None:
    # given
    retailer, _ = split(paid_order())
    # when / then
    with pytest.raises(IllegalTransition):
        retailer.ship("shp_1")
    retailer = retailer.accept().value
    with pytest.raises(ValidationFailed) as caught:
        retailer.ship("shp_1", [LineQuantity("oln_1", 4)])
    assert caught.value.errors[0].field == "lines[0].quantity"
    with pytest.raises(ValidationFailed):
        retailer.ship("shp_1", [LineQuantity("oln_9", 1)])


def test_a_retried_shipment_is_recorded_once() -> None:
    # given
    retailer = split(paid_order())[0].accept().value
    shipped = retailer.ship("shp_1", [LineQuantity("oln_1", 1)]).value
    # when / then
    assert shipped.ship("shp_1", [LineQuantity("oln_1", 1)]) == Changed(shipped)
    with pytest.raises(IllegalTransition):
        shipped.ship("shp_1", [LineQuantity("oln_1", 2)])


def test_rejected_lines_are_refunded_pro_rata() -> None:
    # given the retailer can ship only 1 of 3 tees
    order = paid_order()
    retailer, seller = split(order)
    change = retailer.accept([LineQuantity("oln_1", 2)], reason="out of stock")
    retailer = change.value
    # then
    assert types(change.events) == [FulfillmentAccepted, FulfillmentRejected]
    assert retailer.unfulfilled() == (LineQuantity("oln_1", 2),)
    # when the service refunds the rejected units
    refunded = order.refund("ref_1", retailer.unfulfilled(), reason="rejected")
    # then: two of the three unit shares of the line's paid total
    line = order.line("oln_1")
    (event,) = refunded.events
    assert isinstance(event, RefundIssued)
    assert event.amount == sum_money(line.unit_amounts()[:2], "EUR")
    assert refunded.value.status is OrderStatus.PARTIALLY_REFUNDED
    # and the order still follows shipping underneath the refund status
    retailer = retailer.ship("shp_1").value
    seller = seller.accept().value.ship("shp_2").value
    synced = refunded.value.sync_fulfillments([retailer, seller])
    assert synced.value.progress is Progress.FULFILLED
    assert synced.value.status is OrderStatus.PARTIALLY_REFUNDED
    assert types(synced.events) == [OrderFulfilled]


def test_when_every_fulfiller_rejects_the_order_is_cancelled() -> None:
    # given
    order = paid_order()
    retailer, seller = split(order)
    retailer = retailer.reject("closed").value
    seller = seller.accept().value.reject("no stock").value
    # when
    synced = order.sync_fulfillments([retailer, seller])
    # then
    assert retailer.status is FulfillmentStatus.REJECTED
    assert seller.status is FulfillmentStatus.REJECTED
    assert synced.value.status is OrderStatus.CANCELLED
    (event,) = synced.events
    assert isinstance(event, OrderCancelled)
    assert event.refund_due == order.grand_total


def test_rejecting_the_rest_after_a_partial_shipment_completes_the_fulfillment() -> None:
    # given
    retailer = split(paid_order())[0].accept().value
    retailer = retailer.ship("shp_1", [LineQuantity("oln_1", 1)]).value
    # when
    change = retailer.reject_lines([LineQuantity("oln_1", 2)], "damaged")
    # then
    assert change.value.status is FulfillmentStatus.SHIPPED
    (event,) = change.events
    assert isinstance(event, FulfillmentRejected)
    assert event.complete


def test_sync_needs_every_fulfillment_of_the_order() -> None:
    # given / when / then
    order = paid_order()
    retailer, _ = split(order)
    with pytest.raises(ValueError, match="cover"):
        order.sync_fulfillments([retailer])


def test_illegal_order_transitions_are_conflicts() -> None:
    # given / when / then
    assert IllegalTransition.code == "illegal_transition"
    order = order_from_quote(two_fulfiller_quote())
    with pytest.raises(IllegalTransition):
        order.refund("ref_1", [LineQuantity("oln_1", 1)], reason="unpaid")
    with pytest.raises(IllegalTransition):
        order.sync_fulfillments([])


# -- refunds --------------------------------------------------------------------------------


def test_unit_refunds_never_lose_or_invent_a_cent() -> None:
    # given a line of 3 units that cost 31.76 in total
    order = paid_order()
    line = order.line("oln_1")
    assert line.total == eur(3000 - 375 + 551)  # 30.00 - 3/8 of 10.00 off + 21 % VAT
    # when refunding one unit, then the other two
    first = order.refund("ref_1", [LineQuantity("oln_1", 1)], reason="r")
    second = first.value.refund("ref_2", [LineQuantity("oln_1", 2)], reason="r")
    # then the two refunds add up to exactly what was paid for the line: 10.59 + 21.17
    amounts = [e.amount for e in (*first.events, *second.events)]  # type: ignore[attr-defined]
    assert sum_money(amounts, "EUR") == line.total
    with pytest.raises(ValidationFailed) as caught:
        second.value.refund("ref_3", [LineQuantity("oln_1", 1)], reason="r")
    assert caught.value.errors[0].message == "Nothing left to refund"


def test_shipping_is_refunded_whole_and_once() -> None:
    # given
    order = paid_order()
    # when
    refunded = order.refund("ref_1", [], reason="late delivery", shipping_for=["sel_a"])
    # then
    assert refunded.value.refunded_total == eur(841)
    with pytest.raises(ValidationFailed):
        refunded.value.refund("ref_2", [], reason="again", shipping_for=["sel_a"])


def test_refunding_everything_marks_the_order_refunded() -> None:
    # given / when
    order = paid_order()
    refunded = order.refund_remaining("ref_1", reason="goodwill")
    # then
    assert refunded.value.status is OrderStatus.REFUNDED
    assert refunded.value.refunded_total == order.grand_total
    assert refunded.value.refundable_total == eur(0)


@st.composite
def refund_plans(draw: st.DrawFn) -> tuple[Order, list[tuple[int, int]]]:
    quantity_1 = draw(st.integers(min_value=1, max_value=9))
    quantity_2 = draw(st.integers(min_value=1, max_value=9))
    price_1 = draw(st.integers(min_value=0, max_value=99_999))
    price_2 = draw(st.integers(min_value=0, max_value=99_999))
    discount = draw(st.integers(min_value=0, max_value=50_000))
    lines = [
        CheckoutLine("off_1", "A", "retailer", "c", quantity_1, eur(price_1), 1),
        CheckoutLine("off_2", "B", "sel_a", "c", quantity_2, eur(price_2), 1),
    ]
    rules = [ShippingRule("r", "R", flat_rate=eur(draw(st.integers(0, 999))))]
    q = quote(
        lines,
        destination=draw(st.sampled_from(["NL", "DE", "FR"])),
        tax_table=DEFAULT_TAX_TABLE,
        shipping_rules={"retailer": rules, "sel_a": rules},
        discounts=(Discount("d", "d", eur(discount)),),
        prices_include_tax=draw(st.booleans()),
    )
    order = order_from_quote(q)
    order = order.mark_paid("pay", order.grand_total).value
    steps = draw(st.lists(st.tuples(st.integers(0, 2), st.integers(1, 9)), max_size=12))
    return order, steps


@given(refund_plans())
def test_refunds_never_exceed_what_was_paid_and_everything_returns_it_exactly(
    plan: tuple[Order, list[tuple[int, int]]],
) -> None:
    # given a paid order and a random series of partial refunds
    order, steps = plan
    paid = order.grand_total
    issued: list[Money] = []
    for target, quantity in steps:
        try:
            if target == 2:
                change = order.refund("r", [], reason="r", shipping_for=["retailer"])
            else:
                line_id = order.lines[target].id
                change = order.refund("r", [LineQuantity(line_id, quantity)], reason="r")
        except ValidationFailed:
            continue
        issued += [e.amount for e in change.events]  # type: ignore[attr-defined]
        order = change.value
        # then at every step
        assert sum_money(issued, "EUR") == order.refunded_total <= paid
    # and refunding what is left returns exactly the rest
    if not order.refundable_total.is_zero() or any(
        x.refunded_quantity < x.quantity for x in order.lines
    ):
        order = order.refund_remaining("last", reason="r").value
    assert order.refunded_total == paid
    assert order.status is (OrderStatus.REFUNDED if paid.amount else OrderStatus.PAID)


# -- returns --------------------------------------------------------------------------------


def shipped_order() -> tuple[Order, list[FulfillmentOrder]]:
    order = paid_order()
    fulfillments = [f.accept().value.ship(f"shp_{f.id}").value for f in split(order)]
    fulfillments = [f.mark_delivered().value for f in fulfillments]
    return order.sync_fulfillments(fulfillments).value, fulfillments


def test_a_return_goes_from_request_to_refund() -> None:
    # given a delivered order
    order, fulfillments = shipped_order()
    # when the customer returns 2 tees and 1 mug
    requested = request_return(
        order,
        fulfillments,
        [],
        [ReturnLine("oln_1", 2), ReturnLine("oln_2", 1, restock=False)],
        return_id="ret_1",
        reason="too small",
    )
    request = requested.value
    (event,) = requested.events
    assert isinstance(event, ReturnRequested)
    assert event.audience() == ("seller:sel_a",)
    request = request.approve().value
    received = request.receive({"oln_1": False})
    request = received.value
    (received_event,) = received.events
    assert isinstance(received_event, ReturnReceived)
    assert [line.restock for line in received_event.lines] == [False, False]
    order_change, return_change = refund_return(order, request, refund_id="ref_1")
    # then
    expected = order.line("oln_1").refund_amount(2) + order.line("oln_2").refund_amount(1)
    assert return_change.value.status is ReturnStatus.REFUNDED
    assert return_change.value.refunded == expected
    (refunded_event,) = return_change.events
    assert isinstance(refunded_event, ReturnRefunded)
    (refund,) = order_change.events
    assert isinstance(refund, RefundIssued)
    assert refund.amount == expected
    assert refund.return_id == "ret_1"
    assert order_change.value.status is OrderStatus.PARTIALLY_REFUNDED


def test_a_return_cannot_claim_more_than_shipped_minus_returned() -> None:
    # given an order where only 1 of 3 tees shipped, and 1 tee already requested back
    order = paid_order()
    retailer, seller = accepted(split(order))
    retailer = retailer.ship("shp_1", [LineQuantity("oln_1", 1)]).value
    order = order.sync_fulfillments([retailer, seller]).value
    first = request_return(
        order, [retailer, seller], [], [ReturnLine("oln_1", 1)], return_id="ret_1", reason="r"
    ).value
    # when / then
    assert returnable_quantities(order, [retailer, seller], [first]) == {"oln_1": 0, "oln_2": 0}
    with pytest.raises(ValidationFailed) as caught:
        request_return(
            order, [retailer, seller], [first], [ReturnLine("oln_1", 1)], return_id="r2", reason="r"
        )
    assert caught.value.errors[0].field == "lines[0].quantity"
    # a rejected return frees its units
    rejected = first.reject("worn").value
    assert returnable_quantities(order, [retailer, seller], [rejected])["oln_1"] == 1


def test_returns_follow_their_state_machine() -> None:
    # given
    order, fulfillments = shipped_order()
    request = request_return(
        order, fulfillments, [], [ReturnLine("oln_1", 1)], return_id="ret_1", reason="r"
    ).value
    # when / then: no receipt before approval, no refund before receipt
    with pytest.raises(IllegalTransition):
        request.receive()
    with pytest.raises(IllegalTransition):
        refund_return(order, request, refund_id="ref_1")
    approved = request.approve().value
    with pytest.raises(ValidationFailed):
        approved.receive({"oln_9": True})
    received = approved.receive().value
    with pytest.raises(IllegalTransition):
        received.reject("too late")
    assert isinstance(received, ReturnRequest)


def test_no_returns_on_a_completed_order() -> None:
    # given
    order, fulfillments = shipped_order()
    completed = order.complete(fulfillments).value
    # when / then
    with pytest.raises(IllegalTransition):
        request_return(
            completed, fulfillments, [], [ReturnLine("oln_1", 1)], return_id="ret_1", reason="r"
        )
    with pytest.raises(IllegalTransition):
        completed.refund("ref_1", [LineQuantity("oln_1", 1)], reason="r")


# -- the whole machine ----------------------------------------------------------------------

ACTIONS = st.lists(
    st.sampled_from(
        [
            "pay",
            "fail",
            "cancel",
            "accept",
            "reject_one",
            "ship_one",
            "ship_all",
            "deliver",
            "refund_one",
            "complete",
        ]
    ),
    max_size=25,
)


@given(ACTIONS, st.integers(0, 1))
def test_random_histories_only_take_declared_transitions(actions: list[str], which: int) -> None:
    # given an order awaiting payment
    order = order_from_quote(two_fulfiller_quote())
    fulfillments: list[FulfillmentOrder] = []
    ever_shipped = False
    for action in actions:
        before = order.status
        try:
            order, fulfillments = _apply(action, order, fulfillments, which)
        except (IllegalTransition, ValidationFailed):
            continue
        # then every status change is one the machine declares
        assert order.status is before or order.status in ORDER_TRANSITIONS[before]
        ever_shipped = ever_shipped or any(f.shipped_units for f in fulfillments)
        if ever_shipped:
            assert order.status not in (OrderStatus.PAID, OrderStatus.AWAITING_PAYMENT)
        assert order.refunded_total <= order.grand_total


def _apply(
    action: str, order: Order, fulfillments: list[FulfillmentOrder], which: int
) -> tuple[Order, list[FulfillmentOrder]]:
    if action == "pay":
        order = order.mark_paid("pay_1", order.grand_total).value
        if order.status is OrderStatus.PAID and not fulfillments:
            fulfillments = split(order)
        return order, fulfillments
    if action == "fail":
        return order.mark_payment_failed("declined").value, fulfillments
    if action == "cancel":
        order = order.cancel("bye", fulfillments).value
        return order, [
            f.cancel("bye").value if f.status in _CANCELLABLE else f for f in fulfillments
        ]
    if action == "refund_one":
        return order.refund("ref", [LineQuantity(order.lines[which].id, 1)], reason="r").value, (
            fulfillments
        )
    if action == "complete":
        return order.complete(fulfillments).value, fulfillments
    if not fulfillments:
        raise IllegalTransition("nothing split yet")
    f = fulfillments[which]
    line = LineQuantity(f.lines[0].line_id, 1)
    changed = {
        "accept": lambda: f.accept(),
        "reject_one": lambda: f.reject_lines([line], "r"),
        "ship_one": lambda: f.ship(f"shp_{f.shipped_units}", [line]),
        "ship_all": lambda: f.ship("shp_all"),
        "deliver": lambda: f.mark_delivered(),
    }[action]().value
    fulfillments = [changed if g.id == f.id else g for g in fulfillments]
    return order.sync_fulfillments(fulfillments).value, fulfillments


_CANCELLABLE = (FulfillmentStatus.PENDING, FulfillmentStatus.ACCEPTED)
