"""SQL statement budget of a validation pass, on real SQLite and PostgreSQL: a batch of feed
listings is validated in a fixed number of statements, whatever the batch's size.

Counts are per engine because SQLite write transactions add an explicit statement: the engine
issues ``BEGIN IMMEDIATE`` itself where psycopg starts transactions implicitly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from bazaar.bootstrap import Container, build
from bazaar.listings import store
from bazaar.listings.feed_runs import FeedFormat
from tests.support.assertions import StatementCounter
from tests.support.factories import test_settings
from tests.support.listings import (
    BOTTLE_GTIN,
    FLASK_MPN,
    IMAGE,
    ImageHost,
    Marketplace,
    jsonl,
    listing,
    resolve,
    set_up_marketplace,
)


@pytest.fixture
def container(db_url: str, tmp_path: Path) -> Iterator[Container]:
    c = build(
        test_settings(db_url, tmp_path),
        http_client=httpx.Client(transport=httpx.MockTransport(ImageHost())),
        resolve=resolve,
    )
    yield c
    c.close()


@pytest.fixture
def market(container: Container) -> Marketplace:
    return set_up_marketplace(container)


def feed_row(n: int) -> dict[str, Any]:
    """Every kind of row a feed holds: offers by GTIN and by brand + MPN, new products each
    with an image of its own, one needing fixes, one with a prohibited term."""
    price = {"amount": 2900 + n % 50, "currency": "EUR"}
    kind = n % 5
    if kind == 0:
        return {"category": "kitchen/bottles", "gtin": BOTTLE_GTIN, "price": price}
    if kind == 1:
        return {"category": "kitchen/bottles", "brand": "HYDRO", "mpn": FLASK_MPN, "price": price}
    if kind == 2:
        return listing(title=f"  Bottle {n} ", price=price, attributes={"colour": "grey"})
    if kind == 3:
        return listing(title=f"Replica bottle {n}", price=price)
    return listing(title=f"Bottle {n}", price=price, image_urls=[f"{IMAGE}?n={n}"])


def validate_feed(container: Container, market: Marketplace, rows: int) -> StatementCounter:
    """Import a feed of ``rows`` rows, then count the statements of the one pass that
    validates all of them."""
    data = jsonl(*(feed_row(n) for n in range(rows)))
    container.listing_feeds.submit(market.seller.principal, data, FeedFormat.JSONL)
    container.listing_workers.feeds.drain()
    with StatementCounter(container.db.engine) as counter:
        assert container.listing_workers.validation.run_once() == rows
    return counter


def outcomes(container: Container) -> Counter[str]:
    with container.db.read() as conn:
        return Counter(conn.execute(sa.select(store.listings.c.state)).scalars())


def test_validating_a_batch_costs_the_same_statements_whatever_its_size(
    container: Container, market: Marketplace
) -> None:
    # given a first pass behind us (category declarations and prices are cached for a while)
    validate_feed(container, market, 5)

    # when a batch of 5 and a batch of 100 feed listings are validated, each in one pass
    small = validate_feed(container, market, 5)
    large = validate_feed(container, market, 100)

    # then both cost the same few statements: nothing is read or written listing by listing
    assert small.count == large.count, large.statements
    budget = {"sqlite": 14, "postgresql": 10}[container.db.dialect]
    assert large.count <= budget, large.statements
    # and every listing reached its outcome
    decided = outcomes(container)
    assert sum(decided.values()) == 110
    assert set(decided) == {"approved", "fixed_and_approved", "rejected"}
