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
from bazaar.catalog.drafts import OfferDraft
from bazaar.catalog.model import VariantDraft
from bazaar.http.app import create_app
from bazaar.identity.model import Role
from bazaar.kernel.money import Money
from tests.support.assertions import StatementCounter
from tests.support.factories import (
    Account,
    ensure_category,
    make_account,
    make_product,
    product_json,
    test_settings,
)
from tests.support.images import png_bytes


@pytest.fixture
def uncached(db_url: str, tmp_path: Path) -> Iterator[Container]:
    container = build(test_settings(db_url, tmp_path, cache_ttl_s=0))
    # pricing rules are compiled once per process, by the first page that shows prices
    container.pricing_rules.get()
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
    # Given 60 products, some with several variants and offers
    for n in range(60):
        variants = [VariantDraft(f"L-{n}-{v}", {"size": str(v)}) for v in range(n % 3 + 1)]
        offers = [OfferDraft(v.sku, Money(1000 + n, "EUR"), stock=n % 2) for v in variants]
        make_product(uncached, staff, variants=variants, offers=offers)

    # When a small and a large page are listed, with facets
    params = {"facets": "category,brand,seller,price"}
    with StatementCounter(uncached.db.engine) as small:
        small_page = api.get("/api/v1/products", params={"limit": 2, **params})
    with StatementCounter(uncached.db.engine) as large:
        large_page = api.get("/api/v1/products", params={"limit": 50, **params})

    # Then both cost the same few statements: the listing never loads products one by one
    assert (len(small_page.json()["items"]), len(large_page.json()["items"])) == (2, 50)
    assert small.count == large.count, large.statements
    assert large.count <= by_engine(uncached, sqlite=5, postgresql=4), large.statements


def test_product_detail_does_not_grow_with_variants_offers_or_images(
    uncached: Container, api: TestClient, staff: Account
) -> None:
    # Given a plain product, and one with five variants, ten offers and three images
    plain = make_product(uncached, staff)
    sellers = [f"sel_01jbzq3k8x4m2n5p7r9t1v3w{n}y" for n in range(5)]
    for n, seller in enumerate(sellers):
        uncached.taxonomy.set_fulfiller(staff.principal, seller, f"Seller {n}", 40 + n)
    variants = [VariantDraft(f"BIG-{n}", {"size": str(n)}) for n in range(5)]
    offers = [
        OfferDraft(v.sku, Money(2000 + n, "EUR"), stock=3, fulfiller_id=sellers[n % 5 - k])
        for n, v in enumerate(variants)
        for k in (0, 1)
    ]
    rich = make_product(uncached, staff, variants=variants, offers=offers)
    for size in (300, 310, 320):
        uncached.media.add_upload(staff.principal, rich.id, png_bytes((size, size)))

    # When each product page is fetched
    with StatementCounter(uncached.db.engine) as plain_page:
        assert api.get(f"/api/v1/products/{plain.id}").status_code == 200
    with StatementCounter(uncached.db.engine) as rich_page:
        response = api.get(f"/api/v1/products/{rich.id}")

    # Then both cost the same four queries (product, variants, offers, images) plus, on
    # SQLite, the BEGIN of their one read transaction
    body = response.json()
    assert (len(body["variants"]), len(body["offers"]), len(body["images"])) == (5, 10, 3)
    assert plain_page.count == rich_page.count, rich_page.statements
    assert rich_page.count <= by_engine(uncached, sqlite=5, postgresql=4), rich_page.statements


def test_product_create_has_a_bounded_statement_count(
    uncached: Container, api: TestClient, staff: Account
) -> None:
    # Given an operator's bearer token and an existing webhook subscription (so fan-out runs)
    uncached.webhooks.subscribe(
        staff.principal, url="http://127.0.0.1:9/hook", event_types=["ProductCreated"]
    )

    ensure_category(uncached, staff, "apparel/t-shirts")

    # When a product is created over HTTP
    with StatementCounter(uncached.db.engine) as counter:
        response = api.post(
            "/api/v1/products",
            json=product_json("COUNT-1"),
            headers=staff.headers,
        )

    # Then it stays within a fixed budget: token lookup, reference lookups, SKU and GTIN
    # checks, inserts, search-index upkeep, webhook candidates, events and deliveries
    assert response.status_code == 201, response.text
    assert counter.count <= by_engine(uncached, sqlite=27, postgresql=24), counter.statements


def test_effective_prices_add_no_statement_that_grows_with_the_page(
    uncached: Container, api: TestClient, staff: Account
) -> None:
    # Given 60 products with one or more offers, a sale and a price list on many of them
    made = []
    for n in range(60):
        variants = [VariantDraft(f"P-{n}-{v}", {"size": str(v)}) for v in range(n % 3 + 1)]
        offers = [OfferDraft(v.sku, Money(1000 + n, "EUR"), stock=1) for v in variants]
        made.append(make_product(uncached, staff, variants=variants, offers=offers))
    offer_ids = [o.id for p in made for o in uncached.catalog.product_view(p.id).offers]
    with StatementCounter(uncached.db.engine) as unpriced:
        api.get("/api/v1/products", params={"limit": 50})
    entries = [
        {
            "offer_id": o,
            "tiers": [{"min_quantity": 1, "unit_price": {"amount": 900, "currency": "EUR"}}],
        }
        for o in offer_ids[::2]
    ]
    body = {"name": "Web", "currency": "EUR", "entries": entries}
    assert api.post("/api/v1/price-lists", json=body, headers=staff.headers).status_code == 201
    sale = {"offer_id": offer_ids[1], "price": {"amount": 500, "currency": "EUR"}}
    assert api.post("/api/v1/sale-prices", json=sale, headers=staff.headers).status_code == 201
    uncached.pricing_rules.get()

    # When a small and a large listing page and a product page are fetched
    with StatementCounter(uncached.db.engine) as small:
        small_page = api.get("/api/v1/products", params={"limit": 2})
    with StatementCounter(uncached.db.engine) as large:
        large_page = api.get("/api/v1/products", params={"limit": 50})
    with StatementCounter(uncached.db.engine) as detail:
        page = api.get(f"/api/v1/products/{made[0].id}")

    # Then prices were applied, the listing costs what it cost without rules whatever its
    # size (the hits carry their offers), and the product page none more either
    assert any(i["applied_rule"] for i in large_page.json()["items"])
    assert page.json()["offers"][0]["applied_rule"]["source"] == "price_list"
    assert (len(small_page.json()["items"]), len(large_page.json()["items"])) == (2, 50)
    assert small.count == large.count == unpriced.count, large.statements
    assert large.count <= by_engine(uncached, sqlite=5, postgresql=4), large.statements
    assert detail.count <= by_engine(uncached, sqlite=6, postgresql=4), detail.statements
