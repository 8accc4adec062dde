"""Cart rules: who may open a cart, what may go in it, when it expires or counts as abandoned.

Pure Python. A cart holds offers (by id) with quantities. Every change is a function from
the cart (and the catalog's current view of the offers involved) to the changed cart, so
the service only loads, calls one of these and saves the difference (:func:`diff_items`).

* A **guest cart** is reached with its cart token: a random secret shown once at creation;
  only its SHA-256 is stored. A **customer cart** belongs to a signed-in user and only that
  user reaches it. Anyone else is told the cart does not exist (404, never 403).
* A customer has at most one open cart. At sign-in a guest cart is **merged** into it: the
  guest's quantities are added to the customer's, capped by what is available.
* Every change pushes ``expires_at`` to ``now + ttl`` and clears ``abandoned_at``: a cart
  left alone for the abandonment delay is recorded as abandoned once per idle spell, and
  one left alone for the whole time to live is purged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bazaar.catalog.model import CheckoutOffer
from bazaar.identity.model import Principal
from bazaar.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from bazaar.kernel.events import Actor

MAX_QUANTITY = 999  # of one offer in one cart
MAX_LINES = 100  # different offers in one cart
MAX_COUPONS = 5  # codes entered in one cart
TOKEN_BYTES = 32


class CartStatus(StrEnum):
    OPEN = "open"  # the only state in which a cart changes
    MERGED = "merged"  # a guest cart whose items moved into a customer's cart
    ORDERED = "ordered"  # turned into an order; kept read-only until it expires


class ItemProblem(StrEnum):
    """Why a line cannot be bought as it stands (shown on the cart, refused by the quote)."""

    UNKNOWN_OFFER = "unknown_offer"
    NOT_AVAILABLE = "not_available"
    INSUFFICIENT_STOCK = "insufficient_stock"


@dataclass(frozen=True)
class CartItem:
    id: str
    offer_id: str
    quantity: int
    added_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Cart:
    """A cart and its lines; ``version`` grows with every change (optimistic concurrency)."""

    id: str
    owner_id: str | None  # the customer's user id; None for a guest cart
    token_hash: str | None  # SHA-256 hex of a guest cart's token; None for a customer cart
    currency: str
    country: str | None  # destination for the quote, when the shopper gave one
    status: CartStatus
    items: tuple[CartItem, ...]
    version: int
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    abandoned_at: datetime | None = None
    merged_into: str | None = None
    order_id: str | None = None
    coupon_codes: tuple[str, ...] = ()  # as entered and normalised; checked when priced

    @property
    def is_guest(self) -> bool:
        return self.owner_id is None

    @property
    def offer_ids(self) -> list[str]:
        return [i.offer_id for i in self.items]

    @property
    def quantity(self) -> int:
        """Units in the cart, over all lines."""
        return sum(i.quantity for i in self.items)

    def item(self, item_id: str) -> CartItem | None:
        return next((i for i in self.items if i.id == item_id), None)

    def item_for(self, offer_id: str) -> CartItem | None:
        return next((i for i in self.items if i.offer_id == offer_id), None)

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at


@dataclass(frozen=True)
class CartAccess:
    """Who asks for a cart: a signed-in caller, the holder of a cart token, or both."""

    principal: Principal | None = None
    token: str | None = None

    @property
    def user_id(self) -> str | None:
        """The id of the signed-in user; API keys own no carts."""
        p = self.principal
        return p.id if p is not None and p.kind == "user" else None

    @property
    def actor(self) -> Actor:
        return self.principal.actor if self.principal is not None else Actor("guest")


def new_cart_token() -> str:
    """A fresh guest cart token: 32 random bytes, URL-safe."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    # A plain hash is enough: the token is 256 random bits, so there is nothing to guess.
    return hashlib.sha256(token.encode()).hexdigest()


def may_access(cart: Cart, access: CartAccess) -> bool:
    """A customer cart: its owner only. A guest cart: whoever holds its token."""
    if cart.owner_id is not None:
        return access.user_id == cart.owner_id
    if cart.token_hash is None or not access.token:
        return False
    return hmac.compare_digest(hash_token(access.token), cart.token_hash)


def new_cart(
    cart_id: str,
    *,
    currency: str,
    country: str | None,
    owner_id: str | None,
    token: str | None,
    now: datetime,
    ttl_s: int,
) -> Cart:
    """An empty open cart: a customer's (``owner_id``) or a guest's (``token``), not both."""
    if (owner_id is None) == (token is None):
        raise ValueError("A cart has an owner or a token, exactly one of them")
    return Cart(
        id=cart_id,
        owner_id=owner_id,
        token_hash=hash_token(token) if token is not None else None,
        currency=currency,
        country=country,
        status=CartStatus.OPEN,
        items=(),
        version=1,
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(seconds=ttl_s),
    )


