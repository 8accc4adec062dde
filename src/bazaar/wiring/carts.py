"""Carts and the staff's checkout rules (shipping rates, VAT classes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bazaar.carts.checkout_rules import CheckoutRulesService
from bazaar.carts.housekeeping import CartHousekeeping
from bazaar.carts.quoting import QuoteSettings
from bazaar.carts.service import CartService
from bazaar.carts.shipping_rules import default_rule
from bazaar.checkout.tax import DEFAULT_TAX_TABLE

if TYPE_CHECKING:
    from bazaar.bootstrap import Container


def build_carts(container: Container) -> None:
    """Carts quote with the store's default shipping until staff add rules of their own.

    Carts price with the pricing engine once :func:`bazaar.wiring.pricing.build_pricing`
    plugs it in.
    """
    settings, db, clock = container.settings, container.db, container.clock
    default_shipping = default_rule(
        settings.currency, settings.shipping_default_amount, settings.shipping_default_free_over
    )
    container.carts = CartService(
        db,
        container.uow,
        clock,
        container.catalog.checkout_offers,
        QuoteSettings(DEFAULT_TAX_TABLE, settings.prices_include_tax, (default_shipping,)),
        currency=settings.currency,
        ttl_s=settings.cart_ttl_s,
    )
    container.cart_housekeeping = CartHousekeeping(
        db,
        container.uow,
        clock,
        abandoned_after_s=settings.cart_abandoned_after_s,
        on_abandoned=lambda count: container.metrics.carts_abandoned.inc(count),
    )
    container.checkout_rules = CheckoutRulesService(
        db,
        container.uow,
        clock,
        currency=settings.currency,
        default_shipping=(default_shipping,),
        fulfiller_exists=lambda fid: bool(container.taxonomy.fulfillers([fid])),
        category_id_of=lambda ref: container.taxonomy.get_category(ref).id,
    )
