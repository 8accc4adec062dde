"""Cart use cases: create, read, change, merge at sign-in, quote; and the checkout hooks.

The sweeps that workers run over idle and expired carts are in :mod:`bazaar.carts.housekeeping`,
and pricing a cart (the shopper's quote and checkout's) in :mod:`bazaar.carts.quotes`.

A change loads the cart (two queries) and its offers through the catalog's service (one
query), applies a pure rule from ``model``, then writes the difference in one unit of work
whose first statement is guarded by the cart's version. A change that loses a race with
another change to the same cart is retried from a fresh load, a few times, before it is a
409. The catalog is read outside the write transaction, so a cart request never holds two
pooled connections at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bazaar.carts import model, store
from bazaar.carts.events import CartMerged, CartOrdered
from bazaar.carts.model import Cart, CartAccess, CartStatus
from bazaar.carts.quotes import (
    AnyCoupon,
    CartQuote,
    CartQuotes,
    CouponDirectory,
    OfferSource,
)
from bazaar.carts.quoting import CartPricer, QuoteSettings
from bazaar.catalog.model import CheckoutOffer
from bazaar.checkout.addresses import clean_country
from bazaar.checkout.quote_parts import Quote
from bazaar.identity.model import Principal
from bazaar.infra.db import Database
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import Conflict, NotFound, PermissionDenied
from bazaar.kernel.events import Actor
from bazaar.kernel.ids import is_valid_id, new_id

UowFactory = Callable[[Actor], SqlUnitOfWork]
ATTEMPTS = 3  # a change that keeps losing races to the same cart ends as a 409


@dataclass(frozen=True)
class CartView:
    """A cart with the catalog's current view of its offers, as the API shows it.

    ``token`` is set only in the answer that created a guest cart: it is never shown again.
    """

    cart: Cart
    offers: Mapping[str, CheckoutOffer]
    token: str | None = None
    created: bool = False


class CartService:
    def __init__(
        self,
        db: Database,
        uow: UowFactory,
        clock: Clock,
        offers: OfferSource,
        quote_settings: QuoteSettings,
        *,
        currency: str,
        ttl_s: int,
        pricer: CartPricer | None = None,
    ) -> None:
        self._db = db
        self._uow = uow
        self._clock = clock
        self._offers = offers
        self._quotes = CartQuotes(db, offers, quote_settings, pricer)
        self._currency = currency
        self._ttl_s = ttl_s
        self._coupons: CouponDirectory = AnyCoupon()

    # --- shopper -----------------------------------------------------------------------------

    def create_cart(self, principal: Principal | None, country: str | None = None) -> CartView:
        """A new empty cart in the store's currency.

        Signed in: the caller's open cart, created if there is none (``created`` says which);
        a customer has one open cart. Otherwise a guest cart and its token, shown only here.
        """
        destination = clean_country(country) if country is not None else None
        owner_id = CartAccess(principal).user_id
        if owner_id is None:
            token = model.new_cart_token()
            cart = self._new_cart(destination, owner_id=None, token=token)
            with self._uow(CartAccess(principal).actor) as uow:
                store.insert_cart(uow.conn, cart)
                uow.commit()
            return CartView(cart, {}, token=token, created=True)
        assert principal is not None
        for _ in range(ATTEMPTS):
            with self._db.read() as conn:
                existing = store.open_cart_of(conn, owner_id)
            now = self._clock.now()
            if existing is not None and not existing.is_expired(now):
                offers = self._offers(existing.offer_ids)
                if destination is None or destination == existing.country:
                    return CartView(existing, offers)
                changed = model.set_country(existing, destination, now=now, ttl_s=self._ttl_s)
                if self._save(principal.actor, existing, changed):
                    return CartView(changed, offers)
                continue
            cart = self._new_cart(destination, owner_id=owner_id, token=None)
            try:
                with self._uow(principal.actor) as uow:
                    if existing is not None:  # expired, not yet purged: make room for the new one
                        store.delete_cart(uow.conn, existing.id)
                    store.insert_cart(uow.conn, cart)
                    uow.commit()
            except IntegrityError:  # a concurrent request created it first: take that one
                continue
            return CartView(cart, {}, created=True)
        raise Conflict("The cart changed meanwhile; try again")

    def get_cart(
        self, principal: Principal | None, cart_token: str | None, cart_id: str
    ) -> CartView:
        """The cart with its offers' current titles, prices and stock.

        A cart the caller may not see, or that has expired, does not exist (404).
        """
        with self._db.read() as conn:
            cart = self._load(conn, CartAccess(principal, cart_token), cart_id)
        return CartView(cart, self._offers(cart.offer_ids))

    def set_country(
        self,
        principal: Principal | None,
        cart_token: str | None,
        cart_id: str,
        country: str | None,
    ) -> CartView:
        """Set (or clear) the destination country the quote uses when none is asked for."""
        destination = clean_country(country) if country is not None else None
        return self._change(
            CartAccess(principal, cart_token),
            cart_id,
            lambda cart, _, now: model.set_country(cart, destination, now=now, ttl_s=self._ttl_s),
        )

    def add_item(
        self,
        principal: Principal | None,
        cart_token: str | None,
        cart_id: str,
        offer_id: str,
        quantity: int,
    ) -> CartView:
        """Put ``quantity`` of an offer in the cart, added to what it already holds.

        422 naming ``offer_id`` (unknown, not for sale, full cart) or ``quantity`` (outside
        1..999, more than available); 409 once the cart was merged or ordered.
        """
        return self._change(
            CartAccess(principal, cart_token),
            cart_id,
            lambda cart, offers, now: model.add_item(
                cart,
                offer_id,
                quantity,
                offers.get(offer_id),
                new_item_id=new_id("cti"),
                now=now,
                ttl_s=self._ttl_s,
            ),
            extra_offers=[offer_id],
        )

    def add_coupon(
        self, principal: Principal | None, cart_token: str | None, cart_id: str, code: str
    ) -> CartView:
        """Enter a coupon code (case-insensitive). 422 on ``code`` when it is malformed or
        unknown, or the cart holds too many; the quote explains whether it applies."""
        normalised = self._coupons.require_known(code)
        return self._change(
            CartAccess(principal, cart_token),
            cart_id,
            lambda cart, _offers, now: model.add_coupon(
                cart, normalised, now=now, ttl_s=self._ttl_s
            ),
        )

    def remove_coupon(
        self, principal: Principal | None, cart_token: str | None, cart_id: str, code: str
    ) -> CartView:
        """Take a code out of the cart; 422 on ``code`` when the cart does not hold it."""
        normalised = code.strip().upper()
        return self._change(
            CartAccess(principal, cart_token),
            cart_id,
            lambda cart, _offers, now: model.remove_coupon(
                cart, normalised, now=now, ttl_s=self._ttl_s
            ),
        )

    def update_item(
        self,
        principal: Principal | None,
        cart_token: str | None,
        cart_id: str,
        item_id: str,
        quantity: int,
    ) -> CartView:
        """Set a line's quantity; it must be available (422 ``quantity``)."""

        def change(cart: Cart, offers: Mapping[str, CheckoutOffer], now: datetime) -> Cart:
            item = cart.item(item_id)
            offer = offers.get(item.offer_id) if item is not None else None
            return model.set_quantity(cart, item_id, quantity, offer, now=now, ttl_s=self._ttl_s)

        return self._change(CartAccess(principal, cart_token), cart_id, change)

    def remove_item(
        self, principal: Principal | None, cart_token: str | None, cart_id: str, item_id: str
    ) -> CartView:
        return self._change(
            CartAccess(principal, cart_token),
            cart_id,
            lambda cart, _, now: model.remove_item(cart, item_id, now=now, ttl_s=self._ttl_s),
        )

    def merge(self, principal: Principal, token: str | None, guest_cart_id: str) -> CartView:
        """Move a guest cart (reached with its token) into the signed-in customer's open cart.

        Quantities are added and capped by availability (see ``model.merge``); the guest cart
        ends ``merged``. Repeating the call answers with the same customer cart. The customer
        cart is created when the customer has none.
        """
        owner_id = CartAccess(principal).user_id
        if owner_id is None:
            raise PermissionDenied("Only a signed-in customer can take over a guest cart")
        for _ in range(ATTEMPTS):
            with self._db.read() as conn:
                guest = self._load(conn, CartAccess(token=token), guest_cart_id)
                target = store.open_cart_of(conn, owner_id)
                if guest.status is CartStatus.MERGED:
                    into = store.get_cart(conn, guest.merged_into or "")
                    if into is None or into.owner_id != owner_id:
                        raise Conflict("This cart was already merged into another cart")
                    return CartView(into, self._offers(into.offer_ids))
            now = self._clock.now()
            expired = target is not None and target.is_expired(now)
            base = self._new_cart(None, owner_id=owner_id, token=None)
            if target is not None and not expired:
                base = target
            offers = self._offers([*guest.offer_ids, *base.offer_ids])
            merged, emptied = model.merge(
                base, guest, offers, new_item_id=lambda: new_id("cti"), now=now, ttl_s=self._ttl_s
            )
            try:
                with self._uow(principal.actor) as uow:
                    if target is not None and expired:
                        store.delete_cart(uow.conn, target.id)
                    if base is target:
                        saved = store.save_cart(uow.conn, base, merged)
                    else:
                        store.insert_cart(uow.conn, merged)
                        saved = True
                    if not (saved and store.save_cart(uow.conn, guest, emptied)):
                        continue  # leaving the block uncommitted rolls back
                    uow.record(
                        CartMerged(cart_id=guest.id, customer_id=owner_id, into_cart_id=merged.id)
                    )
                    uow.commit()
            except IntegrityError:
                continue
            return CartView(merged, offers)
        raise Conflict("The carts changed meanwhile; try again")

    def quote(
        self,
        principal: Principal | None,
        cart_token: str | None,
        cart_id: str,
        country: str | None,
    ) -> CartQuote:
        """What the cart costs delivered to ``country`` (default: the cart's country)."""
        with self._db.reading():
            cart = self.get_for_checkout(principal, cart_token, cart_id)
            return self.quote_with_offers(cart, country)

    # --- checkout ----------------------------------------------------------------------------

    def get_for_checkout(
        self, principal: Principal | None, cart_token: str | None, cart_id: str
    ) -> Cart:
        """The open cart the caller may use: a customer's own, or a guest cart whose token
        was sent. 404 when it may not (or the cart expired), 409 when it was merged or
        ordered."""
        with self._db.read() as conn:
            cart = self._load(conn, CartAccess(principal, cart_token), cart_id)
        model.require_open(cart)
        return cart

    def quote_cart(self, cart: Cart, country: str | None = None) -> Quote:
        return self.quote_with_offers(cart, country).quote

    def quote_with_offers(self, cart: Cart, country: str | None = None) -> CartQuote:
        """Price ``cart`` for delivery to ``country`` (default: the cart's country); see
        :meth:`CartQuotes.price <bazaar.carts.quotes.CartQuotes.price>`."""
        return self._quotes.price(cart, country)

    def use_pricing(self, pricer: CartPricer, coupons: CouponDirectory) -> None:
        """Plug the pricing engine in (bootstrap: pricing is built after carts)."""
        self._quotes.use_pricer(pricer)
        self._coupons = coupons

    def mark_ordered(
        self,
        uow: SqlUnitOfWork,
        cart_id: str,
        order_id: str,
        *,
        expected_version: int | None = None,
    ) -> None:
        """Within the caller's unit of work, turn the open cart into order ``order_id``.

        The cart becomes read-only (kept until it expires). With ``expected_version`` (the
        ``Cart.version`` the order was priced from) a cart changed since is refused too.
        Raises ``Conflict`` when the cart is not open any more (already ordered or merged)
        or changed; the caller's transaction should then roll back.
        """
        now = self._clock.now()
        owner = store.mark_ordered(
            uow.conn,
            cart_id,
            order_id,
            now,
            now + timedelta(seconds=self._ttl_s),
            expected_version=expected_version,
        )
        if owner is None:
            raise Conflict("The cart was already ordered, merged or changed")
        uow.record(CartOrdered(cart_id=cart_id, customer_id=owner[0], order_id=order_id))

    # --- internals ---------------------------------------------------------------------------

    def _new_cart(self, country: str | None, *, owner_id: str | None, token: str | None) -> Cart:
        return model.new_cart(
            new_id("crt"),
            currency=self._currency,
            country=country,
            owner_id=owner_id,
            token=token,
            now=self._clock.now(),
            ttl_s=self._ttl_s,
        )

    def _load(self, conn: Connection, access: CartAccess, cart_id: str) -> Cart:
        cart = store.get_cart(conn, cart_id) if is_valid_id(cart_id, "crt") else None
        if cart is None or cart.is_expired(self._clock.now()) or not model.may_access(cart, access):
            raise NotFound("No such cart")
        return cart

    def _save(self, actor: Actor, before: Cart, after: Cart) -> bool:
        with self._uow(actor) as uow:
            if not store.save_cart(uow.conn, before, after):
                return False
            uow.commit()
        return True

    def _change(
        self,
        access: CartAccess,
        cart_id: str,
        change: Callable[[Cart, Mapping[str, CheckoutOffer], datetime], Cart],
        extra_offers: Sequence[str] = (),
    ) -> CartView:
        for _ in range(ATTEMPTS):
            with self._db.reading(), self._db.read() as conn:  # the cart and offers: one BEGIN
                before = self._load(conn, access, cart_id)
                offers = self._offers([*before.offer_ids, *extra_offers])
            after = change(before, offers, self._clock.now())
            if self._save(access.actor, before, after):
                return CartView(after, offers)
        raise Conflict("The cart changed meanwhile; reload it and try again")