def require_open(cart: Cart) -> None:
    """Refuse to change a cart that was merged or ordered (409)."""
    if cart.status is not CartStatus.OPEN:
        raise Conflict(f"This cart is {cart.status} and can no longer change")


def check_quantity(quantity: int, field: str = "quantity") -> list[FieldError]:
    if type(quantity) is not int or not 1 <= quantity <= MAX_QUANTITY:
        return [FieldError(field, f"1 to {MAX_QUANTITY}", "out_of_range")]
    return []


def item_problem(offer: CheckoutOffer | None, quantity: int, currency: str) -> ItemProblem | None:
    """What stops ``quantity`` of ``offer`` being bought in a cart priced in ``currency``."""
    if offer is None:
        return ItemProblem.UNKNOWN_OFFER
    if not offer.purchasable or offer.price.currency != currency:
        return ItemProblem.NOT_AVAILABLE
    if quantity > offer.stock:
        return ItemProblem.INSUFFICIENT_STOCK
    return None


def availability_errors(
    offer: CheckoutOffer | None, quantity: int, currency: str, at: str = ""
) -> list[FieldError]:
    """:func:`item_problem` as field errors: ``<at>offer_id`` or ``<at>quantity``."""
    problem = item_problem(offer, quantity, currency)
    if problem is ItemProblem.UNKNOWN_OFFER:
        return [FieldError(f"{at}offer_id", "No such offer", problem.value)]
    if problem is ItemProblem.NOT_AVAILABLE:
        return [FieldError(f"{at}offer_id", "This offer is not for sale", problem.value)]
    if problem is ItemProblem.INSUFFICIENT_STOCK:
        assert offer is not None
        message = f"Only {offer.stock} available" if offer.stock else "Out of stock"
        return [FieldError(f"{at}quantity", message, problem.value)]
    return []


def _touched(cart: Cart, items: tuple[CartItem, ...], now: datetime, ttl_s: int) -> Cart:
    return replace(
        cart,
        items=items,
        version=cart.version + 1,
        updated_at=now,
        expires_at=now + timedelta(seconds=ttl_s),
        abandoned_at=None,
    )


def add_coupon(cart: Cart, code: str, *, now: datetime, ttl_s: int) -> Cart:
    """Enter a (normalised) coupon code; entering it again changes nothing.

    Raises ``ValidationFailed`` on ``code`` when the cart already holds ``MAX_COUPONS``
    codes, ``Conflict`` unless the cart is open. Whether the code gives anything is the
    quote's question: a code that does not apply is explained there, not refused here.
    """
    require_open(cart)
    if code in cart.coupon_codes:
        return cart
    if len(cart.coupon_codes) >= MAX_COUPONS:
        raise ValidationFailed.on("code", f"At most {MAX_COUPONS} codes per cart", "too_many")
    return replace(_touched(cart, cart.items, now, ttl_s), coupon_codes=(*cart.coupon_codes, code))


def remove_coupon(cart: Cart, code: str, *, now: datetime, ttl_s: int) -> Cart:
    """Take a code out of the cart; 422 on ``code`` when the cart does not hold it."""
    require_open(cart)
    if code not in cart.coupon_codes:
        raise ValidationFailed.on("code", "The cart holds no such code", "unknown_coupon")
    codes = tuple(c for c in cart.coupon_codes if c != code)
    return replace(_touched(cart, cart.items, now, ttl_s), coupon_codes=codes)


def add_item(
    cart: Cart,
    offer_id: str,
    quantity: int,
    offer: CheckoutOffer | None,
    *,
    new_item_id: str,
    now: datetime,
    ttl_s: int,
) -> Cart:
    """Put ``quantity`` of an offer in the cart, on top of what the cart already holds.

    Raises ``ValidationFailed`` naming ``quantity`` (out of 1..999, more than available) or
    ``offer_id`` (unknown, not for sale, a full cart), ``Conflict`` unless the cart is open.
    """
    require_open(cart)
    if errors := check_quantity(quantity):
        raise ValidationFailed("The quantity is out of range", errors=errors)
    existing = cart.item_for(offer_id)
    total = quantity + (existing.quantity if existing else 0)
    if total > MAX_QUANTITY:
        raise ValidationFailed.on(
            "quantity", f"At most {MAX_QUANTITY} of one item in a cart", "out_of_range"
        )
    if errors := availability_errors(offer, total, cart.currency):
        raise ValidationFailed("The item cannot be added", errors=errors)
    if existing is not None:
        changed = replace(existing, quantity=total, updated_at=now)
        items = tuple(changed if i.id == existing.id else i for i in cart.items)
    else:
        if len(cart.items) >= MAX_LINES:
            raise ValidationFailed.on(
                "offer_id", f"A cart holds at most {MAX_LINES} different items", "cart_full"
            )
        items = (*cart.items, CartItem(new_item_id, offer_id, quantity, now, now))
    return _touched(cart, items, now, ttl_s)


