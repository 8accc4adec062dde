"""The pricing engine where carts and checkout meet it.

:class:`PricingEngine` is the carts context's ``CartPricer``: it gathers what the pure core
needs for one cart (the compiled rules from the cache; the shopper's group, coupon uses and
remaining budgets, each read only when the cart or the rules need it) and hands back the
effective unit prices, the discounts and free shipping. At order placement,
:meth:`PricingEngine.commit` turns the quote's decision into facts inside checkout's
transaction: one use per applied coupon and the spend of every budgeted promotion (its
discount and the shipping its free shipping waived), each by a conditional update, so 300
shoppers racing for a coupon limited to 100 uses get exactly 100 orders; and the experiment
conversions the order counts for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.carts.model import Cart
from bazaar.carts.quoting import FreeShipping, PricedLines
from bazaar.catalog.model import CheckoutOffer
from bazaar.checkout.quote_parts import CheckoutLine, ShippingCharge
from bazaar.infra.db import Database
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import Conflict, FieldError, ValidationFailed
from bazaar.kernel.money import Money
from bazaar.pricing import store
from bazaar.pricing.coupons import Coupon, CouponProblem, EnteredCoupon, normalise_code
from bazaar.pricing.experiment_store import record_exposure
from bazaar.pricing.experiments import Exposure
from bazaar.pricing.model import (
    PricedCart,
    PricingContext,
    PricingLine,
    PricingRules,
    price_cart,
    reprice_checkout_lines,
    to_discounts,
)

MAX_REMEMBERED_EXPOSURES = 100_000
# customer id -> True when the customer has placed an order before
OrderHistory = Callable[[Connection, str], bool]


class CouponUnavailable(Conflict):
    """A coupon ran out (or the customer used it up) between the quote and the order."""

    code = "coupon_unavailable"
    title = "Coupon no longer available"


class PromotionBudgetSpent(Conflict):
    """A promotion's budget ran out between the quote and the order: quote again."""

    code = "promotion_budget_spent"
    title = "Promotion budget spent"


