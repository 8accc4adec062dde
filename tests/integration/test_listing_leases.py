"""A validation pass waiting on a slow image host keeps holding its listings, on real SQLite
and PostgreSQL: it renews its lease while it waits, so no other runner takes them over."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from bazaar.bootstrap import Container, build
from bazaar.listings import store
from bazaar.listings.feed_runs import FeedFormat
from tests.support.factories import test_settings
from tests.support.listings import PNG, jsonl, listing, resolve, set_up_marketplace

LEASE_S = 0.2
PATIENCE_S = 10.0  # how long the slow host waits to see the lease renewed before giving up


class SlowHost:
    """Answers an image only once it has seen the listing's lease move forward twice."""

    def __init__(self) -> None:
        self.container: Container | None = None
        self.leases: list[datetime] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert self.container is not None
        deadline = time.monotonic() + PATIENCE_S
        while len(set(self.leases)) < 3 and time.monotonic() < deadline:
            with self.container.db.read() as conn:
                until = conn.execute(sa.select(store.listings.c.lease_until)).scalar_one()
            if until is not None and (not self.leases or until > self.leases[-1]):
                self.leases.append(until)
            threading.Event().wait(LEASE_S / 10)
        return httpx.Response(200, content=PNG, headers={"Content-Type": "image/png"})


@pytest.fixture
def host() -> SlowHost:
    return SlowHost()


@pytest.fixture
def container(db_url: str, tmp_path: Path, host: SlowHost) -> Iterator[Container]:
    c = build(
        test_settings(db_url, tmp_path, listing_lease_s=LEASE_S),
        http_client=httpx.Client(transport=httpx.MockTransport(host)),
        resolve=resolve,
    )
    host.container = c
    yield c
    c.close()


def test_a_pass_waiting_on_a_slow_image_host_renews_its_lease(
    container: Container, host: SlowHost
) -> None:
    # given a listing whose image host is slower than the runner's lease
    market = set_up_marketplace(container)
    container.listing_feeds.submit(market.seller.principal, jsonl(listing()), FeedFormat.JSONL)
    container.listing_workers.feeds.drain()

    # when a pass validates it
    assert container.listing_workers.validation.run_once() == 1

    # then the lease was renewed while the pass waited (the claim's, and two renewals),
    # and the pass, still holding the listing, saved its outcome
    assert len(host.leases) == 3, host.leases
    with container.db.read() as conn:
        row = conn.execute(sa.select(store.listings.c.state, store.listings.c.lease_token)).one()
    assert (row.state, row.lease_token) == ("approved", None)
