"""Pricing: the quote engine carts and checkout price with, shelf prices on catalog pages,
and the staff's pricing administration."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bazaar.catalog import handlers as catalog_handlers
from bazaar.catalog.shelf_index import ShelfIndex
from bazaar.kernel.errors import NotFound
from bazaar.orders.store import orders as orders_table
from bazaar.pricing.admin import PricingAdmin
from bazaar.pricing.cart_pricing import PricingEngine, orders_exist
from bazaar.pricing.model import PricingRules
from bazaar.pricing.ports import CatalogLookups
from bazaar.pricing.rules import RulesCache
from bazaar.pricing.shelf import ShelfPricing

if TYPE_CHECKING:
    from bazaar.bootstrap import Container


def build_pricing(container: Container) -> None:
    """Quotes and shelf prices read this process's compiled rules (the rules cache); staff
    pricing checks the ids rules name through the catalog's services.

    The engine is plugged into carts here; checkout takes it when it is built.
    """
    db, clock = container.db, container.clock
    taxonomy = container.taxonomy

    def category_exists(category_id: str) -> bool:
        try:
            return taxonomy.get_category(category_id).id == category_id
        except NotFound:
            return False

    def brand_exists(brand_id: str) -> bool:
        try:
            return taxonomy.get_brand(brand_id).id == brand_id
        except NotFound:
            return False

    container.pricing_rules = RulesCache(db)
    container.pricing = PricingEngine(
        db, clock, PricingRules, channel_id="web", has_ordered=orders_exist(orders_table)
    )
    container.carts.use_pricing(container.pricing, container.pricing)
    container.pricing.use_rules(container.pricing_rules.get)
    container.shelf_pricing = ShelfPricing(
        db,
        clock,
        container.pricing_rules,
        currency=container.settings.currency,
        channel_id="web",
        log_exposures=container.pricing.record_exposures,
    )
    # Sorting, filtering and faceting by price follow guest prices: after a staff change
    # here, and in workers with every rules refresh (see build_workers).
    container.shelf_index = ShelfIndex(
        db,
        clock,
        container.pricing_rules,
        container.catalog.reindex_in,
        lambda ids: catalog_handlers.invalidate_products(container.pages, ids),
        currency=container.settings.currency,
        channel_id="web",
    )
    container.pricing_admin = PricingAdmin(
        db,
        container.uow,
        clock,
        container.cursors,
        container.pricing_rules,
        CatalogLookups(
            offers=container.catalog.checkout_offers,
            product_exists=container.catalog.product_exists,
            category_exists=category_exists,
            brand_exists=brand_exists,
            fulfiller_exists=lambda fid: bool(taxonomy.fulfillers([fid])),
        ),
        currency=container.settings.currency,
        on_rules_changed=container.shelf_index.sync,
    )
