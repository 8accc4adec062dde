"""Demo orders: the demo shopper buys from the sellers, so they have orders to fulfil.

The orders go through the public HTTP API in-process (cart, items, checkout with the test
gateway's ``tok_success`` token), exactly as a shopper's would: stock is reserved, the
payment authorized and captured, and once the dispatcher runs each seller's part is routed
to it as a fulfillment order awaiting acceptance. Loading the demo again places nothing when
the shopper already has orders.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from starlette.testclient import TestClient

from bazaar.bootstrap import Container
from bazaar.catalog import store as catalog_store

DEMO_ADDRESS = {
    "name": "Sam Shopper",
    "line1": "Keizersgracht 100",
    "postcode": "1015 AA",
    "city": "Amsterdam",
    "country": "NL",
}


@dataclass(frozen=True)
class DemoBasket:
    """What one demo order buys: ``quantity`` of the offer ``fulfiller`` has for ``sku``."""

    sku: str
    fulfiller: str
    quantity: int = 1


def place_demo_orders(
    container: Container, shopper: tuple[str, str], baskets: Sequence[Sequence[DemoBasket]]
) -> int:
    """Place one paid order per basket as ``shopper``; none if the shopper has orders already.

    Returns how many orders were placed. A basket naming an offer that does not exist (the
    demo catalog was changed) is skipped rather than failing the whole demo.
    """
    from bazaar.http.app import create_app  # the HTTP layer sits above the demo loader

    with TestClient(create_app(container, run_dispatcher=False)) as client:
        signed_in = client.post(
            "/api/v1/auth/token", json={"email": shopper[0], "password": shopper[1]}
        )
        signed_in.raise_for_status()
        auth = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
        mine = client.get("/api/v1/orders", headers=auth)
        mine.raise_for_status()
        if mine.json()["items"]:
            return 0
        placed = 0
        for basket in baskets:
            offers = [_offer_id(container, line) for line in basket]
            if any(offer is None for offer in offers):
                continue
            cart = client.post("/api/v1/carts", json={"country": "NL"}, headers=auth)
            cart.raise_for_status()
            cart_id = cart.json()["id"]
            for offer_id, line in zip(offers, basket, strict=True):
                client.post(
                    f"/api/v1/carts/{cart_id}/items",
                    json={"offer_id": offer_id, "quantity": line.quantity},
                    headers=auth,
                ).raise_for_status()
            order = client.post(
                "/api/v1/orders",
                json={
                    "cart_id": cart_id,
                    "email": shopper[0],
                    "shipping_address": DEMO_ADDRESS,
                    "payment": {"token": "tok_success"},
                },
                headers={**auth, "Idempotency-Key": str(uuid.uuid4())},
            )
            order.raise_for_status()
            placed += 1
        return placed


def _offer_id(container: Container, line: DemoBasket) -> str | None:
    offers, variants = catalog_store.offers, catalog_store.variants
    query = (
        sa.select(offers.c.id)
        .join(variants, variants.c.id == offers.c.variant_id)
        .where(variants.c.sku == line.sku, offers.c.fulfiller_id == line.fulfiller)
    )
    with container.db.read() as conn:
        return conn.scalar(query)
