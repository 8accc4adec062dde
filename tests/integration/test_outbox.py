"""The outbox: events commit with state; deliveries retry, die, get replayed, survive crashes."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from bazaar.bootstrap import Container, build
from bazaar.identity.model import Role
from bazaar.infra import delivery_queue, outbox
from bazaar.infra.outbox import deliveries_table, events_table
from bazaar.kernel.clock import FixedClock
from bazaar.kernel.events import Actor, Event, StoredEvent
from tests.support.assertions import StatementCounter
from tests.support.factories import make_account, test_settings

ACTOR = Actor("user", "usr_test", "operator")


@dataclass(frozen=True, kw_only=True)
class WidgetFrobbed(Event):
    subject_type = "widget"
    subject_field = "widget_id"
    widget_id: str


class FlakyHandler:
    """Fails its first ``failures`` calls, then records what it handled."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls = 0
        self.handled: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, event: StoredEvent) -> None:
        with self.lock:
            self.calls += 1
            if self.calls <= self.failures:
                raise ConnectionError("downstream unavailable")
            self.handled.append(event.id)


@pytest.fixture
def fixed(db_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Container]:
    c = build(
        test_settings(db_url, tmp_path, delivery_max_attempts=3, delivery_backoff_base_s=10),
        clock=clock,
    )
    yield c
    c.close()


def frob(container: Container, widget_id: str = "wid_1") -> str:
    with container.uow(ACTOR) as uow:
        uow.record(WidgetFrobbed(widget_id=widget_id))
        uow.commit()
    return uow.event_ids[0]


def delivery_rows(container: Container) -> list[sa.RowMapping]:
    with container.db.read() as conn:
        return list(conn.execute(sa.select(deliveries_table)).mappings())


def test_events_and_deliveries_commit_with_the_change(fixed: Container) -> None:
    # given a handler subscribed to WidgetFrobbed
    fixed.handlers.register(WidgetFrobbed, "test.widgets", FlakyHandler())
    # when a unit of work records the event and commits
    event_id = frob(fixed)
    # then the event is in the audit log with its actor, and one delivery is pending
    with fixed.db.read() as conn:
        row = conn.execute(sa.select(events_table)).mappings().one()
    assert (row["id"], row["type"], row["actor_id"]) == (event_id, "WidgetFrobbed", "usr_test")
    assert row["payload"] == {"widget_id": "wid_1"}
    [delivery] = delivery_rows(fixed)
    assert (delivery["subscriber"], delivery["status"]) == ("handler:test.widgets", "pending")


def test_nothing_is_written_when_the_unit_of_work_fails(fixed: Container) -> None:
    fixed.handlers.register(WidgetFrobbed, "test.widgets", FlakyHandler())

    # when the block raises after recording an event
    def fail_midway() -> None:
        with fixed.uow(ACTOR) as uow:
            uow.record(WidgetFrobbed(widget_id="wid_1"))
            raise RuntimeError("business rule broke")

    with pytest.raises(RuntimeError):
        fail_midway()
    # then neither the event nor a delivery exists
    with fixed.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(events_table)).scalar() == 0
    assert delivery_rows(fixed) == []


def test_failing_handler_is_retried_with_backoff_then_dead_then_replayed(
    fixed: Container, clock: FixedClock
) -> None:
    handler = FlakyHandler(failures=3)
    fixed.handlers.register(WidgetFrobbed, "test.widgets", handler)
    event_id = frob(fixed)

    # first attempt fails: the delivery waits at least half the base backoff (10 s)
    assert fixed.dispatcher.run_once() == 1
    [row] = delivery_rows(fixed)
    assert row["status"] == "pending"
    assert row["attempts"] == 1
    first_wait = (row["next_attempt_at"] - clock.now()).total_seconds()
    assert 5 <= first_wait <= 10
    assert fixed.dispatcher.run_once() == 0  # not due yet

    # second attempt, after the wait: fails again, and the wait doubles
    clock.advance(first_wait)
    assert fixed.dispatcher.run_once() == 1
    [row] = delivery_rows(fixed)
    second_wait = (row["next_attempt_at"] - clock.now()).total_seconds()
    assert 10 <= second_wait <= 20

    # third (last) attempt fails: the delivery is dead and stays dead
    clock.advance(second_wait)
    assert fixed.dispatcher.run_once() == 1
    [row] = delivery_rows(fixed)
    assert row["status"] == "dead"
    assert "downstream unavailable" in row["last_error"]
    clock.advance(3600)
    assert fixed.dispatcher.run_once() == 0

    # an operator replays it; the handler is healthy now and gets the same event
    with fixed.db.write() as conn:
        assert outbox.replay_delivery(conn, row["id"], clock.now())
    assert fixed.dispatcher.drain() == 1
    [row] = delivery_rows(fixed)
    assert row["status"] == "delivered"
    assert handler.handled == [event_id]
    with fixed.db.read() as conn:
        attempts: sa.ScalarResult[bool] = conn.execute(
            sa.select(outbox.delivery_attempts_table.c.ok).order_by(
                outbox.delivery_attempts_table.c.started_at
            )
        ).scalars()
        assert list(attempts) == [False, False, False, True]


