"""Sorting, filtering and faceting by price use the price a guest sees.

A sale or a guest price list moves a product in a price-sorted listing, in and out of a price
range and between price buckets, at once after the staff change and when the sale starts or
ends; group price lists do not. Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container, build
from bazaar.catalog import shelf_store
from bazaar.catalog.model import Product
from bazaar.http.app import create_app
from bazaar.identity.model import Role
from bazaar.kernel.clock import FixedClock
from bazaar.kernel.money import Money
from tests.support.factories import T0, Account, make_account, make_product, test_settings
from tests.support.pricing import created, eur, offer_of

SALE_PRICES = "/api/v1/sale-prices"
PRICE_LISTS = "/api/v1/price-lists"
CATEGORY = "apparel/price-sorted"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def timed(db_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Container]:
    container = build(test_settings(db_url, tmp_path), clock=clock)
    yield container
    container.close()


@pytest.fixture
def client(timed: Container) -> Iterator[TestClient]:
    with TestClient(create_app(timed, run_dispatcher=False)) as client:
        yield client


@pytest.fixture
def operator(timed: Container) -> Account:
    return make_account(timed, Role.OPERATOR)


@pytest.fixture
def shelf(timed: Container, operator: Account) -> dict[str, Product]:
    """Three products at 1000, 2000 and 3000 (no shipping) in one category."""
    return {
        name: make_product(
            timed, operator, title=name, price=Money(amount, "EUR"), category=CATEGORY
        )
        for name, amount in (("cheap", 1000), ("middle", 2000), ("dear", 3000))
    }


def listing(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/products", params={"category": CATEGORY, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def titles(client: TestClient, sort: str = "price_asc", **params: Any) -> list[str]:
    return [item["title"] for item in listing(client, sort=sort, **params)["items"]]


def price_buckets(client: TestClient) -> dict[str, int]:
    facet = listing(client, facets="price")["facets"]["price"]
    return {value["value"]: value["count"] for value in facet}


def test_a_sale_moves_its_product_in_price_order_filters_and_buckets(
    client: TestClient, timed: Container, operator: Account, shelf: dict[str, Product]
) -> None:
    assert titles(client) == ["cheap", "middle", "dear"]
    assert titles(client, price_max=1500) == ["cheap"]

    # When the dear product goes on sale at 500
    sale = {"offer_id": offer_of(timed, shelf["dear"]), "price": eur(500), "label": "Sale"}
    created(client.post(SALE_PRICES, json=sale, headers=operator.headers))

    # Then it comes first by price, matches a low price range and counts in the low bucket,
    # with the price its card shows
    assert titles(client) == ["dear", "cheap", "middle"]
    assert titles(client, "price_desc") == ["middle", "cheap", "dear"]
    assert titles(client, price_max=1500) == ["dear", "cheap"]
    assert titles(client, price_min=2500) == []
    assert price_buckets(client) == {"0-1000": 1, "1000-2500": 2}
    dear = next(i for i in listing(client)["items"] if i["title"] == "dear")
    assert dear["price"] == eur(500)


def test_a_guest_price_list_counts_and_a_group_price_list_does_not(
    client: TestClient, timed: Container, operator: Account, shelf: dict[str, Product]
) -> None:
    # Given the business group's list giving the cheap product 5000
    headers = operator.headers
    created(
        client.post(
            "/api/v1/customer-groups", json={"code": "business", "name": "B2B"}, headers=headers
        )
    )

    def price_list(name: str, product: str, amount: int, groups: list[str] | None) -> str:
        body: dict[str, Any] = {
            "name": name,
            "currency": "EUR",
            "entries": [
                {
                    "offer_id": offer_of(timed, shelf[product]),
                    "tiers": [{"min_quantity": 1, "unit_price": eur(amount)}],
                }
            ],
        }
        if groups is not None:
            body["customer_groups"] = groups
        return str(created(client.post(PRICE_LISTS, json=body, headers=headers))["id"])

    price_list("Business", "cheap", 5000, ["business"])
    assert titles(client) == ["cheap", "middle", "dear"]

    # When a list for everyone prices the middle product at 3500 (above its base price)
    everyone = price_list("Everyone", "middle", 3500, None)

    # Then guests' order follows it, the group's does not reach them
    assert titles(client) == ["cheap", "dear", "middle"]

    # When the list is deleted, then the order is back to base prices
    deleted = client.delete(f"{PRICE_LISTS}/{everyone}", headers=headers)
    assert deleted.status_code == 204, deleted.text
    assert titles(client) == ["cheap", "middle", "dear"]
    with timed.db.read() as conn:
        assert list(shelf_store.all_marks(conn)) == []


def test_a_sale_enters_and_leaves_the_price_order_with_its_window(
    client: TestClient,
    timed: Container,
    operator: Account,
    shelf: dict[str, Product],
    clock: FixedClock,
) -> None:
    # Given a sale on the dear product from 60 to 120 seconds from now
    sale = {
        "offer_id": offer_of(timed, shelf["dear"]),
        "price": eur(900),
        "starts_at": (T0 + timedelta(seconds=60)).isoformat(),
        "ends_at": (T0 + timedelta(seconds=120)).isoformat(),
    }
    created(client.post(SALE_PRICES, json=sale, headers=operator.headers))
    assert titles(client) == ["cheap", "middle", "dear"]

    # When it starts and workers sync, then the product comes first
    clock.advance(60)
    assert timed.shelf_index.sync() == 1
    assert titles(client) == ["dear", "cheap", "middle"]
    # and a sync with nothing new reindexes nothing
    assert timed.shelf_index.sync() == 0

    # When it ends, then the product is back at its base price
    clock.advance(60)
    assert timed.shelf_index.sync() == 1
    assert titles(client) == ["cheap", "middle", "dear"]


def test_an_offers_own_price_change_keeps_its_sale_in_the_index(
    client: TestClient, timed: Container, operator: Account, shelf: dict[str, Product]
) -> None:
    # Given a sale at 1500 on the dear product's offer
    offer_id = offer_of(timed, shelf["dear"])
    sale = {"offer_id": offer_id, "price": eur(1500), "label": "Sale"}
    created(client.post(SALE_PRICES, json=sale, headers=operator.headers))
    assert titles(client) == ["cheap", "dear", "middle"]

    # When its base price changes above and then below the sale price
    def set_price(amount: int) -> None:
        patched = client.patch(
            f"/api/v1/offers/{offer_id}", json={"price": eur(amount)}, headers=operator.headers
        )
        assert patched.status_code == 200, patched.text

    set_price(4000)
    assert titles(client) == ["cheap", "dear", "middle"]  # still the sale price
    set_price(800)
    assert titles(client) == ["dear", "cheap", "middle"]  # the base price, now lower


def test_a_sync_cut_off_half_way_finishes_on_the_next_run(
    client: TestClient, timed: Container, operator: Account, shelf: dict[str, Product]
) -> None:
    # Given two sales saved while no sync ran
    timed.pricing_admin._on_rules_changed = lambda: None
    for name, amount in (("middle", 100), ("dear", 200)):
        sale = {"offer_id": offer_of(timed, shelf[name]), "price": eur(amount), "label": "Sale"}
        created(client.post(SALE_PRICES, json=sale, headers=operator.headers))
    assert titles(client) == ["cheap", "middle", "dear"]

    # When a sync in batches of one offer is killed after its first batch
    index = timed.shelf_index
    index._batch_size = 1
    real_apply = index._apply
    calls = 0

    def killed_after_one(marks: Any) -> list[str]:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("worker killed")
        return real_apply(marks)

    index._apply = killed_after_one  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        index.sync()
    assert titles(client) == ["middle", "cheap", "dear"]  # the first batch is in

    # Then the next sync does the rest, and only the rest
    index._apply = real_apply  # type: ignore[method-assign]
    assert index.sync() == 1
    assert titles(client) == ["middle", "dear", "cheap"]
    with timed.db.read() as conn:
        assert len(shelf_store.all_marks(conn)) == 2