def set_quantity(
    cart: Cart,
    item_id: str,
    quantity: int,
    offer: CheckoutOffer | None,
    *,
    now: datetime,
    ttl_s: int,
) -> Cart:
    """Change a line's quantity to exactly ``quantity``, which must be available."""
    require_open(cart)
    item = cart.item(item_id)
    if item is None:
        raise NotFound("No such item in this cart")
    if errors := check_quantity(quantity) or availability_errors(offer, quantity, cart.currency):
        raise ValidationFailed("The quantity cannot be set", errors=errors)
    changed = replace(item, quantity=quantity, updated_at=now)
    return _touched(cart, tuple(changed if i.id == item_id else i for i in cart.items), now, ttl_s)


def remove_item(cart: Cart, item_id: str, *, now: datetime, ttl_s: int) -> Cart:
    require_open(cart)
    if cart.item(item_id) is None:
        raise NotFound("No such item in this cart")
    return _touched(cart, tuple(i for i in cart.items if i.id != item_id), now, ttl_s)


def set_country(cart: Cart, country: str | None, *, now: datetime, ttl_s: int) -> Cart:
    """Set (or clear, with None) the destination the quote uses by default."""
    require_open(cart)
    return replace(_touched(cart, cart.items, now, ttl_s), country=country)


def merge(
    target: Cart,
    source: Cart,
    offers: Mapping[str, CheckoutOffer],
    *,
    new_item_id: Callable[[], str],
    now: datetime,
    ttl_s: int,
) -> tuple[Cart, Cart]:
    """Move a guest cart's lines into a customer's cart; return both carts changed.

    Quantities of the same offer are added and capped by availability (stock, and at most
    999), but a line the customer already had is never reduced. Lines that cannot be bought
    at all (unknown, not for sale, out of stock) and lines beyond the 100-line limit are not
    carried over. The guest cart ends ``merged``, empty, pointing at the target.
    """
    require_open(target)
    require_open(source)
    if source.owner_id is not None:
        raise ValidationFailed.on("cart_id", "Only a guest cart can be merged", "not_a_guest_cart")
    items = list(target.items)
    position = {item.offer_id: n for n, item in enumerate(items)}
    for line in source.items:
        offer = offers.get(line.offer_id)
        if item_problem(offer, 1, target.currency) is not None:
            continue
        assert offer is not None
        n = position.get(line.offer_id)
        have = items[n].quantity if n is not None else 0
        quantity = max(have, min(have + line.quantity, offer.stock, MAX_QUANTITY))
        if n is not None:
            if quantity != have:
                items[n] = replace(items[n], quantity=quantity, updated_at=now)
        elif len(items) < MAX_LINES:
            position[line.offer_id] = len(items)
            items.append(CartItem(new_item_id(), line.offer_id, quantity, now, now))
    codes = tuple(dict.fromkeys((*target.coupon_codes, *source.coupon_codes)))[:MAX_COUPONS]
    merged_target = replace(
        _touched(target, tuple(items), now, ttl_s),
        country=target.country or source.country,
        coupon_codes=codes,
    )
    merged_source = replace(
        _touched(source, (), now, ttl_s), status=CartStatus.MERGED, merged_into=target.id
    )
    return merged_target, merged_source


def is_abandoned(cart: Cart, now: datetime, idle_s: int) -> bool:
    """An open cart with items, untouched for ``idle_s`` and not yet recorded as abandoned.

    The sweep selects the same carts in SQL (``store.abandoned_candidates``).
    """
    return (
        cart.status is CartStatus.OPEN
        and bool(cart.items)
        and cart.abandoned_at is None
        and not cart.is_expired(now)
        and cart.updated_at <= now - timedelta(seconds=idle_s)
    )


@dataclass(frozen=True)
class ItemChanges:
    added: tuple[CartItem, ...]
    changed: tuple[CartItem, ...]
    removed: tuple[str, ...]  # item ids


def diff_items(before: Cart, after: Cart) -> ItemChanges:
    """The line writes that turn ``before`` into ``after``."""
    old = {i.id: i for i in before.items}
    new = {i.id: i for i in after.items}
    return ItemChanges(
        added=tuple(i for i in after.items if i.id not in old),
        changed=tuple(i for i in after.items if i.id in old and old[i.id] != i),
        removed=tuple(i for i in old if i not in new),
    )