class PricingEngine:
    """Prices carts with the store's rules; see the module docstring."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        rules: Callable[[], PricingRules],
        *,
        channel_id: str,
        has_ordered: OrderHistory,
    ) -> None:
        self._db = db
        self._clock = clock
        self._rules = rules
        self._channel_id = channel_id
        self._has_ordered = has_ordered
        self._exposed: set[tuple[str, str]] = set()

    def use_rules(self, rules: Callable[[], PricingRules]) -> None:
        """Price with ``rules`` from now on (bootstrap hands over the rules cache)."""
        self._rules = rules

    # --- CouponDirectory ---------------------------------------------------------------------

    def require_known(self, code: str) -> str:
        """The normalised code; 422 on ``code`` when it is malformed or no coupon has it."""
        normalised = normalise_code(code, "code")
        with self._db.read() as conn:
            found = store.coupon_uses(conn, [normalised], None)
        if not found:
            raise ValidationFailed.on("code", "No coupon has this code", "unknown_coupon")
        return normalised

    # --- CartPricer --------------------------------------------------------------------------

    def price(
        self, cart: Cart, lines: Sequence[CheckoutLine], offers: Mapping[str, CheckoutOffer]
    ) -> PricedLines:
        """Effective prices, discounts and free shipping of ``lines`` for ``cart``'s shopper."""
        rules = self._rules()
        now = self._clock.now()
        customer_id = cart.owner_id
        promotions = rules.promotions.promotions
        budgeted = [p.id for p in promotions if p.budget is not None]
        wants_history = any(p.conditions.first_order_only for p in promotions)
        group: str | None = None
        entered: tuple[EnteredCoupon, ...] = ()
        first = False
        left: dict[str, int] = {}
        # Read only what this cart and these rules need: a guest cart without codes in a
        # store without budgets costs no statement here.
        if customer_id or cart.coupon_codes or budgeted:
            with self._db.read() as conn:
                if customer_id:
                    group = store.group_of(conn, customer_id)
                    first = wants_history and not self._has_ordered(conn, customer_id)
                entered = self._entered(conn, cart.coupon_codes, customer_id)
                left = store.remaining_budgets(conn, budgeted) if budgeted else {}
        context = PricingContext(
            currency=cart.currency,
            channel_id=self._channel_id,
            now=now,
            customer_id=customer_id,
            customer_group=group,
            cart_id=cart.id,
            is_first_order=first,
            coupons=entered,
        )
        pricing_lines = [
            PricingLine(
                offer_id=line.offer_id,
                product_id=offers[line.offer_id].product_id,
                seller_id=line.fulfiller_id,
                quantity=line.quantity,
                base_prices=(line.unit_price,),
                category_ids=frozenset(
                    (*offers[line.offer_id].category_ancestor_ids, line.category_id)
                ),
                brand_id=offers[line.offer_id].brand_id,
            )
            for line in lines
        ]
        priced = price_cart(
            pricing_lines,
            context,
            rules,
            remaining_budgets={pid: Money(n, cart.currency) for pid, n in left.items()},
        )
        free = {
            fulfiller: FreeShipping(a.promotion_id, a.label, a.shipping_budget)
            for a in priced.adjustments
            for fulfiller in sorted(a.free_shipping_fulfillers)
        }
        self.record_exposures(context.unit_id, priced.exposures, now)
        coupons = dict.fromkeys(cart.coupon_codes, "unknown")
        coupons.update({r.code: r.problem.value for r in priced.rejected_coupons})
        coupons.update({a.coupon_code: "applied" for a in priced.adjustments if a.coupon_code})
        return PricedLines(
            reprice_checkout_lines(lines, priced),
            to_discounts(priced),
            free,
            outcome=priced,
            coupons=coupons,
        )

    def record_exposures(
        self, unit_id: str | None, exposures: Sequence[Exposure], now: datetime
    ) -> None:
        """Log that ``unit_id`` was shown each experiment variant of ``exposures`` (in a cart
        or on a product or listing page): once per (experiment, unit) in the database, and
        once per process thanks to ``_exposed``, so a repeat costs no statement."""
        if unit_id is None:
            return
        fresh = [e for e in exposures if (e.experiment_id, unit_id) not in self._exposed]
        if not fresh:
            return
        with self._db.write() as conn:
            for exposure in fresh:
                record_exposure(conn, exposure.experiment_id, exposure.variant_id, unit_id, now)
        if len(self._exposed) > MAX_REMEMBERED_EXPOSURES:
            self._exposed.clear()  # the table's primary key keeps the first sighting anyway
        self._exposed.update((e.experiment_id, unit_id) for e in fresh)

    @staticmethod
    def _entered(
        conn: Connection, codes: Sequence[str], customer_id: str | None
    ) -> tuple[EnteredCoupon, ...]:
        if not codes:
            return ()
        found = {
            row["code"]: EnteredCoupon(_coupon(row), int(row["uses"]), customer_uses)
            for row, customer_uses in store.coupon_uses(conn, codes, customer_id)
        }
        return tuple(found[code] for code in codes if code in found)

    # --- order placement ---------------------------------------------------------------------

    def commit(
        self,
        conn: Connection,
        priced: PricedLines,
        *,
        order_id: str,
        customer_id: str | None,
        unit_id: str,
        revenue: Money,
        now: datetime,
        shipping: Sequence[ShippingCharge] = (),
    ) -> None:
        """Make the quote's decision a fact, in the caller's transaction.

        One use per applied coupon, each promotion's spend drawn from its budget (its
        discount plus the shipping it waived in ``shipping``, the quote's charges), and one
        conversion per experiment the shopper was exposed to. Raises ``CouponUnavailable``
        (409 on ``coupon_code``) or ``PromotionBudgetSpent`` (409): the caller's transaction
        then rolls back, the order with it, and the shopper quotes again.
        """
        outcome = priced.outcome
        if not isinstance(outcome, PricedCart):
            return
        # A code the shopper entered that stopped working (used up, expired) refuses the
        # order rather than charging the full price the shopper did not expect.
        for entered, status in sorted(priced.coupons.items()):
            if status not in ("applied", CouponProblem.CONDITIONS_NOT_MET.value):
                raise CouponUnavailable(
                    f"Coupon {entered} can no longer be used ({status}); remove it to continue",
                    errors=[FieldError("coupon_code", entered, status)],
                )
        for adjustment in outcome.adjustments:
            applied = adjustment.coupon_code
            if applied is None:
                continue
            if not store.redeem_coupon(conn, applied, order_id, customer_id, now):
                raise CouponUnavailable(
                    f"Coupon {applied} has been used up",
                    errors=[FieldError("coupon_code", "Used up", "used_up")],
                )
        waived: dict[str, Money] = {}
        for charge in shipping:
            waiver = priced.free_shipping.get(charge.fulfiller_id)
            if waiver is not None and charge.waived is not None:
                before = waived.get(waiver.rule_id, Money.zero(charge.waived.currency))
                waived[waiver.rule_id] = before + charge.waived
        # Discount and waived shipping in one conditional update per promotion, so racing
        # orders can never together draw more than the budget.
        for promotion_id, amount in sorted(outcome.spend_by_promotion(waived).items()):
            if amount.is_zero():
                continue
            if not store.spend_budget(
                conn, promotion_id, order_id, amount.amount, amount.currency, now
            ):
                raise PromotionBudgetSpent(
                    "A promotion in this cart has run out of budget; quote the cart again",
                    errors=[FieldError("promotions", promotion_id, "budget_spent")],
                )
        for exposure in outcome.exposures:
            store.record_conversion(
                conn,
                exposure.experiment_id,
                exposure.variant_id,
                order_id=order_id,
                unit_id=unit_id,
                revenue=revenue,
                now=now,
            )


def _coupon(row: Mapping[str, object]) -> Coupon:
    return Coupon(
        code=str(row["code"]),
        promotion_id=str(row["promotion_id"]),
        starts_at=row["starts_at"],  # type: ignore[arg-type]
        expires_at=row["expires_at"],  # type: ignore[arg-type]
        usage_limit=row["usage_limit"],  # type: ignore[arg-type]
        usage_limit_per_customer=row["usage_limit_per_customer"],  # type: ignore[arg-type]
        batch_id=row["batch_id"],  # type: ignore[arg-type]
    )


def orders_exist(table: sa.Table) -> OrderHistory:
    """An ``OrderHistory`` over the orders table (its ``customer_id`` column)."""

    def has_ordered(conn: Connection, customer_id: str) -> bool:
        query = sa.select(table.c.id).where(table.c.customer_id == customer_id).limit(1)
        return conn.execute(query).first() is not None

    return has_ordered
