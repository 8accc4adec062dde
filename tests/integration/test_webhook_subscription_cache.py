"""The webhook resolver keeps active subscriptions in memory; changes still reach commits.

Every commit with events asks the resolver for subscribers, so it does not query the
subscriptions each time. A subscription made (or ended) through this process applies to the
very next commit; one made by another process applies once the cache's time to live ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from bazaar.bootstrap import Container, build
from bazaar.identity.model import Role
from bazaar.infra.outbox import deliveries_table
from bazaar.kernel.clock import FixedClock
from bazaar.kernel.events import Actor, Event
from bazaar.webhooks.model import Subscription
from bazaar.webhooks.service import WebhookResolver
from tests.support.assertions import StatementCounter
from tests.support.factories import Account, make_account, test_settings

ACTOR = Actor("user", "usr_test", "operator")
HOOK_URL = "http://127.0.0.1:9/hooks"


@dataclass(frozen=True, kw_only=True)
class GadgetPolished(Event):
    subject_type = "gadget"
    subject_field = "gadget_id"
    gadget_id: str


@pytest.fixture
def container(db_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Container]:
    c = build(test_settings(db_url, tmp_path), clock=clock)
    yield c
    c.close()


@pytest.fixture
def operator(container: Container) -> Account:
    return make_account(container, Role.OPERATOR)


def polish(container: Container, gadget_id: str = "gdg_1") -> list[str]:
    """Commit one event; the subscribers its deliveries went to."""
    with container.uow(ACTOR) as uow:
        uow.record(GadgetPolished(gadget_id=gadget_id))
        uow.commit()
    d = deliveries_table
    with container.db.read() as conn:
        return list(conn.scalars(sa.select(d.c.subscriber).where(d.c.event_id == uow.event_ids[0])))


def subscribe(container: Container, operator: Account) -> Subscription:
    return container.webhooks.subscribe(
        operator.principal, url=HOOK_URL, event_types=["GadgetPolished"]
    )


def test_commits_do_not_query_subscriptions_while_they_are_cached(
    container: Container, operator: Account
) -> None:
    sub = subscribe(container, operator)
    assert f"webhook:{sub.id}" in polish(container)
    # when more events commit
    with StatementCounter(container.db.engine) as counter:
        for i in range(3):
            assert f"webhook:{sub.id}" in polish(container, f"gdg_{i}")
    # then the subscriptions were not read again
    assert not [s for s in counter.statements if "webhook_subscriptions" in s]


def test_a_new_subscription_gets_the_very_next_event(
    container: Container, operator: Account
) -> None:
    # given a resolver that has cached the (empty) subscription list
    assert not [s for s in polish(container) if s.startswith("webhook:")]
    # when a subscription is made and an event commits right after
    sub = subscribe(container, operator)
    # then the event goes to it
    assert f"webhook:{sub.id}" in polish(container)


def test_an_ended_subscription_gets_no_further_event(
    container: Container, operator: Account
) -> None:
    sub = subscribe(container, operator)
    assert f"webhook:{sub.id}" in polish(container)
    container.webhooks.unsubscribe(operator.principal, sub.id)
    assert f"webhook:{sub.id}" not in polish(container)


def test_another_process_s_subscription_is_seen_once_the_cache_expires(
    container: Container, operator: Account, db_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    # given this process's resolver with a cached, empty list (on a controllable clock)
    now = [100.0]
    resolver = WebhookResolver(ttl_s=2.0, monotonic=lambda: now[0])
    event = GadgetPolished(gadget_id="gdg_1")
    with container.db.read() as conn:
        assert resolver.subscribers(conn, [event]) == [[]]
    # when another process subscribes
    other = build(test_settings(db_url, tmp_path), clock=clock)
    try:
        sub = other.webhooks.subscribe(
            operator.principal, url=HOOK_URL, event_types=["GadgetPolished"]
        )
    finally:
        other.close()
    # then this process's commits reach it once the time to live has passed
    now[0] += 2.5
    with container.db.read() as conn:
        assert resolver.subscribers(conn, [event]) == [[f"webhook:{sub.id}"]]


def test_a_seller_subscription_sees_only_events_meant_for_it(
    container: Container, operator: Account
) -> None:
    # given subscriptions of two sellers and of the operator, to every event
    def sub_for(owner_type: str | None, owner_id: str | None) -> Subscription:
        return container.webhooks.subscribe(
            operator.principal,
            url=HOOK_URL,
            event_types=["*"],
            owner_type=owner_type,
            owner_id=owner_id,
        )

    mine, theirs, ops = sub_for("seller", "sel_a"), sub_for("seller", "sel_b"), sub_for(None, None)

    @dataclass(frozen=True, kw_only=True)
    class SellerNudged(Event):
        subject_type = "gadget"
        subject_field = "gadget_id"
        gadget_id: str

        def audience(self) -> tuple[str, ...]:
            return ("seller:sel_a",)

    # when an event for seller A commits, then A and the operator get it, B does not
    with container.uow(ACTOR) as uow:
        uow.record(SellerNudged(gadget_id="gdg_9"))
        uow.commit()
    with container.db.read() as conn:
        got: set[str] = set(
            conn.scalars(
                sa.select(deliveries_table.c.subscriber).where(
                    deliveries_table.c.event_id == uow.event_ids[0]
                )
            )
        )
    assert {f"webhook:{mine.id}", f"webhook:{ops.id}"} <= got
    assert f"webhook:{theirs.id}" not in got
