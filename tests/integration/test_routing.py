"""Order routing against real databases: the acceptance deadline, refunds that wait for the
capture, and races between sellers, the sweeper and the customer.

Every test runs on SQLite and on PostgreSQL, on a clock that moves only when told to.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from bazaar.audit.model import EventFilter
from bazaar.bootstrap import Container, build
from bazaar.http.app import create_app
from bazaar.identity.model import Role
from bazaar.kernel.clock import FixedClock
from bazaar.kernel.errors import DomainError
from bazaar.orders.deferred_refunds import deferred_refunds
from bazaar.orders.events import LineQuantity
from bazaar.webhooks.signature import EVENT_TYPE_HEADER
from tests.api.test_seller_fulfillments import (
    SELLER_API,
    MixedOrder,
    fulfillment_of,
    key,
    line_of,
    mixed_order,
    read_order,
)
from tests.support.assertions import assert_problem
from tests.support.checkout import stock_of
from tests.support.factories import Account, make_account, test_settings
from tests.support.receiver import WebhookReceiver

SLA_S = 3600


@dataclass
class Marketplace:
    container: Container
    client: TestClient
    clock: FixedClock
    operator: Account

    def order(self) -> MixedOrder:
        return mixed_order(self.client, self.container, self.operator)

    def past_the_deadline(self) -> None:
        self.clock.advance(SLA_S + 1)

    def deferred(self, order_id: str) -> list[tuple[int, str]]:
        d = deferred_refunds
        with self.container.db.read() as conn:
            rows = conn.execute(
                sa.select(d.c.amount, d.c.status).where(d.c.order_id == order_id)
            ).all()
        return sorted((row.amount, row.status) for row in rows)


@pytest.fixture
def market_with(
    db_url: str, tmp_path: Path, clock: FixedClock
) -> Iterator[Callable[..., Marketplace]]:
    opened: list[tuple[Container, TestClient]] = []

    def make(**overrides: Any) -> Marketplace:
        settings = test_settings(db_url, tmp_path, seller_accept_sla_s=SLA_S, **overrides)
        container = build(settings, clock=clock)
        client = TestClient(create_app(container, run_dispatcher=False))
        client.__enter__()
        opened.append((container, client))
        return Marketplace(container, client, clock, make_account(container, Role.OPERATOR))

    yield make
    for container, client in opened:
        client.__exit__(None, None, None)
        container.close()


@pytest.fixture
def market(market_with: Callable[..., Marketplace]) -> Marketplace:
    return market_with()


# --- the acceptance deadline -------------------------------------------------------------------


def test_an_unaccepted_seller_part_expires_refunded_and_released(market: Marketplace) -> None:
    # Given a paid order whose seller is subscribed to its fulfillment events
    c, client = market.container, market.client
    with WebhookReceiver() as receiver:
        mixed = market.order()
        seller = mixed.seller
        c.webhooks.subscribe(
            seller.account.principal, url=receiver.url, event_types=["FulfillmentCancelled"]
        )
        fid = mixed.seller_fulfillment
        assert stock_of(c, mixed.seller_skus[0]) == (4, 0, 2, 2)

        # When the deadline passes without an acceptance
        market.past_the_deadline()
        late = client.post(f"{SELLER_API}/{fid}/accept", headers=seller.headers)
        expired = c.routing.expire_overdue()
        again = c.routing.expire_overdue()
        c.dispatcher.drain()

        # Then a late acceptance is refused, and the sweeper expires the part exactly once
        assert assert_problem(late, 409)["code"] == "acceptance_deadline_passed"
        assert (expired, again) == (1, 0)
        # and the seller is told
        (cancelled,) = receiver.requests
        assert cancelled.headers[EVENT_TYPE_HEADER] == "FulfillmentCancelled"
        assert b'"reason":"seller_sla_expired"' in cancelled.body

    # And the customer sees the part cancelled, why, and the refund of its lines and shipping
    view = read_order(client, mixed.order)
    ours = fulfillment_of(view, seller.id)
    assert (ours["status"], ours["reason"]) == ("cancelled", "seller_sla_expired")
    assert fulfillment_of(view, "retailer")["status"] == "pending"
    assert view["status"] == "partially_refunded"
    owed = 3998 + 500 + 495
    assert view["refunded_total"]["amount"] == owed
    history = [(h["type"], h["reason"]) for h in view["history"]]
    assert ("FulfillmentCancelled", "seller_sla_expired") in history
    assert ("RefundIssued", "seller_sla_expired") in history
    # and the seller's stock is back on sale (allocated released, nothing written off)
    assert stock_of(c, mixed.seller_skus[0]) == (4, 0, 0, 4)
    assert stock_of(c, mixed.seller_skus[1]) == (4, 0, 0, 4)
    # and the audit log records it as the system's doing
    events = c.audit.list_events(
        market.operator.principal, EventFilter(type="FulfillmentCancelled"), 10, None
    )
    assert [(e.subject_id, e.actor_id) for e in events.items] == [(fid, "seller-sla")]

    # When the retailer ships its part: the payment is captured, the refund paid out
    assert market.deferred(mixed.order["id"]) == [(owed, "waiting")]
    client.post(
        f"/api/v1/admin/fulfillments/{mixed.retailer_fulfillment}/ship",
        json={"carrier": "DHL", "tracking_number": "JD1"},
        headers=market.operator.headers,
    )
    view = read_order(client, mixed.order)
    assert view["payment"]["refunded"]["amount"] == owed
    assert view["progress"] == "fulfilled"
    assert market.deferred(mixed.order["id"]) == [(owed, "released")]


def test_an_accepted_part_or_one_not_yet_due_is_left_alone(market: Marketplace) -> None:
    accepted = market.order()
    waiting = market.order()
    client = market.client
    ok = client.post(
        f"{SELLER_API}/{accepted.seller_fulfillment}/accept", headers=accepted.seller.headers
    )
    assert ok.status_code == 200, ok.text

    market.clock.advance(SLA_S - 1)
    assert market.container.routing.expire_overdue() == 0
    market.clock.advance(2)
    assert market.container.routing.expire_overdue() == 1

    assert read_order(client, accepted.order)["status"] == "paid"
    assert fulfillment_of(read_order(client, accepted.order), accepted.seller.id)["status"] == (
        "accepted"
    )
    assert read_order(client, waiting.order)["status"] == "partially_refunded"


def test_when_the_last_open_part_expires_the_order_is_cancelled_and_voided(
    market: Marketplace,
) -> None:
    # Given an order whose retailer part was rejected (damaged in the warehouse)
    c, client = market.container, market.client
    mixed = market.order()
    c.orders.fulfilling.reject(
        market.operator.principal.actor,
        mixed.retailer_fulfillment,
        None,
        reason="damaged",
    )

    # When the seller lets its deadline pass
    market.past_the_deadline()
    assert c.routing.expire_overdue() == 1

    # Then nothing will ship: the order is cancelled, the authorization voided
    view = read_order(client, mixed.order)
    assert view["status"] == "cancelled"
    assert view["refunded_total"] == view["grand_total"]
    assert view["payment"]["status"] == "voided"
    assert view["payment"]["refunded"]["amount"] == 0
    # and the refund that waited for a capture (the retailer's line) is void with it
    assert market.deferred(mixed.order["id"]) == [(2000 + 495, "voided")]


# --- refunds and the capture setting -----------------------------------------------------------


def test_with_capture_at_placement_a_rejection_is_paid_back_at_once(
    market_with: Callable[..., Marketplace],
) -> None:
    market = market_with(capture_on="placement")
    mixed = market.order()
    mug_line = line_of(mixed.order, mixed.seller_offers[0])["id"]
    assert mixed.order["payment"]["status"] == "captured"

    rejected = market.client.post(
        f"{SELLER_API}/{mixed.seller_fulfillment}/reject",
        json={"lines": [{"line_id": mug_line, "quantity": 2}], "reason": "out_of_stock"},
        headers={**mixed.seller.headers, **key()},
    )

    assert rejected.status_code == 200, rejected.text
    view = read_order(market.client, mixed.order)
    assert view["payment"]["refunded"]["amount"] == 3998
    assert view["refunded_total"]["amount"] == 3998
    assert market.deferred(mixed.order["id"]) == []


def test_the_reconciler_pays_out_refunds_whose_capture_happened_elsewhere(
    market: Marketplace,
) -> None:
    # Given a rejection waiting for the capture, and a capture made without releasing it
    c = market.container
    mixed = market.order()
    mug_line = line_of(mixed.order, mixed.seller_offers[0])["id"]
    market.client.post(
        f"{SELLER_API}/{mixed.seller_fulfillment}/reject",
        json={"lines": [{"line_id": mug_line, "quantity": 1}], "reason": "out_of_stock"},
        headers={**mixed.seller.headers, **key()},
    )
    c.payments.capture(mixed.order["id"])  # e.g. the process died before the release
    assert market.deferred(mixed.order["id"]) == [(1999, "waiting")]

    # When the reconciler runs
    market.clock.advance(120)
    c.orders.reconcile_money(market.clock.now())

    # Then the refund is paid out, once
    assert market.deferred(mixed.order["id"]) == [(1999, "released")]
    assert read_order(market.client, mixed.order)["payment"]["refunded"]["amount"] == 1999
    c.orders.reconcile_money(market.clock.now())
    assert read_order(market.client, mixed.order)["payment"]["refunded"]["amount"] == 1999


def test_a_customer_cancelling_after_a_rejection_voids_the_waiting_refund(
    market: Marketplace,
) -> None:
    mixed = market.order()
    mug_line = line_of(mixed.order, mixed.seller_offers[0])["id"]
    market.client.post(
        f"{SELLER_API}/{mixed.seller_fulfillment}/reject",
        json={"lines": [{"line_id": mug_line, "quantity": 1}], "reason": "out_of_stock"},
        headers={**mixed.seller.headers, **key()},
    )

    cancelled = market.client.post(
        f"/api/v1/orders/{mixed.order['id']}/cancel",
        json={},
        headers={"Order-Token": mixed.order["access_token"]},
    )

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["payment"]["status"] == "voided"
    assert market.deferred(mixed.order["id"]) == [(1999, "voided")]
    assert stock_of(market.container, mixed.seller_skus[0]) == (3, 0, 0, 3)


# --- races ----------------------------------------------------------------------------------


def _race(*calls: Callable[[], object]) -> list[object]:
    """Run ``calls`` in threads released together; their results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(i: int, call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            results[i] = call()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_two_sweepers_expire_a_part_once(market: Marketplace) -> None:
    mixed = market.order()
    market.past_the_deadline()

    results = _race(
        market.container.routing.expire_overdue, market.container.routing.expire_overdue
    )

    assert sorted(results) == [0, 1], results  # type: ignore[type-var]
    view = read_order(market.client, mixed.order)
    assert view["refunded_total"]["amount"] == 3998 + 500 + 495
    assert market.deferred(mixed.order["id"]) == [(3998 + 500 + 495, "waiting")]


def test_two_rejections_of_the_same_unit_refund_it_once(market: Marketplace) -> None:
    mixed = market.order()
    c = market.container
    mug_line = line_of(mixed.order, mixed.seller_offers[0])["id"]
    cap_line = line_of(mixed.order, mixed.seller_offers[1])["id"]
    actor = mixed.seller.account.principal.actor

    def reject(line_id: str) -> Callable[[], object]:
        return lambda: c.orders.fulfilling.reject(
            actor,
            mixed.seller_fulfillment,
            [LineQuantity(line_id, 1)],
            reason=f"race {uuid.uuid4().hex[:6]}",
            fulfiller_id=mixed.seller.id,
        )

    results = _race(reject(mug_line), reject(cap_line))

    failures = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(r, DomainError) for r in failures), failures
    done = len(results) - len(failures)
    view = read_order(market.client, mixed.order)
    # every rejection that succeeded is refunded once, and only those
    lines = {x["id"]: x["refunded_quantity"] for x in view["lines"]}
    assert lines[mug_line] + lines[cap_line] == done
    expected = {mug_line: 1999, cap_line: 500}
    assert view["refunded_total"]["amount"] == sum(
        expected[line] for line in (mug_line, cap_line) if lines[line]
    )
    seller_part = c.routing.get_fulfillment(
        mixed.seller.account.principal, mixed.seller_fulfillment
    )
    assert sum(fl.rejected for fl in seller_part.fulfillment.lines) == done
