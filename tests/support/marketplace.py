"""Helpers for ledger tests: seller offers, multi-seller orders, delivery, returns, fees."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from fastapi.testclient import TestClient

from bazaar.bootstrap import Container
from bazaar.catalog.drafts import OfferDraft
from bazaar.catalog.model import VariantDraft
from bazaar.fees.ledger import Account, AccountKind, seller_payable
from bazaar.kernel.ids import new_id
from bazaar.kernel.money import Money
from tests.support.checkout import order_body
from tests.support.factories import Account as UserAccount
from tests.support.factories import make_product

_skus = itertools.count(1)


def new_seller(container: Container, operator: UserAccount) -> str:
    """A seller id registered as a fulfiller (sellers fulfil their own offers)."""
    seller_id = new_id("sel")
    container.taxonomy.set_fulfiller(operator.principal, seller_id, f"Seller {seller_id}", None)
    return seller_id


def offer(
    container: Container,
    operator: UserAccount,
    *,
    fulfiller: str = "retailer",
    price: int = 2000,
    stock: int = 10,
    category: str = "home/mugs",
) -> str:
    """The id of an active offer of ``fulfiller`` whose stock inventory holds."""
    sku = f"LDG-{next(_skus):05d}"
    product = make_product(
        container,
        operator,
        category=category,
        variants=[VariantDraft(sku)],
        offers=[OfferDraft(sku, Money(price, "EUR"), stock=stock, fulfiller_id=fulfiller)],
    )
    container.dispatcher.drain()  # inventory takes the offer's stock into a warehouse
    return container.catalog.product_view(product.id, staff=True).offers[0].id


def place_order(client: TestClient, items: list[tuple[str, int]]) -> dict[str, Any]:
    """A paid guest order of ``items`` (offer id, quantity); the response body."""
    created = client.post("/api/v1/carts", json={"country": "NL"})
    assert created.status_code == 201, created.text
    cart = created.json()
    headers = {"Cart-Token": cart["cart_token"]}
    for offer_id, quantity in items:
        added = client.post(
            f"/api/v1/carts/{cart['id']}/items",
            json={"offer_id": offer_id, "quantity": quantity},
            headers=headers,
        )
        assert added.status_code in (200, 201), added.text
    placed = client.post(
        "/api/v1/orders",
        json=order_body(cart["id"]),
        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert placed.status_code == 201, placed.text
    order: dict[str, Any] = placed.json()
    assert order["status"] == "paid"
    return order


def fulfillment_of(order: dict[str, Any], fulfiller: str) -> str:
    return str(next(f["id"] for f in order["fulfillments"] if f["fulfiller_id"] == fulfiller))


def ship(client: TestClient, operator: UserAccount, fulfillment_id: str) -> None:
    shipped = client.post(
        f"/api/v1/admin/fulfillments/{fulfillment_id}/ship", json={}, headers=operator.headers
    )
    assert shipped.status_code == 200, shipped.text


def deliver(client: TestClient, operator: UserAccount, fulfillment_id: str) -> None:
    delivered = client.post(
        f"/api/v1/admin/fulfillments/{fulfillment_id}/deliver", headers=operator.headers
    )
    assert delivered.status_code == 200, delivered.text


def ship_and_deliver(client: TestClient, operator: UserAccount, order: dict[str, Any]) -> None:
    for f in order["fulfillments"]:
        ship(client, operator, f["id"])
        deliver(client, operator, f["id"])


def return_units(
    client: TestClient, operator: UserAccount, order: dict[str, Any], line_id: str, quantity: int
) -> dict[str, Any]:
    """Request, approve and receive a return of ``quantity`` units: the customer is refunded."""
    token = {"Order-Token": order["access_token"]}
    requested = client.post(
        f"/api/v1/orders/{order['id']}/returns",
        json={"lines": [{"line_id": line_id, "quantity": quantity}], "reason": "changed mind"},
        headers=token,
    )
    assert requested.status_code == 201, requested.text
    return_id = requested.json()["id"]
    ops = operator.headers
    assert client.post(f"/api/v1/admin/returns/{return_id}/approve", headers=ops).is_success
    received = client.post(f"/api/v1/admin/returns/{return_id}/receive", json={}, headers=ops)
    assert received.status_code == 200, received.text
    result: dict[str, Any] = received.json()
    return result


def fee_schedule_json(
    *,
    rate: str = "0.10",
    minimum: int | None = None,
    order_fee: int = 50,
    listing_fee: int = 0,
    category_rates: dict[str, str] | None = None,
    seller_overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "currency": "EUR",
        "commission": {
            "default_rate": rate,
            "category_rates": category_rates or {},
            "seller_overrides": seller_overrides or {},
            "minimum_per_line": {"amount": minimum, "currency": "EUR"} if minimum else None,
            "basis": "net_after_discount",
        },
        "order_fee": {"amount": order_fee, "currency": "EUR"},
        "order_fee_overrides": {},
        "monthly_listing_fee": {"amount": listing_fee, "currency": "EUR"},
    }


def set_fees(container: Container, operator: UserAccount, **fields: Any) -> None:
    container.fee_schedules.replace(operator.principal, fee_schedule_json(**fields))


def balances(container: Container) -> dict[str, int]:
    """Every account's balance in minor units (EUR), on its normal side."""
    report = container.ledger.check()
    return {code: m.amount for (code, _), m in report.account_balances.items()}


def payable(container: Container, seller_id: str) -> int:
    return balances(container).get(seller_payable(seller_id).code, 0)


def line_of(order: dict[str, Any], fulfiller: str) -> dict[str, Any]:
    return next(x for x in order["lines"] if x["fulfiller_id"] == fulfiller)


def shipping_of(order: dict[str, Any], fulfiller: str) -> dict[str, Any] | None:
    return next((s for s in order["shipping"] if s["fulfiller_id"] == fulfiller), None)


CLEARING = Account("customer_payments_clearing", AccountKind.ASSET).code
