"""Cart events, and the operator's changes to shipping rules and VAT classes.

Adding, changing and removing items records no event: carts change on every click, mostly
anonymously, and nothing subscribes to that; the facts worth keeping are a cart abandoned,
merged at sign-in or turned into an order. Cart events name a customer, so they are not
public: only operators' webhook subscriptions see them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bazaar.kernel.events import Event


@dataclass(frozen=True)
class CartLine:
    offer_id: str
    quantity: int

    def to_dict(self) -> dict[str, object]:
        return {"offer_id": self.offer_id, "quantity": self.quantity}


@dataclass(frozen=True, kw_only=True)
class CartEvent(Event, abstract=True):
    subject_type = "cart"
    subject_field = "cart_id"
    cart_id: str
    customer_id: str | None  # None for a guest cart


@dataclass(frozen=True, kw_only=True)
class CartAbandoned(CartEvent):
    """A cart with items was left alone for the abandonment delay (once per idle spell)."""

    idle_since: datetime
    lines: tuple[CartLine, ...]


@dataclass(frozen=True, kw_only=True)
class CartMerged(CartEvent):
    """A guest cart's items moved into the customer's cart ``into_cart_id`` at sign-in."""

    into_cart_id: str


@dataclass(frozen=True, kw_only=True)
class CartOrdered(CartEvent):
    """The cart became order ``order_id`` and no longer changes."""

    order_id: str


@dataclass(frozen=True, kw_only=True)
class ShippingRulesSet(Event):
    subject_type = "fulfiller"
    subject_field = "fulfiller_id"
    fulfiller_id: str
    rule_ids: tuple[str, ...]
    kinds: tuple[str, ...]

    def audience(self) -> tuple[str, ...]:
        return (f"seller:{self.fulfiller_id}",) if self.fulfiller_id.startswith("sel_") else ()


@dataclass(frozen=True, kw_only=True)
class TaxClassSet(Event):
    """A category's own VAT rate class was set, or cleared (``rate_class`` None: inherit)."""

    subject_type = "category"
    subject_field = "category_id"
    category_id: str
    rate_class: str | None
