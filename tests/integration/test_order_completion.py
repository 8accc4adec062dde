"""Orders complete once every parcel is past its return window, on SQLite and PostgreSQL.

The closer is the job of a worker's Periodic (:func:`bazaar.orders.closing.build_order_closer`);
these tests run that job directly on a FixedClock. Completion records ``OrderCompleted`` in
the transaction that writes it, once, however many workers run the job; afterwards a return
is refused with a 409 ``return_window_closed`` problem.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container, build
from bazaar.http.app import create_app
from bazaar.identity.model import Role
from bazaar.infra import outbox
from bazaar.kernel.clock import FixedClock
from bazaar.orders.closing import OrderCloser, build_order_closer
from tests.support.assertions import StatementCounter, assert_problem
from tests.support.factories import Account, make_account, test_settings
from tests.support.marketplace import (
    deliver,
    fulfillment_of,
    new_seller,
    offer,
    place_order,
    ship,
    ship_and_deliver,
)

DAY_S = 86_400.0
WINDOW_DAYS = 30
ASSUME_DAYS = 21


@dataclass
class Shop:
    container: Container
    client: TestClient
    clock: FixedClock

    @property
    def operator(self) -> Account:
        """An operator signed in now (tokens expire while the clock runs for weeks)."""
        return make_account(self.container, Role.OPERATOR)

    def order(self, units: int = 2, fulfiller: str = "retailer") -> dict[str, Any]:
        mugs = offer(self.container, self.operator, fulfiller=fulfiller, price=2000)
        return place_order(self.client, [(mugs, units)])

    def status(self, order: dict[str, Any]) -> str:
        got = self.client.get(
            f"/api/v1/orders/{order['id']}", headers={"Order-Token": order["access_token"]}
        )
        assert got.status_code == 200, got.text
        return str(got.json()["status"])

    def ask_return(self, order: dict[str, Any], units: int = 1) -> Any:
        return self.client.post(
            f"/api/v1/orders/{order['id']}/returns",
            json={
                "lines": [{"line_id": order["lines"][0]["id"], "quantity": units}],
                "reason": "too small",
            },
            headers={"Order-Token": order["access_token"]},
        )

    def fulfillment_status(self, order: dict[str, Any]) -> str:
        got = self.client.get(
            f"/api/v1/orders/{order['id']}", headers={"Order-Token": order["access_token"]}
        )
        assert got.status_code == 200, got.text
        (fulfillment,) = got.json()["fulfillments"]
        return str(fulfillment["status"])

    def delivered_events(self) -> list[tuple[str, str, str, bool]]:
        """(fulfillment id, actor type, actor id, assumed) of each FulfillmentDelivered."""
        e = outbox.events_table
        query = (
            sa.select(e.c.subject_id, e.c.actor_type, e.c.actor_id, e.c.payload)
            .where(e.c.type == "FulfillmentDelivered")
            .order_by(e.c.id)
        )
        with self.container.db.read() as conn:
            return [
                (row.subject_id, row.actor_type, row.actor_id, row.payload["assumed"])
                for row in conn.execute(query)
            ]

    def completed_events(self) -> list[str]:
        e = outbox.events_table
        query = sa.select(e.c.subject_id).where(e.c.type == "OrderCompleted").order_by(e.c.id)
        with self.container.db.read() as conn:
            return list(conn.execute(query).scalars())


def at_once(jobs: list[Callable[[], int]]) -> tuple[list[int], list[BaseException]]:
    """Run each job in a thread of its own, all at once, as many workers would; what they
    returned, and what they raised (a lost race must not raise: it is reported here)."""
    results: list[int] = []
    failures: list[BaseException] = []

    def run(job: Callable[[], int]) -> None:
        try:
            results.append(job())
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, failures


@pytest.fixture
def shop(db_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Shop]:
    settings = test_settings(
        db_url, tmp_path, return_window_days=WINDOW_DAYS, assume_delivered_after_days=ASSUME_DAYS
    )
    container = build(settings, clock=clock)
    with TestClient(create_app(container, run_dispatcher=False)) as client:
        yield Shop(container, client, clock)
    container.close()


def test_an_order_completes_after_the_return_window_and_then_refuses_returns(shop: Shop) -> None:
    # Given an order of a seller's mugs and the retailer's, delivered a day apart
    seller = new_seller(shop.container, shop.operator)
    mugs = offer(shop.container, shop.operator, fulfiller=seller, price=2000)
    tees = offer(shop.container, shop.operator, price=1500, category="apparel/t-shirts")
    order = place_order(shop.client, [(mugs, 2), (tees, 1)])
    first, last = fulfillment_of(order, seller), fulfillment_of(order, "retailer")
    ship(shop.client, shop.operator, first)
    deliver(shop.client, shop.operator, first)
    shop.clock.advance(DAY_S)
    ship(shop.client, shop.operator, last)
    deliver(shop.client, shop.operator, last)
    closer = build_order_closer(shop.container.order_closing, interval_s=60)

    # When the worker's job runs just before the last parcel's window is over
    shop.clock.advance(WINDOW_DAYS * DAY_S - 1)
    closer.run_once()

    # Then the order is still open; the seller's mugs, delivered a day earlier, can no
    # longer be returned, and the problem names the line
    assert shop.status(order) == "fulfilled"
    problem = assert_problem(shop.ask_return(order), 409)
    assert problem["code"] == "return_window_closed"
    assert [e["field"] for e in problem["errors"]] == ["lines[0].line_id"]

    # When the job runs again once the last window is over, and once more
    shop.clock.advance(1)
    closer.run_once()
    closer.run_once()

    # Then the order is completed, recorded once, and a return is refused as closed
    assert shop.status(order) == "completed"
    assert shop.completed_events() == [order["id"]]
    problem = assert_problem(shop.ask_return(order), 409)
    assert problem["code"] == "return_window_closed"
    assert "completed" in problem["detail"]


def test_an_open_return_keeps_its_order_open_until_refunded(shop: Shop) -> None:
    # Given a delivered order with a return requested and approved inside the window
    order = shop.order(units=3)
    ship_and_deliver(shop.client, shop.operator, order)
    shop.clock.advance(10 * DAY_S)
    requested = shop.ask_return(order)
    assert requested.status_code == 201, requested.text
    assert shop.client.post(
        f"/api/v1/admin/returns/{requested.json()['id']}/approve", headers=shop.operator.headers
    ).is_success
    closing = shop.container.order_closing

    # When the window has passed while the goods are on their way back
    shop.clock.advance(WINDOW_DAYS * DAY_S)

    # Then the order stays open, so the return can still be received and refunded
    assert closing.close_due() == 0
    received = shop.client.post(
        f"/api/v1/admin/returns/{requested.json()['id']}/receive",
        json={},
        headers=shop.operator.headers,
    )
    assert received.status_code == 200, received.text
    assert shop.status(order) == "partially_refunded"

    # And once it is refunded the order completes
    assert closing.close_due() == 1
    assert shop.status(order) == "completed"


def test_a_parcel_in_transit_is_assumed_delivered_and_then_gets_its_whole_window(
    shop: Shop,
) -> None:
    # Given an order shipped but never reported delivered
    order = shop.order()
    parcel = fulfillment_of(order, "retailer")
    ship(shop.client, shop.operator, parcel)
    closer = build_order_closer(shop.container.order_closing, interval_s=60)

    # When the worker's job runs just before the parcel counts as arrived
    shop.clock.advance(ASSUME_DAYS * DAY_S - 1)
    closer.run_once()

    # Then it is still in transit
    assert shop.fulfillment_status(order) == "shipped"
    assert shop.delivered_events() == []

    # When the job runs once it is due, and once more
    shop.clock.advance(1)
    closer.run_once()
    closer.run_once()

    # Then the parcel is delivered, once, by the closer, and the event says it was assumed
    assert shop.fulfillment_status(order) == "delivered"
    assert shop.delivered_events() == [(parcel, "system", "order-closer", True)]

    # And the order stays open for a whole return window from then: a return is still
    # possible on its last second, and the order completes after it
    shop.clock.advance(WINDOW_DAYS * DAY_S - 1)
    closer.run_once()
    assert shop.status(order) == "fulfilled"
    shop.clock.advance(1)
    closer.run_once()
    assert shop.status(order) == "completed"
    assert shop.completed_events() == [order["id"]]


def test_a_reported_delivery_is_not_marked_assumed(shop: Shop) -> None:
    # Given a parcel delivered, as its fulfiller reported, a day after it shipped
    order = shop.order()
    parcel = fulfillment_of(order, "retailer")
    ship(shop.client, shop.operator, parcel)
    shop.clock.advance(DAY_S)
    deliver(shop.client, shop.operator, parcel)

    # When the job runs long after
    shop.clock.advance(2 * ASSUME_DAYS * DAY_S)
    assert shop.container.order_closing.assume_delivered() == 0

    # Then its one delivery is the reported one
    assert [assumed for *_, assumed in shop.delivered_events()] == [False]


def test_with_the_assumption_off_a_parcel_in_transit_keeps_its_order_open(
    db_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    # Given a shop that delivers a parcel only on a report, and an order shipped
    settings = test_settings(
        db_url, tmp_path, return_window_days=WINDOW_DAYS, assume_delivered_after_days=0
    )
    container = build(settings, clock=clock)
    with TestClient(create_app(container, run_dispatcher=False)) as client:
        shop = Shop(container, client, clock)
        order = shop.order()
        ship(client, shop.operator, fulfillment_of(order, "retailer"))

        # When the job runs long after
        clock.advance(10 * (ASSUME_DAYS + WINDOW_DAYS) * DAY_S)
        assert container.order_closing.sweep() == 0

        # Then the parcel may still arrive: the order stays open
        assert (shop.fulfillment_status(order), shop.status(order)) == ("shipped", "fulfilled")
    container.close()


def test_many_closers_assume_each_parcel_delivered_once(shop: Shop) -> None:
    # Given five parcels in transit for longer than the assumption
    orders = [shop.order(units=1) for _ in range(5)]
    for order in orders:
        ship(shop.client, shop.operator, fulfillment_of(order, "retailer"))
    shop.clock.advance((ASSUME_DAYS + 1) * DAY_S)
    c = shop.container

    # When three workers run the job at once, each in batches of two
    closers = [
        OrderCloser(c.db, c.clock, c.uow, deliveries=c.orders.fulfilling, batch_size=2)
        for _ in range(3)
    ]
    _, failures = at_once([closer.assume_delivered for closer in closers])

    # Then every parcel is delivered exactly once, between them
    assert failures == []
    delivered = sorted(parcel for parcel, *_ in shop.delivered_events())
    assert delivered == sorted(fulfillment_of(o, "retailer") for o in orders)
    assert all(shop.fulfillment_status(o) == "delivered" for o in orders)


def test_many_closers_complete_each_order_once_in_batches(shop: Shop) -> None:
    # Given five delivered orders past their window
    orders = [shop.order(units=1) for _ in range(5)]
    for order in orders:
        ship_and_deliver(shop.client, shop.operator, order)
    shop.clock.advance((WINDOW_DAYS + 1) * DAY_S)
    c = shop.container

    # When three workers run the job at once, each in batches of two
    closers = [OrderCloser(c.db, c.clock, c.uow, batch_size=2) for _ in range(3)]
    counts, failures = at_once([closer.close_due for closer in closers])

    # Then every order is completed exactly once, between them
    assert failures == []
    assert sum(counts) == 5
    assert sorted(shop.completed_events()) == sorted(o["id"] for o in orders)
    assert all(shop.status(o) == "completed" for o in orders)


def test_closing_a_batch_costs_a_fixed_number_of_statements(shop: Shop) -> None:
    # Given a batch of 6 orders past their window, and a batch of 2
    for count in (6, 2):
        for _ in range(count):
            order = shop.order(units=1)
            ship_and_deliver(shop.client, shop.operator, order)
        shop.clock.advance((WINDOW_DAYS + 1) * DAY_S)
        closing = shop.container.order_closing

        # When the job closes them
        with StatementCounter(shop.container.db.engine) as counter:
            assert closing.close_due() == count

        # Then the reads do not grow with the batch: one update and one event per order
        fixed = counter.count - 2 * count
        assert fixed <= {"sqlite": 12, "postgresql": 10}[shop.container.db.dialect], (
            counter.statements
        )
