"""The catalog over HTTP: categories with attributes, brands, products, variants, offers."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container
from bazaar.identity.model import Role
from tests.support.assertions import assert_problem
from tests.support.factories import Account, make_account

CATEGORIES = "/api/v1/categories"
PRODUCTS = "/api/v1/products"


def post(client: TestClient, who: Account, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=body, headers=who.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def fields(problem: dict[str, Any]) -> list[str]:
    return [e["field"] for e in problem.get("errors", [])]


@pytest.fixture
def shoes(client: TestClient, operator: Account) -> dict[str, Any]:
    """Footwear > Running shoes, declaring colour (required enum), waterproof and weight."""
    footwear = post(
        client,
        operator,
        CATEGORIES,
        {
            "name": "Footwear",
            "attributes": [
                {"name": "color", "type": "enum", "required": True, "values": ["black", "red"]}
            ],
        },
    )
    return post(
        client,
        operator,
        CATEGORIES,
        {
            "name": "Running shoes",
            "parent": footwear["id"],
            "attributes": [
                {"name": "waterproof", "type": "boolean"},
                {"name": "weight", "type": "number", "unit": "g"},
            ],
        },
    )


def shoe(sku: str = "RUN-1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Trail runner",
        "category": "footwear/running-shoes",
        "attributes": {"color": "red", "waterproof": True, "weight": 280},
        "gtin": "4006381333931",
        "variants": [
            {"sku": f"{sku}-42", "options": {"size": "42"}},
            {"sku": f"{sku}-43", "options": {"size": "43"}},
        ],
        "offers": [
            {"variant": f"{sku}-42", "price": {"amount": 8900, "currency": "EUR"}, "stock": 4},
            {"variant": f"{sku}-43", "price": {"amount": 8900, "currency": "EUR"}, "stock": 0},
        ],
    }
    body.update(overrides)
    return body


def test_categories_form_a_tree_with_inherited_attributes(
    client: TestClient, shoes: dict[str, Any]
) -> None:
    assert shoes["path"] == "footwear/running-shoes"
    assert shoes["depth"] == 1
    tree = client.get(CATEGORIES).json()["items"]
    assert [c["path"] for c in tree] == ["footwear", "footwear/running-shoes"]
    assert tree[1]["parent_id"] == tree[0]["id"]


def test_a_product_is_created_and_shown_with_offers_and_buy_box(
    client: TestClient, operator: Account, shoes: dict[str, Any]
) -> None:
    # given a brand and a product with two sizes, only one of them in stock
    brand = post(client, operator, "/api/v1/brands", {"name": "Acme Outdoor"})
    created = post(client, operator, PRODUCTS, shoe(brand="acme-outdoor"))
    assert created["brand_id"] == brand["id"]
    assert created["attributes"] == {"color": "red", "waterproof": True, "weight": 280}

    # when a shopper opens the product page
    page = client.get(f"{PRODUCTS}/{created['id']}")

    # then it shows the category, brand, every offer and the winning one, cacheable
    assert page.status_code == 200
    assert page.headers["cache-control"].startswith("public")
    body = page.json()
    assert body["category"]["path"] == "footwear/running-shoes"
    assert body["brand"]["name"] == "Acme Outdoor"
    assert body["price"] == {"amount": 8900, "currency": "EUR"}
    assert body["in_stock"] is True
    assert len(body["offers"]) == 2
    assert body["buy_box"]["variant_id"] == body["variants"][0]["id"]
    assert body["buy_box"]["reason"] == "only_offer"
    assert body["variants"][1]["buy_box"] is None  # size 43 has no stock
    offers = client.get(f"{PRODUCTS}/{created['id']}/offers").json()
    assert offers["buy_box"] == body["buy_box"]


def test_competing_offers_name_the_winner_and_why(
    client: TestClient, operator: Account, shoes: dict[str, Any]
) -> None:
    # given a retailer offer and a seller offering the same size cheaper, delivered
    product = post(client, operator, PRODUCTS, shoe())
    seller = client.put(
        "/api/v1/fulfillers/sel_01jbzq3k8x4m2n5p7r9t1v3w5y",
        json={"name": "Trail Shop", "rating": 4.8},
        headers=operator.headers,
    )
    assert seller.status_code == 200, seller.text
    offer = post(
        client,
        operator,
        f"{PRODUCTS}/{product['id']}/offers",
        {
            "variant": "RUN-1-42",
            "fulfiller_id": "sel_01jbzq3k8x4m2n5p7r9t1v3w5y",
            "price": {"amount": 8000, "currency": "EUR"},
            "shipping": {"amount": 490, "currency": "EUR"},
            "stock": 2,
        },
    )
    assert offer["landed_price"] == {"amount": 8490, "currency": "EUR"}
    twice = client.post(
        f"{PRODUCTS}/{product['id']}/offers",
        json={"variant": "RUN-1-42", "price": {"amount": 1, "currency": "EUR"}},
        headers=operator.headers,
    )
    assert fields(assert_problem(twice, 409)) == ["fulfiller_id"]  # the retailer offers it

    # when the page is read again
    body = client.get(f"{PRODUCTS}/{product['id']}").json()

    # then the seller's lower landed price wins
    assert body["buy_box"]["offer_id"] == offer["id"]
    assert body["buy_box"]["reason"] == "lowest_landed_price"
    assert {o["fulfiller"]["name"] for o in body["offers"]} == {"Retailer", "Trail Shop"}

    # and when the seller runs out, the retailer wins again
    emptied = client.patch(
        f"/api/v1/offers/{offer['id']}", json={"stock": 0}, headers=operator.headers
    )
    assert emptied.status_code == 200, emptied.text
    body = client.get(f"{PRODUCTS}/{product['id']}").json()
    assert body["buy_box"]["reason"] == "only_offer"
    assert body["buy_box"]["offer_id"] != offer["id"]


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"category": "nowhere/at-all"}, "category", "unknown_category"),
        ({"attributes": {"color": "green"}}, "attributes.color", "invalid_value"),
        ({"attributes": {"color": "red", "weight": "heavy"}}, "attributes.weight", "invalid_value"),
        ({"attributes": {"waterproof": True}}, "attributes.color", "required"),
        ({"attributes": {"color": "red", "volume": 3}}, "attributes.volume", "unknown_attribute"),
        ({"gtin": "4006381333932"}, "gtin", "invalid_gtin_check_digit"),
        ({"brand": "no-such-brand"}, "brand", "unknown_brand"),
        (
            {"offers": [{"variant": "RUN-1-42", "price": {"amount": 100, "currency": "USD"}}]},
            "offers[0].price.currency",
            "currency",
        ),
        (
            {"offers": [{"variant": "NOPE", "price": {"amount": 100, "currency": "EUR"}}]},
            "offers[0].variant",
            "invalid",
        ),
        (
            {"variants": [{"sku": "A-1"}, {"sku": "A-1"}]},
            "variants[1].sku",
            "duplicate",
        ),
    ],
)
def test_bad_products_are_refused_naming_the_field_and_nothing_is_written(
    client: TestClient,
    operator: Account,
    shoes: dict[str, Any],
    overrides: dict[str, Any],
    field: str,
    code: str,
) -> None:
    body = shoe(**overrides)
    if "variants" in overrides:
        body["offers"] = []
    problem = assert_problem(client.post(PRODUCTS, json=body, headers=operator.headers), 422)
    assert (field, code) in [(e["field"], e["code"]) for e in problem["errors"]]
    assert client.get(PRODUCTS).json()["total"] == 0


def test_a_sku_or_gtin_in_use_is_a_conflict(
    client: TestClient, operator: Account, shoes: dict[str, Any]
) -> None:
    post(client, operator, PRODUCTS, shoe())
    again = client.post(PRODUCTS, json=shoe(gtin=None), headers=operator.headers)
    assert fields(assert_problem(again, 409)) == ["variants[0].sku", "variants[1].sku"]
    body = shoe("OTHER")
    body["variants"][0]["gtin"] = "96385074"
    post(client, operator, PRODUCTS, body)
    body = shoe("THIRD")
    body["variants"][0]["gtin"] = "96385074"
    clash = client.post(PRODUCTS, json=body, headers=operator.headers)
    assert fields(assert_problem(clash, 409)) == ["variants[0].gtin"]


def test_updates_are_validated_and_archiving_hides_the_product(
    client: TestClient, operator: Account, shoes: dict[str, Any]
) -> None:
    product = post(client, operator, PRODUCTS, shoe())
    path = f"{PRODUCTS}/{product['id']}"
    bad = client.patch(path, json={"attributes": {"color": "plaid"}}, headers=operator.headers)
    assert fields(assert_problem(bad, 422)) == ["attributes.color"]
    renamed = client.patch(path, json={"title": "  Trail   runner v2 "}, headers=operator.headers)
    assert renamed.status_code == 200
    assert renamed.json()["title"] == "Trail runner v2"
    cleared = client.patch(path, json={"gtin": None}, headers=operator.headers)
    assert cleared.json()["gtin"] is None

    archived = client.delete(path, headers=operator.headers)
    assert archived.status_code == 200
    assert archived.json()["status"] == "archived"
    assert_problem(client.get(path), 404)
    staff_view = client.get(path, headers=operator.headers)
    assert staff_view.status_code == 200
    assert staff_view.headers["cache-control"] == "no-store"
    assert client.get(PRODUCTS).json()["total"] == 0


def test_variants_can_be_added_and_changed(
    client: TestClient, operator: Account, shoes: dict[str, Any]
) -> None:
    product = post(client, operator, PRODUCTS, shoe())
    variant = post(
        client,
        operator,
        f"{PRODUCTS}/{product['id']}/variants",
        {"sku": "RUN-1-44", "options": {"size": "44"}, "weight_g": 300},
    )
    duplicate = client.post(
        f"{PRODUCTS}/{product['id']}/variants", json={"sku": "RUN-1-44"}, headers=operator.headers
    )
    assert fields(assert_problem(duplicate, 409)) == ["sku"]
    changed = client.patch(
        f"{PRODUCTS}/{product['id']}/variants/{variant['id']}",
        json={"dimensions": {"length_mm": 300, "width_mm": 110, "height_mm": 120}},
        headers=operator.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["dimensions"]["length_mm"] == 300
    page = client.get(f"{PRODUCTS}/{product['id']}").json()
    assert [v["sku"] for v in page["variants"]] == ["RUN-1-42", "RUN-1-43", "RUN-1-44"]


def test_writes_are_for_operators_only(
    client: TestClient, container: Container, shoes: dict[str, Any]
) -> None:
    shopper = make_account(container, Role.CUSTOMER)
    assert_problem(client.post(PRODUCTS, json=shoe(), headers=shopper.headers), 403)
    assert_problem(client.post(CATEGORIES, json={"name": "X"}, headers=shopper.headers), 403)
    assert_problem(client.post(PRODUCTS, json=shoe()), 401)


def test_every_change_is_an_event(
    client: TestClient, operator: Account, shoes: dict[str, Any]
) -> None:
    product = post(client, operator, PRODUCTS, shoe())
    client.patch(f"{PRODUCTS}/{product['id']}", json={"title": "New"}, headers=operator.headers)
    client.delete(f"{PRODUCTS}/{product['id']}", headers=operator.headers)
    events = client.get(
        "/api/v1/admin/events", params={"subject_id": product["id"]}, headers=operator.headers
    ).json()["items"]
    assert [e["type"] for e in reversed(events)] == [
        "ProductCreated",  # with its two offers
        "ProductUpdated",
        "ProductArchived",
    ]
    created = events[-1]["payload"]
    assert [o["variant_id"] for o in created["offers"]] == [v["id"] for v in product["variants"]]


def test_category_problems_name_their_fields(client: TestClient, operator: Account) -> None:
    bad = client.post(
        CATEGORIES,
        json={
            "name": "Bags",
            "attributes": [
                {"name": "size", "type": "enum"},
                {"name": "fit", "type": "text", "unit": "cm"},
            ],
        },
        headers=operator.headers,
    )
    assert fields(assert_problem(bad, 422)) == ["attributes[0].values", "attributes[1].unit"]
    orphan = client.post(
        CATEGORIES, json={"name": "Lost", "parent": "x/y"}, headers=operator.headers
    )
    assert fields(assert_problem(orphan, 422)) == ["parent"]
    post(client, operator, CATEGORIES, {"name": "Bags"})
    again = client.post(CATEGORIES, json={"name": "Bags"}, headers=operator.headers)
    assert fields(assert_problem(again, 409)) == ["slug"]
