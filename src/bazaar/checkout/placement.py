"""What placing an order passes along: the shopper's draft, what transaction 1 opened for
transaction 2 to record without reading it back, and what a placement answers.

Values only; the steps that make and use them are :class:`~bazaar.checkout.service.CheckoutService`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bazaar.checkout.addresses import Address
from bazaar.infra.idempotency import Claim
from bazaar.inventory.model import Reservation
from bazaar.orders.model import Order
from bazaar.orders.service import OrderView
from bazaar.payments.model import Payment


@dataclass(frozen=True)
class OrderDraft:
    cart_id: str
    email: str
    shipping_address: Address
    billing_address: Address | None
    payment_token: str


@dataclass(frozen=True)
class Placed:
    """What a placement returns: the order id, and the token a guest reads the order with."""

    order_id: str
    access_token: str | None
    payment_pending: bool
    # The order as this placement left it, when it knows all of it (no read-back needed).
    view: OrderView | None = None
    # The response for the Idempotency-Key was stored in the transaction that paid, and is
    # this body (rendered once, for the key and for the answer).
    responded: bool = False
    body: Any = None


@dataclass(frozen=True)
class Opened:
    """What transaction 1 created and wrote, so transaction 2 records without reading."""

    order: Order
    payment: Payment
    reservations: tuple[Reservation, ...]
    claim: Claim  # the Idempotency-Key, holding the order's id
    guest_token: str | None
    titles: Mapping[str, str]
    shipping_address: dict[str, Any]
    payment_token: str
    at: datetime


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