def test_a_crash_between_commit_and_delivery_loses_nothing(
    db_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    # given a process that committed an event and died before its dispatcher ran
    first = build(test_settings(db_url, tmp_path), clock=clock)
    first.handlers.register(WidgetFrobbed, "test.widgets", FlakyHandler())
    event_id = frob(first)
    first.close()
    # when another process starts with the same handler
    second = build(test_settings(db_url, tmp_path), clock=clock)
    handler = FlakyHandler()
    second.handlers.register(WidgetFrobbed, "test.widgets", handler)
    try:
        # then it delivers the event
        assert second.dispatcher.drain() == 1
        assert handler.handled == [event_id]
    finally:
        second.close()


def test_a_delivery_held_by_a_dead_dispatcher_is_reclaimed_after_its_lease(
    fixed: Container, clock: FixedClock
) -> None:
    handler = FlakyHandler()
    fixed.handlers.register(WidgetFrobbed, "test.widgets", handler)
    event_id = frob(fixed)
    # given a dispatcher that claimed the delivery and then died
    with fixed.db.write() as conn:
        [stale] = delivery_queue.claim_due(
            conn, now=clock.now(), lease_s=60, limit=10, skip_locked=fixed.db.is_postgres
        )
    assert fixed.dispatcher.run_once() == 0  # leased: nobody else takes it
    # when the lease runs out, then another dispatcher delivers it
    clock.advance(61)
    assert fixed.dispatcher.run_once() == 1
    assert handler.handled == [event_id]
    # and the dead dispatcher's late result cannot overwrite the outcome
    with fixed.db.write() as conn:
        kept = delivery_queue.record_attempt(
            conn,
            stale,
            started_at=clock.now(),
            duration_ms=1,
            ok=False,
            status_code=None,
            error="late",
            response_excerpt=None,
            new_status="dead",
            next_attempt_at=None,
            now=clock.now(),
        )
    assert kept is False
    assert delivery_rows(fixed)[0]["status"] == "delivered"


def test_handlers_are_idempotent_with_mark_processed(fixed: Container) -> None:
    effects: list[str] = []

    def handler(event: StoredEvent) -> None:
        with fixed.uow(Actor.system()) as uow:
            if not uow.mark_processed("test.once", event.id):
                return
            effects.append(event.id)
            uow.commit()

    fixed.handlers.register(WidgetFrobbed, "test.once", handler)
    frob(fixed)
    fixed.dispatcher.drain()
    # when the same event is delivered again (at-least-once), then the effect happens once
    with fixed.db.read() as conn:
        stored = outbox.row_to_event(conn.execute(sa.select(events_table)).mappings().one())
    handler(stored)
    assert len(effects) == 1


def test_concurrent_dispatchers_never_deliver_the_same_delivery_twice(
    db_url: str, tmp_path: Path
) -> None:
    # given 120 pending deliveries and two dispatchers (two workers) on the same database
    settings = test_settings(db_url, tmp_path, dispatcher_batch_size=7)
    workers = [build(settings), build(settings)]
    seen: Counter[str] = Counter()
    lock = threading.Lock()

    def record(event: StoredEvent) -> None:
        with lock:
            seen[event.id] += 1
        time.sleep(0.001)  # widen the window in which a double claim would show

    for worker in workers:
        worker.handlers.register(WidgetFrobbed, "test.count", record)
    for i in range(120):
        frob(workers[0], f"wid_{i}")
    try:
        # when both drain at the same time
        threads = [threading.Thread(target=w.dispatcher.drain, args=(200,)) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        # then every event was handled exactly once
        assert len(seen) == 120
        assert set(seen.values()) == {1}
        assert {r["status"] for r in delivery_rows(workers[0])} == {"delivered"}
    finally:
        for worker in workers:
            worker.close()


def test_embedded_dispatcher_delivers_soon_after_commit(fixed: Container) -> None:
    # given the dispatcher running as a background thread, as in `bazaar serve`
    handler = FlakyHandler()
    fixed.handlers.register(WidgetFrobbed, "test.widgets", handler)
    fixed.dispatcher.start()
    try:
        # when an event is committed, then the commit wakes the dispatcher
        event_id = frob(fixed)
        deadline = time.monotonic() + 10
        while not handler.handled and time.monotonic() < deadline:
            time.sleep(0.01)
        assert handler.handled == [event_id]
    finally:
        fixed.dispatcher.stop()


def test_outbox_stats_report_depth_and_lag(fixed: Container, clock: FixedClock) -> None:
    fixed.handlers.register(WidgetFrobbed, "test.widgets", FlakyHandler(failures=99))
    frob(fixed)
    clock.advance(30)
    stats = fixed.outbox_stats()
    assert (stats.pending, stats.dead) == (1, 0)
    assert stats.oldest_due_age_s == pytest.approx(30)


def test_fan_out_costs_the_same_for_one_event_or_fifty(fixed: Container) -> None:
    # given subscribers of every kind: an in-process handler and a webhook subscription
    fixed.handlers.register(WidgetFrobbed, "test.widgets", FlakyHandler())
    operator = make_account(fixed, Role.OPERATOR)
    fixed.webhooks.subscribe(
        operator.principal, url="http://127.0.0.1:9/hook", event_types=["WidgetFrobbed"]
    )

    def commit(events: int) -> int:
        with StatementCounter(fixed.db.engine) as sql, fixed.uow(ACTOR) as uow:
            for i in range(events):
                uow.record(WidgetFrobbed(widget_id=f"wid_{i}"))
            uow.commit()
        return sql.count

    # when one commit carries one event and another fifty (after a first one, which reads
    # the subscriptions that the resolver then keeps)
    commit(1)
    # then resolving subscribers costs the same, not a query per event
    assert commit(50) == commit(1)
    assert len(delivery_rows(fixed)) == 2 * 52


def test_a_batch_of_deliveries_is_recorded_in_a_fixed_number_of_statements(
    fixed: Container,
) -> None:
    # given 5 and then 20 due deliveries of a handler that writes nothing itself
    fixed.handlers.register(WidgetFrobbed, "test.quiet", lambda event: None)

    def drained(count: int) -> int:
        for i in range(count):
            frob(fixed, f"wid_{count}_{i}")
        with StatementCounter(fixed.db.engine) as counter:
            assert fixed.dispatcher.run_once() == count
        return counter.count

    # when each batch is delivered, then the bookkeeping does not grow with the batch
    assert drained(20) == drained(5)
    rows = delivery_rows(fixed)
    assert {r["status"] for r in rows} == {"delivered"}
    assert all(r["delivered_at"] is not None and r["lease_token"] is None for r in rows)
    with fixed.db.read() as conn:
        attempts = conn.execute(sa.select(outbox.delivery_attempts_table)).mappings().all()
    assert len(attempts) == 25
    assert all(a["ok"] and a["attempt"] == 1 for a in attempts)


def test_a_batch_keeps_the_outcome_of_a_delivery_whose_lease_was_lost(
    fixed: Container, clock: FixedClock
) -> None:
    # given two claimed deliveries, one of which another dispatcher reclaimed and delivered
    fixed.handlers.register(WidgetFrobbed, "test.widgets", FlakyHandler())
    frob(fixed, "wid_1")
    frob(fixed, "wid_2")
    with fixed.db.write() as conn:
        first, second = delivery_queue.claim_due(
            conn, now=clock.now(), lease_s=60, limit=10, skip_locked=fixed.db.is_postgres
        )
    clock.advance(61)
    with fixed.db.write() as conn:
        [reclaimed] = delivery_queue.claim_due(
            conn, now=clock.now(), lease_s=60, limit=1, skip_locked=fixed.db.is_postgres
        )
    assert reclaimed.delivery_id == first.delivery_id

    def failed(claim: outbox.Claim) -> delivery_queue.Attempt:
        return delivery_queue.Attempt(
            claim,
            started_at=clock.now(),
            duration_ms=1,
            ok=False,
            status_code=500,
            error="boom",
            response_excerpt=None,
            new_status=outbox.PENDING,
            next_attempt_at=clock.now(),
        )

    # when the first dispatcher records both outcomes in one batch
    with fixed.db.write() as conn:
        moved = delivery_queue.record_attempts(conn, [failed(first), failed(second)], clock.now())

    # then only the delivery it still held moved on; the other stays with its new holder
    assert moved == 1
    by_id = {r["id"]: r for r in delivery_rows(fixed)}
    assert by_id[first.delivery_id]["status"] == outbox.IN_FLIGHT
    assert by_id[first.delivery_id]["lease_token"] == reclaimed.lease_token
    assert by_id[second.delivery_id]["status"] == outbox.PENDING
    assert by_id[second.delivery_id]["last_error"] == "boom"
