"""A container configured with Redis: shared page cache and shared rate limits.

The container's Redis keys live under the fixed ``bazaar:`` prefix in the test database
(db 15). Those keys, and only those (the port tests use ``bazaar:test:<uuid>:``), are deleted
before and after each test so that no cached page leaks from one test (or engine) to the next.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container, build
from bazaar.catalog.drafts import OfferDraft, ProductDraft
from bazaar.catalog.model import VariantDraft
from bazaar.catalog.service import CatalogService
from bazaar.http.app import create_app
from bazaar.identity.model import Role
from bazaar.infra.cache import RedisCache
from bazaar.infra.ratelimit import RedisRateLimiter
from bazaar.kernel.money import Money
from tests.support.assertions import StatementCounter
from tests.support.factories import ensure_category, make_account, product_json, test_settings

pytestmark = pytest.mark.redis

CONTAINER_PREFIX = b"bazaar:"
PORT_TESTS_PREFIX = b"bazaar:test:"


def _delete_container_keys(client: redis.Redis) -> None:
    keys = [
        key
        for key in client.scan_iter(match=CONTAINER_PREFIX + b"*")
        if not key.startswith(PORT_TESTS_PREFIX)
    ]
    if keys:
        client.delete(*keys)


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    _delete_container_keys(client)
    yield client
    _delete_container_keys(client)
    client.close()


@pytest.fixture
def make_node(
    db_url: str, tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> Iterator[Callable[..., tuple[Container, TestClient]]]:
    """Build "processes": containers with their apps, all on the same database and Redis."""
    opened: list[tuple[Container, TestClient]] = []

    def make(**overrides: Any) -> tuple[Container, TestClient]:
        container = build(test_settings(db_url, tmp_path, redis_url=redis_url, **overrides))
        api = TestClient(create_app(container, run_dispatcher=False))
        api.__enter__()
        opened.append((container, api))
        return container, api

    yield make
    for container, api in reversed(opened):
        api.__exit__(None, None, None)
        container.close()


def listed_skus(api: TestClient) -> list[str]:
    response = api.get("/api/v1/products")
    assert response.status_code == 200, response.text
    # product_json titles products "Product <sku>"
    return [item["title"].removeprefix("Product ") for item in response.json()["items"]]


def test_product_list_is_cached_in_redis_and_a_create_invalidates_it(
    make_node: Callable[..., tuple[Container, TestClient]], redis_client: redis.Redis
) -> None:
    # Given a Bazaar whose cache and limiter are Redis, with one product listed once
    container, api = make_node()
    assert isinstance(container.cache, RedisCache)
    assert isinstance(container.limiter, RedisRateLimiter)
    operator = make_account(container, Role.OPERATOR)
    ensure_category(container, operator, "apparel/t-shirts")
    assert (
        api.post("/api/v1/products", json=product_json("A-1"), headers=operator.headers).status_code
        == 201
    )
    with StatementCounter(container.db.engine) as first:
        assert listed_skus(api) == ["A-1"]

    # When the list is requested again
    with StatementCounter(container.db.engine) as second:
        assert listed_skus(api) == ["A-1"]

    # Then it came from Redis without touching the database
    assert first.count > 0
    assert second.count == 0
    assert list(redis_client.scan_iter(match=b"bazaar:catalog:v*:/api/v1/products?*"))

    # When a product is created, the next list reads the database again and includes it
    assert (
        api.post("/api/v1/products", json=product_json("B-2"), headers=operator.headers).status_code
        == 201
    )
    with StatementCounter(container.db.engine) as after_create:
        assert listed_skus(api) == ["B-2", "A-1"]  # newest first
    assert after_create.count > 0


def test_another_process_sees_the_change_once_the_event_reaches_the_catalog_handler(
    make_node: Callable[..., tuple[Container, TestClient]],
) -> None:
    # Given two processes on the same database and Redis, the second having cached the list
    writer, _ = make_node()
    reader, reader_api = make_node()
    operator = make_account(writer, Role.OPERATOR)
    assert listed_skus(reader_api) == []

    # When the first process records a product through a path that does not touch the cache
    # (with Redis, the usual post-commit invalidation would reach every process at once; this
    # isolates what the ProductCreated handler alone guarantees, e.g. when that call failed)
    category = ensure_category(writer, operator, "apparel/t-shirts")
    writer.dispatcher.drain()  # the category's own invalidation is not what this test is about
    assert listed_skus(reader_api) == []
    silent_catalog = CatalogService(
        writer.db, writer.uow, writer.clock, writer.search_index, currency="EUR"
    )
    silent_catalog.create_product(
        operator.principal,
        ProductDraft(
            title="Product IMP-1",
            category=category.id,
            variants=[VariantDraft("IMP-1")],
            offers=[OfferDraft("IMP-1", Money(999, "EUR"), stock=1)],
        ),
    )

    # Then the second process still serves its cached page, without a query
    with StatementCounter(reader.db.engine) as stale:
        assert listed_skus(reader_api) == []
    assert stale.count == 0

    # When the first process's dispatcher delivers ProductCreated to the catalog handler
    writer.dispatcher.drain()

    # Then the second process sees the product on its next request
    assert listed_skus(reader_api) == ["IMP-1"]


def test_rate_limits_are_shared_between_processes(
    make_node: Callable[..., tuple[Container, TestClient]],
) -> None:
    # Given two processes allowing 3 requests a minute per client, counted in Redis
    _, first_api = make_node(rate_limit_per_minute=3)
    _, second_api = make_node(rate_limit_per_minute=3)

    # When one client spreads four requests over both
    statuses = [
        first_api.get("/api/v1/products").status_code,
        first_api.get("/api/v1/products").status_code,
        second_api.get("/api/v1/products").status_code,
    ]
    refused = second_api.get("/api/v1/products")
    refused_by_first = first_api.get("/api/v1/products")

    # Then the fourth is refused by whichever process gets it
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["code"] == "rate_limited"
    assert refused_by_first.status_code == 429
