"""SQL statement budgets for the hot catalog endpoints, with the page cache off.

Counts are per engine because SQLite write transactions add an explicit statement: the engine
issues ``BEGIN`` itself (``BEGIN IMMEDIATE`` for writes) where psycopg starts transactions
implicitly.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container, build
from bazaar.http.app import create_app
from bazaar.identity.model import Role
from tests.support.assertions import StatementCounter
from tests.support.factories import Account, make_account, make_product, test_settings


@pytest.fixture
def uncached(db_url: str, tmp_path: Path) -> Iterator[Container]:
    container = build(test_settings(db_url, tmp_path, cache_ttl_s=0))
    yield container
    container.close()


@pytest.fixture
def api(uncached: Container) -> Iterator[TestClient]:
    with TestClient(create_app(uncached, run_dispatcher=False)) as client:
        yield client


@pytest.fixture
def staff(uncached: Container) -> Account:
    return make_account(uncached, Role.OPERATOR)


def by_engine(container: Container, *, sqlite: int, postgresql: int) -> int:
    return {"sqlite": sqlite, "postgresql": postgresql}[container.db.dialect]


def test_product_list_costs_the_same_whatever_the_page_size(
    uncached: Container, api: TestClient, staff: Account
) -> None:
    # Given 60 products
    for _ in range(60):
        make_product(uncached, staff)

    # When a small and a large page are listed
    with StatementCounter(uncached.db.engine) as small:
        small_page = api.get("/api/v1/products", params={"limit": 2})
    with StatementCounter(uncached.db.engine) as large:
        large_page = api.get("/api/v1/products", params={"limit": 50})

    # Then both cost one query (SQLite adds its BEGIN): no per-product queries
    assert (len(small_page.json()["items"]), len(large_page.json()["items"])) == (2, 50)
    assert small.count == large.count == by_engine(uncached, sqlite=2, postgresql=1), (
        small.statements
    )


def test_product_detail_is_one_query(uncached: Container, api: TestClient, staff: Account) -> None:
    # Given a product
    product = make_product(uncached, staff)

    # When it is fetched by id
    with StatementCounter(uncached.db.engine) as counter:
        response = api.get(f"/api/v1/products/{product.id}")

    # Then one SELECT answers it (SQLite adds its BEGIN)
    assert response.status_code == 200
    assert response.json()["id"] == product.id
    assert counter.count == by_engine(uncached, sqlite=2, postgresql=1), counter.statements


def test_product_create_has_a_bounded_statement_count(
    uncached: Container, api: TestClient, staff: Account
) -> None:
    # Given an operator's bearer token and an existing webhook subscription (so fan-out runs)
    uncached.webhooks.subscribe(
        staff.principal, url="http://127.0.0.1:9/hook", event_types=["ProductCreated"]
    )

    # When a product is created over HTTP
    with StatementCounter(uncached.db.engine) as counter:
        response = api.post(
            "/api/v1/products",
            json={
                "title": "Counted tee",
                "sku": "COUNT-1",
                "price": {"amount": 1000, "currency": "EUR"},
                "category": "apparel/t-shirts",
            },
            headers=staff.headers,
        )

    # Then it stays within budget: token lookup, SKU check, product insert, webhook
    # candidates, event insert, deliveries insert (plus SQLite's two BEGINs)
    assert response.status_code == 201, response.text
    assert counter.count <= by_engine(uncached, sqlite=8, postgresql=6), counter.statements
