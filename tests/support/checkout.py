"""Helpers for checkout tests: a stocked product, a guest with a cart, an order body."""

from __future__ import annotations

import itertools
from typing import Any

from fastapi.testclient import TestClient

from bazaar.bootstrap import Container
from bazaar.catalog.drafts import OfferDraft
from bazaar.catalog.model import VariantDraft
from bazaar.kernel.money import Money
from tests.support.factories import Account, make_product

_skus = itertools.count(1)

ADDRESS = {
    "name": "Anna de Vries",
    "line1": "Keizersgracht 1",
    "postcode": "1015 CJ",
    "city": "Amsterdam",
    "country": "NL",
}


def stocked_offer(
    container: Container, operator: Account, *, stock: int = 10, price: int = 2000
) -> tuple[str, str]:
    """(offer id, sku) of an active retailer product whose stock inventory holds."""
    sku = f"CHK-{next(_skus):05d}"
    product = make_product(
        container,
        operator,
        variants=[VariantDraft(sku)],
        offers=[OfferDraft(sku, Money(price, "EUR"), stock=stock)],
    )
    container.dispatcher.drain()  # inventory takes the offer's stock into a warehouse
    offer = container.catalog.product_view(product.id, staff=True).offers[0]
    return offer.id, sku


def guest_cart(client: TestClient, offer_id: str, quantity: int = 1) -> tuple[str, dict[str, str]]:
    created = client.post("/api/v1/carts", json={"country": "NL"})
    assert created.status_code == 201, created.text
    cart = created.json()
    headers = {"Cart-Token": cart["cart_token"]}
    added = client.post(
        f"/api/v1/carts/{cart['id']}/items",
        json={"offer_id": offer_id, "quantity": quantity},
        headers=headers,
    )
    assert added.status_code in (200, 201), added.text
    return cart["id"], headers


def order_body(cart_id: str, token: str = "tok_success", **overrides: Any) -> dict[str, Any]:
    return {
        "cart_id": cart_id,
        "email": "anna@example.com",
        "shipping_address": ADDRESS,
        "payment": {"token": token},
        **overrides,
    }


def stock_of(container: Container, sku: str) -> tuple[int, int, int, int]:
    """(on hand, reserved, allocated, available) summed over warehouses."""
    levels = [v.level for v in container.inventory.levels([sku])]
    return (
        sum(x.on_hand for x in levels),
        sum(x.reserved for x in levels),
        sum(x.allocated for x in levels),
        sum(x.available for x in levels),
    )
