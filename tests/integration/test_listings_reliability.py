"""Listing feeds and validation under failure, on real SQLite and PostgreSQL: a worker that
crashes mid-feed, runners that die holding listings, runners racing, publishing twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from bazaar.bootstrap import Container, build
from bazaar.catalog.offer_matching import OfferMatching
from bazaar.infra import outbox
from bazaar.kernel.clock import FixedClock
from bazaar.listings import claims, feed_store, store, workflow
from bazaar.listings.feed_runs import FeedFormat, FeedStatus
from bazaar.listings.normalise import ListingDraft
from bazaar.listings.publishing import ListingPublisher
from bazaar.listings.schemas import ListingCreate
from bazaar.listings.workflow import Step
from tests.support.factories import test_settings
from tests.support.listings import (
    BOTTLE_GTIN,
    ImageHost,
    Marketplace,
    jsonl,
    listing,
    resolve,
    set_up_marketplace,
)

ROWS = 10_000
BATCH = 500
LEASE_S = 30.0


class WorkerKilled(BaseException):
    """Stands for the process dying: nothing in the worker catches it, nothing cleans up."""


def make_container(db_url: str, tmp_path: Path, clock: FixedClock, **settings: Any) -> Container:
    return build(
        test_settings(
            db_url,
            tmp_path,
            listing_feed_batch_size=BATCH,
            listing_lease_s=LEASE_S,
            **settings,
        ),
        clock=clock,
        http_client=httpx.Client(transport=httpx.MockTransport(ImageHost())),
        resolve=resolve,
    )


@pytest.fixture
def container(db_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Container]:
    c = make_container(db_url, tmp_path, clock)
    yield c
    c.close()


@pytest.fixture
def market(container: Container) -> Marketplace:
    return set_up_marketplace(container)


def offer_row(n: int) -> dict[str, Any]:
    return {
        "category": "kitchen/bottles",
        "gtin": BOTTLE_GTIN,
        "price": {"amount": 2900 + n % 50, "currency": "EUR"},
    }


def feed_lines(container: Container, feed_id: str) -> list[int]:
    with container.db.read() as conn:
        rows = conn.execute(
            sa.select(store.listings.c.feed_line)
            .where(store.listings.c.feed_id == feed_id)
            .order_by(store.listings.c.feed_line)
        )
        return [line for (line,) in rows]


def events_of(container: Container, event_type: str) -> list[str]:
    with container.db.read() as conn:
        rows = conn.execute(
            sa.select(outbox.events_table.c.subject_id).where(
                outbox.events_table.c.type == event_type
            )
        )
        return [subject for (subject,) in rows]


def test_a_10000_row_feed_survives_a_worker_crash_midway_without_duplicates_or_gaps(
    container: Container,
    market: Marketplace,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a 10,000-row feed, and a worker that dies inside its 7th batch's transaction,
    # after that batch's listings were inserted but before the commit
    data = jsonl(*(offer_row(n) for n in range(ROWS)))
    run = container.listing_feeds.submit(market.seller.principal, data, FeedFormat.JSONL)
    real_insert = store.insert_listings
    batches = 0

    def dying_insert(*args: Any, **kwargs: Any) -> None:
        nonlocal batches
        batches += 1
        real_insert(*args, **kwargs)
        if batches == 7:
            raise WorkerKilled

    monkeypatch.setattr(store, "insert_listings", dying_insert)
    feeds = container.listing_workers.feeds
    with pytest.raises(WorkerKilled):
        feeds.run_once()

    # then exactly the six committed batches are there, and the feed is still held
    assert feed_lines(container, run.id) == list(range(1, 6 * BATCH + 1))
    with container.db.read() as conn:
        crashed = feed_store.get_feed(conn, run.id)
    assert crashed is not None
    assert (crashed.status, crashed.lines_done, crashed.listings) == (
        FeedStatus.RUNNING,
        6 * BATCH,
        6 * BATCH,
    )
    assert feeds.run_once() is False  # its lease has not run out: nobody else takes it

    # when the lease runs out and another worker looks for work
    monkeypatch.setattr(store, "insert_listings", real_insert)
    clock.advance(LEASE_S + 1)
    assert feeds.run_once() is True

    # then the feed resumed after the last committed batch: every row once, no gaps
    assert feed_lines(container, run.id) == list(range(1, ROWS + 1))
    with container.db.read() as conn:
        done = feed_store.get_feed(conn, run.id)
        listing_ids = set(
            conn.execute(
                sa.select(store.listings.c.id).where(store.listings.c.feed_id == run.id)
            ).scalars()
        )
    assert done is not None
    assert (done.status, done.lines_done, done.listings, done.attempts) == (
        FeedStatus.SUCCEEDED,
        ROWS,
        ROWS,
        2,
    )
    submitted = events_of(container, "ListingSubmitted")
    assert len(submitted) == ROWS
    assert set(submitted) == listing_ids


def test_a_runner_that_died_holding_listings_is_taken_over_once_its_lease_runs_out(
    container: Container, market: Marketplace, clock: FixedClock
) -> None:
    # given listings claimed by a runner that then died
    run = container.listing_feeds.submit(
        market.seller.principal, jsonl(*(offer_row(n) for n in range(5))), FeedFormat.JSONL
    )
    container.listing_workers.feeds.drain()
    with container.db.write() as conn:
        held = claims.claim_due(
            conn, now=clock.now(), lease_s=LEASE_S, limit=10, token="lse_dead", skip_locked=False
        )
    assert len(held) == 5
    validation = container.listing_workers.validation
    assert validation.run_once() == 0  # held: nobody else takes them

    # when the lease runs out
    clock.advance(LEASE_S + 1)
    assert validation.drain() == 5

    # then each is decided once, and the dead runner's late save changes nothing
    assert sorted(events_of(container, "ListingApproved")) == sorted(r.id for r in held)
    with container.db.write() as conn:
        late = [(r, r.validation) for r in held]
        assert claims.save_claimed(conn, late, clock.now(), "lse_dead") == []
    assert container.listing_feeds.get(market.seller.principal, run.id, limit=10).states == {
        "approved": 5
    }


def test_runners_racing_on_one_database_decide_each_listing_once(
    db_url: str, tmp_path: Path, clock: FixedClock, container: Container, market: Marketplace
) -> None:
    # given 300 due listings and two workers (separate engines, as two processes have)
    count = 300
    container.listing_feeds.submit(
        market.seller.principal, jsonl(*(offer_row(n) for n in range(count))), FeedFormat.JSONL
    )
    container.listing_workers.feeds.drain()
    workers = [
        make_container(db_url, tmp_path / f"worker-{i}", clock, listing_batch_size=20)
        for i in range(2)
    ]
    try:
        # when both validate at the same time
        errors: list[BaseException] = []

        def work(worker: Container) -> None:
            try:
                worker.listing_workers.validation.drain()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(w,)) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert errors == []
    finally:
        for worker in workers:
            worker.close()

    # then every listing was decided exactly once
    approved = events_of(container, "ListingApproved")
    assert len(approved) == len(set(approved)) == count


def test_publishing_an_approval_twice_puts_one_offer_and_one_product_on_sale(
    container: Container, market: Marketplace, clock: FixedClock
) -> None:
    # given an approved new product and an approved offer, published once
    principal = market.seller.principal
    new = container.listings.submit(principal, _draft(listing(title="Twice bottle")))
    offer = container.listings.submit(principal, _draft(offer_row(0)))
    container.listing_workers.drain()
    container.dispatcher.drain()

    # when the approvals are delivered again (at-least-once delivery)
    publisher = _publisher(container)
    for record in (new, offer):
        publisher.publish(record.id, 1)

    # then nothing more was created
    assert len(events_of(container, "ListingPublished")) == 2
    assert len(events_of(container, "OfferCreated")) == 1  # the offer on the catalog bottle
    assert len(events_of(container, "ProductCreated")) == 22 + 1  # the marketplace's, and one


def _draft(body: dict[str, Any]) -> ListingDraft:
    parsed = ListingCreate.model_validate(body)
    return parsed.to_draft("", parsed.category)


def _publisher(container: Container) -> ListingPublisher:
    return ListingPublisher(
        container.db,
        container.uow,
        container.clock,
        container.catalog,
        container.taxonomy,
        OfferMatching(container.db),
        container.media,
    )


def test_a_step_that_crashes_on_one_listing_is_retried_without_holding_up_the_rest(
    container: Container, market: Marketplace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a rule that crashes on one listing of a batch
    real = workflow.check_prohibited_terms

    def crashing(draft: ListingDraft, terms: Any) -> Any:
        if draft.title == "Boom bottle":
            raise RuntimeError("rule bug")
        return real(draft, terms)

    monkeypatch.setattr(workflow, "check_prohibited_terms", crashing)
    principal = market.seller.principal
    boom = container.listings.submit(principal, _draft(listing(title="Boom bottle")))
    fine = container.listings.submit(principal, _draft(listing(title="Fine bottle")))

    # when the runner validates them together
    container.listing_workers.validation.drain()

    # then the other one is decided, and the crashed step waits for a retry
    assert container.listings.get(principal, fine.id).validation.state.value == "approved"
    crashed = container.listings.get(principal, boom.id).validation
    assert (crashed.state.value, crashed.step, crashed.attempts) == ("validating", Step.CHECKS, 1)
    assert crashed.last_error == "RuntimeError: rule bug"
