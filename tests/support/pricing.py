"""Helpers for the API tests of prices: money as JSON, a product's offer, a created body."""

from __future__ import annotations

from typing import Any

from bazaar.bootstrap import Container
from bazaar.catalog.model import Product


def eur(amount: int) -> dict[str, Any]:
    """``amount`` minor units of euros, as request and response bodies carry money."""
    return {"amount": amount, "currency": "EUR"}


def offer_of(container: Container, product: Product) -> str:
    """The id of the product's first offer (the one ``make_product`` gives it)."""
    return container.catalog.product_view(product.id, staff=True).offers[0].id


def created(response: Any) -> dict[str, Any]:
    """The body of a response that created or replaced something (201 or 200)."""
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body
