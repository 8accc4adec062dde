"""Effective prices on product and listing pages, and how their caching stays correct.

Sale prices, group price lists and price experiments reach the product page, its offers and
listing cards; group and experiment pages never reach anyone else; a rule change or a sale
starting makes cached pages unreachable. Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container, build
from bazaar.catalog.model import Product
from bazaar.http.app import create_app
from bazaar.identity.model import Role
from bazaar.infra.cache import MemoryCache, NamespacedCache, RedisCache
from bazaar.kernel.clock import FixedClock
from bazaar.kernel.money import Money
from bazaar.pricing import admin_store, store
from tests.support.assertions import StatementCounter
from tests.support.factories import T0, Account, make_account, make_product, test_settings
from tests.support.pricing import created, eur, offer_of

SALE_PRICES = "/api/v1/sale-prices"
PRICE_LISTS = "/api/v1/price-lists"
GROUPS = "/api/v1/customer-groups"


def card(client: TestClient, product_id: str, **headers: str) -> dict[str, Any]:
    items = client.get("/api/v1/products", headers=headers).json()["items"]
    found: dict[str, Any] = next(i for i in items if i["id"] == product_id)
    return found


def business_prices(client: TestClient, operator: Account, offer_id: str, amount: int) -> None:
    """A customer group ``business`` and a price list giving it ``amount`` for the offer."""
    headers = operator.headers
    created(client.post(GROUPS, json={"code": "business", "name": "B2B"}, headers=headers))
    tiers = [{"min_quantity": 1, "unit_price": eur(amount)}]
    body = {
        "name": "Business",
        "currency": "EUR",
        "customer_groups": ["business"],
        "entries": [{"offer_id": offer_id, "tiers": tiers}],
    }
    created(client.post(PRICE_LISTS, json=body, headers=headers))


def join_group(client: TestClient, operator: Account, customer: Account, group: str) -> None:
    path = f"/api/v1/admin/customers/{customer.user.id}/group"
    created(client.put(path, json={"group": group}, headers=operator.headers))


@pytest.fixture
def tee(container: Container, operator: Account) -> Product:
    return make_product(container, operator, price=Money(1000, "EUR"))


def test_a_sale_shows_on_the_product_page_its_offers_and_its_listing_card(
    client: TestClient, container: Container, operator: Account, tee: Product
) -> None:
    # Given a sale running now on the tee's only offer
    offer_id = offer_of(container, tee)
    now = container.clock.now()
    sale = {
        "offer_id": offer_id,
        "price": eur(799),
        "starts_at": (now - timedelta(days=1)).isoformat(),
        "ends_at": (now + timedelta(days=1)).isoformat(),
        "label": "Summer sale",
    }
    created(client.post(SALE_PRICES, json=sale, headers=operator.headers))

    # When a guest opens the product page, its offers and the listing
    page = client.get(f"/api/v1/products/{tee.id}").json()
    offers = client.get(f"/api/v1/products/{tee.id}/offers").json()
    listed = card(client, tee.id)

    # Then every one shows the sale price with the base price and the rule beside it
    [offer] = page["offers"]
    assert (offer["price"], offer["base_price"], offer["compare_at_price"]) == (
        eur(799),
        eur(1000),
        eur(1000),
    )
    assert offer["applied_rule"]["source"] == "sale"
    assert offer["applied_rule"]["explanation"].startswith("Summer sale until ")
    assert offer["landed_price"] == eur(799 + offer["shipping"]["amount"])
    assert page["buy_box"]["landed_price"] == offer["landed_price"]
    assert page["price"] == offer["landed_price"]
    assert offers["items"] == page["offers"]
    assert offers["buy_box"] == page["buy_box"]
    assert listed["price"] == offer["landed_price"]
    assert listed["applied_rule"]["source"] == "sale"
    assert listed["compare_at_price"]["amount"] == 1000 + offer["shipping"]["amount"]


def test_the_buy_box_goes_to_the_offer_cheapest_for_the_caller(
    client: TestClient, container: Container, operator: Account, customer: Account
) -> None:
    # Given two offers of one variant: the retailer's at 1000, a seller's at 950
    seller = "sel_01jbzq3k8x4m2n5p7r9t1v3w5y"
    container.taxonomy.set_fulfiller(operator.principal, seller, "Seller", 40)
    product = make_product(container, operator, price=Money(1000, "EUR"))
    sku = product.variants[0].sku
    body = {"variant": sku, "price": eur(950), "stock": 5, "fulfiller_id": seller}
    created(
        client.post(f"/api/v1/products/{product.id}/offers", json=body, headers=operator.headers)
    )
    view = container.catalog.product_view(product.id, staff=True)
    retailer_offer = next(o.id for o in view.offers if o.fulfiller_id == "retailer")
    # and business customers pay the retailer 900
    business_prices(client, operator, retailer_offer, 900)
    join_group(client, operator, customer, "business")

    # When a guest and a business customer open the page
    guest = client.get(f"/api/v1/products/{product.id}").json()
    business = client.get(f"/api/v1/products/{product.id}", headers=customer.headers).json()

    # Then each gets the buy box of the offer cheapest for them
    assert guest["buy_box"]["offer_id"] != retailer_offer
    assert business["buy_box"]["offer_id"] == retailer_offer
    assert business["variants"][0]["buy_box"]["offer_id"] == retailer_offer


def test_a_group_price_never_reaches_a_guest_or_another_customer(
    client: TestClient,
    container: Container,
    operator: Account,
    customer: Account,
    tee: Product,
) -> None:
    # Given a business price of 800 for the tee, and a business customer
    business_prices(client, operator, offer_of(container, tee), 800)
    join_group(client, operator, customer, "business")
    other = make_account(container, Role.CUSTOMER)
    path = f"/api/v1/products/{tee.id}"

    # When the business customer loads the page and the listing first, twice
    for _ in range(2):
        mine = client.get(path, headers=customer.headers)
        listing = client.get("/api/v1/products", headers=customer.headers)
    # Then they see their price, in responses no shared cache may keep
    assert mine.json()["offers"][0]["price"] == eur(800)
    assert mine.json()["offers"][0]["applied_rule"]["source"] == "price_list"
    assert mine.headers["cache-control"] == "private, no-cache"
    assert "Authorization" in mine.headers["vary"]
    assert listing.headers["cache-control"] == "private, no-cache"
    assert card(client, tee.id, **customer.headers)["price"]["amount"] < 1000

    # And a guest and a customer in no group, asking the same URLs, get the base price, public
    for headers in ({}, other.headers):
        theirs = client.get(path, headers=headers)
        assert theirs.json()["offers"][0]["price"] == eur(1000)
        assert theirs.json()["offers"][0]["applied_rule"] is None
        assert theirs.headers["cache-control"].startswith("public")
        assert card(client, tee.id, **headers)["applied_rule"] is None
    # And the guests' page is served from the cache without touching the database
    with StatementCounter(container.db.engine) as sql:
        again = client.get(path)
    assert sql.count == 0
    assert again.json()["offers"][0]["price"] == eur(1000)


def test_a_rule_change_makes_every_cached_price_unreachable(
    client: TestClient, container: Container, operator: Account, tee: Product
) -> None:
    # Given a product page and a listing cached at the base price
    path = f"/api/v1/products/{tee.id}"
    before = client.get(path)
    client.get("/api/v1/products")
    with StatementCounter(container.db.engine) as sql:
        assert client.get(path).content == before.content
    assert sql.count == 0
    version = container.pricing_rules.version

    # When an operator puts the tee on sale (the rules version moves)
    now = container.clock.now()
    sale = {"offer_id": offer_of(container, tee), "price": eur(500)}
    sale["starts_at"] = (now - timedelta(hours=1)).isoformat()
    created(client.post(SALE_PRICES, json=sale, headers=operator.headers))

    # Then the next page and listing show the sale price, with a new ETag
    after = client.get(path)
    assert container.pricing_rules.version != version
    assert after.json()["offers"][0]["price"] == eur(500)
    assert after.headers["etag"] != before.headers["etag"]
    assert card(client, tee.id)["applied_rule"]["source"] == "sale"


def test_a_rule_changed_by_another_process_reaches_pages_on_refresh(
    client: TestClient, container: Container, operator: Account, tee: Product
) -> None:
    # Given a cached page, and a sale another process saves straight to the rules table
    path = f"/api/v1/products/{tee.id}"
    assert client.get(path).json()["offers"][0]["price"] == eur(1000)
    definition = {"offer_id": offer_of(container, tee), "price": eur(600), "label": "Flash"}
    with container.db.write() as conn:
        admin_store.insert_rule(conn, "sal_elsewhere", "sale_price", definition, T0)
        store.bump_rules_version(conn)
    # When this process has not refreshed its rules yet, then the cached page stands
    assert client.get(path).json()["offers"][0]["price"] == eur(1000)

    # When it refreshes, as its periodic job does, then the page is priced anew
    assert container.pricing_rules.refresh_if_stale() is True
    assert client.get(path).json()["offers"][0]["price"] == eur(600)


def test_a_customer_in_a_price_experiment_gets_a_page_of_their_own(
    client: TestClient,
    container: Container,
    operator: Account,
    customer: Account,
    tee: Product,
) -> None:
    # Given a running experiment that prices the tee 10 % lower for everyone assigned
    body = {
        "name": "Lower",
        "variants": [
            {"id": "control", "weight": 0},
            {"id": "lower", "price_change_percent": "-10"},
        ],
        "product_ids": [tee.id],
    }
    experiment = created(client.post("/api/v1/experiments", json=body, headers=operator.headers))
    created(client.post(f"/api/v1/experiments/{experiment['id']}/start", headers=operator.headers))
    path = f"/api/v1/products/{tee.id}"

    # When the customer opens the page twice
    first = client.get(path, headers=customer.headers)
    second = client.get(path, headers=customer.headers, params={"x": "1"})

    # Then they see the variant's price on a private page, and are exposed once
    assert first.json()["offers"][0]["price"] == eur(900)
    assert first.json()["offers"][0]["applied_rule"]["rule_id"] == experiment["id"]
    assert first.headers["cache-control"] == "private, no-cache"
    assert second.json()["offers"][0]["price"] == eur(900)
    with container.db.read() as conn:
        exposed = conn.execute(store.experiment_exposures.select()).all()
    assert [(e.unit_id, e.variant_id) for e in exposed] == [(customer.user.id, "lower")]
    # And a guest, whom experiments do not assign, sees the control price, publicly
    guest = client.get(path)
    assert guest.json()["offers"][0]["price"] == eur(1000)
    assert guest.headers["cache-control"].startswith("public")


# --- time-bounded prices -------------------------------------------------------------------------


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def timed(db_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Container]:
    """A container whose page cache and pricing both follow ``clock``."""
    container = build(test_settings(db_url, tmp_path), clock=clock)
    container.pages = NamespacedCache(
        MemoryCache(monotonic=lambda: (clock.now() - T0).total_seconds())
    )
    yield container
    container.close()


def test_a_cached_page_does_not_outlive_the_start_of_a_sale(
    timed: Container, clock: FixedClock
) -> None:
    with TestClient(create_app(timed, run_dispatcher=False)) as client:
        # Given a sale starting in 20 seconds, and a page cached now at the base price
        operator = make_account(timed, Role.OPERATOR)
        tee = make_product(timed, operator, price=Money(1000, "EUR"))
        sale = {
            "offer_id": offer_of(timed, tee),
            "price": eur(700),
            "starts_at": (T0 + timedelta(seconds=20)).isoformat(),
        }
        created(client.post(SALE_PRICES, json=sale, headers=operator.headers))
        path = f"/api/v1/products/{tee.id}"
        before = client.get(path)
        assert before.json()["offers"][0]["price"] == eur(1000)
        assert before.headers["cache-control"] == "public, max-age=20"

        # When 19 seconds pass, then the cached page is still served, answered at the edge,
        # and no browser or CDN is told to keep it past the start of the sale
        clock.advance(19)
        with StatementCounter(timed.db.engine) as sql:
            hit = client.get(path)
        assert hit.content == before.content
        assert sql.count == 0
        assert hit.headers["cache-control"] == "public, max-age=1"
        revalidated = client.get(path, headers={"If-None-Match": before.headers["etag"]})
        assert revalidated.status_code == 304
        assert revalidated.headers["cache-control"] == "public, max-age=1"

        # When the sale starts, then the page shows it: the cached copy expired with it
        clock.advance(1)
        assert client.get(path).json()["offers"][0]["price"] == eur(700)


def test_a_listing_card_follows_its_offers_price_and_stock(
    client: TestClient, container: Container, operator: Account, tee: Product
) -> None:
    # Given a sale at 799 on the tee's offer (base 1000), and a seller's offer at 950
    offer_id = offer_of(container, tee)
    sale = {"offer_id": offer_id, "price": eur(799), "label": "Sale"}
    created(client.post(SALE_PRICES, json=sale, headers=operator.headers))
    seller = "sel_01jbzq3k8x4m2n5p7r9t1v3w5y"
    container.taxonomy.set_fulfiller(operator.principal, seller, "Seller", 40)
    body = {"variant": tee.variants[0].sku, "price": eur(950), "stock": 5, "fulfiller_id": seller}
    seller_offer = created(
        client.post(f"/api/v1/products/{tee.id}/offers", json=body, headers=operator.headers)
    )
    shipping = {o.id: o.shipping.amount for o in container.catalog.product_view(tee.id).offers}
    assert card(client, tee.id)["price"] == eur(799 + shipping[offer_id])

    # When the base price drops below the sale price
    patched = client.patch(
        f"/api/v1/offers/{offer_id}", json={"price": eur(700)}, headers=operator.headers
    )
    assert patched.status_code == 200, patched.text
    cheaper = card(client, tee.id)
    # and then the offer runs out of stock
    patched = client.patch(
        f"/api/v1/offers/{offer_id}", json={"stock": 0}, headers=operator.headers
    )
    assert patched.status_code == 200, patched.text
    sold_out = card(client, tee.id)

    # Then the card shows the base price with no rule, then the seller's offer in stock
    assert (cheaper["price"], cheaper["applied_rule"]) == (eur(700 + shipping[offer_id]), None)
    assert sold_out["price"] == eur(950 + shipping[seller_offer["id"]])
    assert sold_out["applied_rule"] is None


@pytest.fixture
def timed_redis(
    db_url: str, tmp_path: Path, clock: FixedClock, redis_url: str
) -> Iterator[Container]:
    """As ``timed``, with the page cache in Redis: the edge leaves hits to the routes."""
    container = build(test_settings(db_url, tmp_path), clock=clock)
    client = redis.Redis.from_url(redis_url)
    prefix = f"bazaar:test:{uuid.uuid4().hex}:"
    container.pages = NamespacedCache(RedisCache(client, prefix))
    yield container
    container.close()
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_a_page_cached_in_redis_keeps_its_capped_max_age_on_hits(
    timed_redis: Container, clock: FixedClock
) -> None:
    with TestClient(create_app(timed_redis, run_dispatcher=False)) as client:
        # Given a sale ending in 25 seconds, and its page cached in Redis now
        operator = make_account(timed_redis, Role.OPERATOR)
        tee = make_product(timed_redis, operator, price=Money(1000, "EUR"))
        sale = {
            "offer_id": offer_of(timed_redis, tee),
            "price": eur(700),
            "starts_at": T0.isoformat(),
            "ends_at": (T0 + timedelta(seconds=25)).isoformat(),
        }
        created(client.post(SALE_PRICES, json=sale, headers=operator.headers))
        path = f"/api/v1/products/{tee.id}"
        first = client.get(path)
        assert first.headers["cache-control"] == "public, max-age=25"

        # When the route answers from the cache 20 seconds later
        clock.advance(20)
        with StatementCounter(timed_redis.db.engine) as sql:
            hit = client.get(path)

        # Then it is the cached page, sent with what is left of the sale as its max-age
        assert sql.count == 0
        assert hit.content == first.content
        assert hit.json()["offers"][0]["price"] == eur(700)
        assert hit.headers["cache-control"] == "public, max-age=5"
