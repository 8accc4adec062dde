"""Refunds the gateway pays are settled one by one, each against its own posting, on SQLite
and PostgreSQL; and the ``OrderPaid`` handler's statement budget.

The payments context records ``RefundSucceeded`` (refund id and amount) in the transaction
that marks a refund paid, and ``PaymentVoided`` when an authorization is released; the
ledger settles exactly the posting each one names.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container
from bazaar.fees import store
from bazaar.fees.ledger import REFUNDS_PAYABLE, TransactionKind
from bazaar.infra import outbox
from bazaar.kernel.events import StoredEvent
from bazaar.payments.gateway import GatewayUnavailable
from tests.support.assertions import StatementCounter
from tests.support.factories import Account
from tests.support.marketplace import (
    balances,
    line_of,
    new_seller,
    offer,
    place_order,
    return_units,
    ship_and_deliver,
)


def _stored(container: Container, event_type: str, order_id: str | None = None) -> list[Any]:
    e = outbox.events_table
    query = sa.select(e).where(e.c.type == event_type).order_by(e.c.id)
    with container.db.read() as conn:
        found = [outbox.row_to_event(row) for row in conn.execute(query).mappings()]
    return [x for x in found if order_id is None or x.payload["order_id"] == order_id]


def _settled_references(container: Container) -> list[str]:
    """The references of the refunds (and cancellations) a ``refund_paid`` settled."""
    with container.db.read() as conn:
        ledger = store.all_transactions(conn)
    by_id = {t.id: t for t in ledger}
    return sorted(
        by_id[t.original_id].reference
        for t in ledger
        if t.kind is TransactionKind.REFUND_PAID and t.original_id is not None
    )


def _mugs_order(
    client: TestClient, container: Container, operator: Account, units: int
) -> tuple[dict[str, Any], str]:
    seller = new_seller(container, operator)
    mug = offer(container, operator, fulfiller=seller, price=2000)
    order = place_order(client, [(mug, units)])
    ship_and_deliver(client, operator, order)
    return order, line_of(order, seller)["id"]


def test_each_paid_refund_settles_its_own_posting_whatever_the_order(
    client: TestClient, container: Container, operator: Account, monkeypatch: Any
) -> None:
    # Given a delivered order of 3 mugs; the first one-mug return is refunded while the
    # gateway is unreachable, the second while it answers
    order, mug = _mugs_order(client, container, operator, units=3)
    gateway = container.payments.gateway
    refund = gateway.refund

    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise GatewayUnavailable("timeout")

    monkeypatch.setattr(gateway, "refund", unreachable)
    return_units(client, operator, order, mug, 1)
    monkeypatch.setattr(gateway, "refund", refund)
    return_units(client, operator, order, mug, 1)
    container.dispatcher.drain()
    first, second = (e.payload for e in _stored(container, "RefundIssued", order["id"]))

    # Then only the second refund is settled, by its RefundSucceeded, although the first has
    # the same amount and was posted first; the first is still owed to the customer
    paid = _stored(container, "RefundSucceeded", first["order_id"])
    assert [e.payload["refund_id"] for e in paid] == [second["refund_id"]]
    assert _settled_references(container) == [second["refund_id"]]
    assert balances(container)[REFUNDS_PAYABLE.code] == first["amount"]["amount"]
    assert container.ledger.settle_refunds() == 0

    # When the payment reconciler pays the first one and its event is delivered
    assert container.orders.reconcile_money(container.clock.now() + timedelta(seconds=1)) == 1
    container.dispatcher.drain()

    # Then it is settled too, once; a redelivered event or a reconciler pass adds nothing
    assert _settled_references(container) == sorted([first["refund_id"], second["refund_id"]])
    assert balances(container)[REFUNDS_PAYABLE.code] == 0
    assert container.ledger.settle_refunds() == 0
    for event in _stored(container, "RefundSucceeded"):
        for name in container.handlers.handlers_for(event.type):
            claim = outbox.Claim("dlv_x", f"handler:{name}", 1, "lease", event)
            assert container.handlers.deliver(claim).ok
    report = container.ledger.check()
    assert report.ok, report.problems
    assert report.transactions == 5  # order paid, 2 refunds, 2 refunds paid


def test_a_refund_paid_before_the_ledger_posted_it_is_settled_when_posted(
    client: TestClient, container: Container, operator: Account
) -> None:
    # Given a return refunded and paid at the gateway, whose RefundIssued is not delivered
    order, mug = _mugs_order(client, container, operator, units=2)
    container.dispatcher.drain()
    return_units(client, operator, order, mug, 1)
    (paid,) = _stored(container, "RefundSucceeded", order["id"])
    (issued,) = _stored(container, "RefundIssued", order["id"])
    settle = container.handlers.handlers_for("RefundSucceeded")

    # When the gateway's event reaches the ledger first, it has nothing to settle yet
    for name in settle:
        assert container.handlers.deliver(outbox.Claim("d1", f"handler:{name}", 1, "l", paid)).ok
    assert _settled_references(container) == []

    # Then posting the refund settles it at once
    for name in container.handlers.handlers_for("RefundIssued"):
        assert container.handlers.deliver(outbox.Claim("d2", f"handler:{name}", 1, "l", issued)).ok
    assert _settled_references(container) == [issued.payload["refund_id"]]
    assert balances(container).get(REFUNDS_PAYABLE.code, 0) == 0


def test_a_cancellation_is_settled_by_the_void_event(
    client: TestClient, container: Container, operator: Account
) -> None:
    # Given a paid, unshipped order the ledger has posted
    seller = new_seller(container, operator)
    mug = offer(container, operator, fulfiller=seller, price=2000)
    order = place_order(client, [(mug, 2)])
    container.dispatcher.drain()

    # When the customer cancels it and the authorization is voided
    token = {"Order-Token": order["access_token"]}
    cancelled = client.post(f"/api/v1/orders/{order['id']}/cancel", json={}, headers=token)
    assert cancelled.status_code == 200, cancelled.text
    container.dispatcher.drain()

    # Then PaymentVoided released the whole order and settled the cancellation with it
    (voided,) = _stored(container, "PaymentVoided")
    assert voided.payload["released"] == order["grand_total"]
    assert _settled_references(container) == [order["id"]]
    assert all(amount == 0 for amount in balances(container).values())


def _as_stored_before_lines(event: StoredEvent) -> StoredEvent:
    """The same OrderPaid as events were stored before they carried what was sold."""
    payload = {k: v for k, v in event.payload.items() if k not in ("lines", "shipping")}
    return dataclasses.replace(event, payload=payload)


def _post_order_paid(container: Container, event: StoredEvent) -> StatementCounter:
    name = next(n for n in container.handlers.handlers_for("OrderPaid") if n.startswith("fees."))
    with StatementCounter(container.db.engine) as counter:
        result = container.handlers.deliver(outbox.Claim("d", f"handler:{name}", 1, "l", event))
    assert result.ok, result.error
    return counter


def test_posting_a_paid_order_reads_no_order_when_the_event_carries_its_lines(
    client: TestClient, container: Container, operator: Account
) -> None:
    # Given two paid orders (a seller's mugs and the retailer's tee), not yet posted
    seller = new_seller(container, operator)
    mug = offer(container, operator, fulfiller=seller, price=2000)
    tee = offer(container, operator, price=1500, category="apparel/t-shirts")
    carried = place_order(client, [(mug, 2), (tee, 1)])
    old = place_order(client, [(mug, 2), (tee, 1)])
    container.ledger.check()  # the fee schedule and categories are cached from here on

    # When the ledger posts one from an event carrying its lines, the other from an
    # event stored before events carried them
    (event,) = _stored(container, "OrderPaid", carried["id"])
    assert len(event.payload["lines"]) == 2  # the orders model records what was sold
    with_facts = _post_order_paid(container, event)
    (old_event,) = _stored(container, "OrderPaid", old["id"])
    fallback = _post_order_paid(container, _as_stored_before_lines(old_event))

    # Then the first costs the posting's own statements only; the old event reads the order
    assert not any("FROM orders" in x for x in with_facts.statements), with_facts.statements
    assert any("FROM orders" in x for x in fallback.statements)
    # (the categories and the fee schedule, then the transaction and its entries; no
    # existence check first: the dedupe key refuses a redelivery. SQLite also sends BEGINs)
    budget = {"sqlite": 6, "postgresql": 4}[container.db.dialect]
    assert with_facts.count <= budget, with_facts.statements
    assert with_facts.count < fallback.count, fallback.statements
    # and both posted the same amounts
    with container.db.read() as conn:
        a = store.transaction_by_key(conn, f"order_paid:{carried['id']}")
        b = store.transaction_by_key(conn, f"order_paid:{old['id']}")
    assert a is not None
    assert b is not None
    # (in any order: an entry's position in a balanced transaction carries no meaning)
    assert sorted((e.account.code, e.amount.amount) for e in a.entries) == sorted(
        (e.account.code, e.amount.amount) for e in b.entries
    )
