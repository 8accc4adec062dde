"""Posting ``OrderPaid``, on SQLite and PostgreSQL: the fee schedule in force when the event
is handled applies, and a redelivery, which is refused by the posting's unique key rather
than by a check first, posts nothing whatever changed since the first delivery.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container
from bazaar.fees import service as ledger_service
from bazaar.fees import store
from bazaar.fees.handlers import paid_order_facts
from bazaar.fees.ledger import COMMISSION_REVENUE, Transaction
from bazaar.infra import outbox
from bazaar.kernel.errors import CurrencyMismatch
from bazaar.kernel.events import StoredEvent
from bazaar.kernel.money import round_half_up
from tests.support.assertions import StatementCounter
from tests.support.factories import Account
from tests.support.marketplace import (
    balances,
    line_of,
    new_seller,
    offer,
    place_order,
    set_fees,
)


def _order_paid(container: Container, order_id: str) -> StoredEvent:
    e = outbox.events_table
    query = sa.select(e).where(e.c.type == "OrderPaid", e.c.subject_id == order_id)
    with container.db.read() as conn:
        (row,) = conn.execute(query).mappings().all()
    return outbox.row_to_event(row)


def _deliver(container: Container, event: StoredEvent) -> StatementCounter:
    """Hand ``event`` to the ledger's handler as the dispatcher would; its statements."""
    name = next(n for n in container.handlers.handlers_for("OrderPaid") if n.startswith("fees."))
    with StatementCounter(container.db.engine) as counter:
        result = container.handlers.deliver(outbox.Claim("d", f"handler:{name}", 1, "l", event))
    assert result.ok, result.error
    return counter


def _net(order: dict[str, Any], fulfiller: str) -> Decimal:
    line = line_of(order, fulfiller)
    return Decimal(line["total"]["amount"] - line["tax"]["amount"])


def _commission(container: Container) -> int:
    return balances(container).get(COMMISSION_REVENUE.code, 0)


def _postings(container: Container) -> list[Transaction]:
    with container.db.read() as conn:
        return store.all_transactions(conn)


def test_a_schedule_saved_between_two_payments_applies_to_the_second_only(
    client: TestClient, container: Container, operator: Account
) -> None:
    # Given a seller's mug (VAT included) and 10 % commission without minimum, one paid
    seller = new_seller(container, operator)
    mug = offer(container, operator, fulfiller=seller, price=2000, stock=5)
    set_fees(container, operator, rate="0.10", order_fee=0)
    first = place_order(client, [(mug, 1)])
    container.dispatcher.drain()
    at_ten = _commission(container)

    # When the operator raises the rate to 20 % and the next mug is paid
    set_fees(container, operator, rate="0.20", order_fee=0)
    second = place_order(client, [(mug, 1)])
    container.dispatcher.drain()

    # Then each posting charged the rate in force when it was posted
    assert at_ten == round_half_up(_net(first, seller) * Decimal("0.10"))
    at_twenty = _commission(container) - at_ten
    assert at_twenty == round_half_up(_net(second, seller) * Decimal("0.20"))
    assert container.ledger.check().ok


def test_a_redelivered_payment_posts_nothing_even_after_the_fees_changed(
    client: TestClient, container: Container, operator: Account
) -> None:
    # Given a seller's paid order posted at 10 % commission
    seller = new_seller(container, operator)
    mug = offer(container, operator, fulfiller=seller, price=2000, stock=5)
    set_fees(container, operator, rate="0.10", order_fee=50)
    order = place_order(client, [(mug, 2)])
    container.dispatcher.drain()
    before = balances(container)

    # When the fees change and its OrderPaid is delivered again
    set_fees(container, operator, rate="0.30", order_fee=0)
    again = _deliver(container, _order_paid(container, order["id"]))

    # Then nothing more is posted and the balances are those of the first delivery
    assert len(_postings(container)) == 1
    assert balances(container) == before
    # (it tried, and the posting's unique key refused it)
    assert sum("INSERT INTO ledger_transactions" in x for x in again.statements) == 1
    assert not any("INSERT INTO ledger_entries" in x for x in again.statements)


def test_a_posted_payment_is_not_judged_again_by_rules_that_now_refuse_it(
    client: TestClient, container: Container, operator: Account, monkeypatch: Any
) -> None:
    # Given a paid order already posted
    mug = offer(container, operator, price=2000, stock=5)
    order = place_order(client, [(mug, 1)])
    container.dispatcher.drain()
    event = _order_paid(container, order["id"])

    # When posting rules would now refuse it (say, fees kept in another currency)
    def refuse(*args: Any, **kwargs: Any) -> Transaction:
        raise CurrencyMismatch("The fee schedule is in USD, the order in EUR")

    monkeypatch.setattr(ledger_service, "post_order_paid", refuse)

    # Then its redelivery succeeds without posting: what was posted stays posted
    _deliver(container, event)
    assert len(_postings(container)) == 1

    # But an order never posted is refused, and the dispatcher will retry it
    other = place_order(client, [(mug, 1)])
    facts = paid_order_facts(other["id"], _order_paid(container, other["id"]).payload)
    with pytest.raises(CurrencyMismatch):
        container.ledger.record_order_paid(other["id"], container.clock.now(), facts)
    assert len(_postings(container)) == 1
