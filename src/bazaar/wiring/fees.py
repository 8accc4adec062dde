"""Fees: the fee schedule, the double-entry ledger and seller payout runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bazaar.fees.payout_service import PayoutRules, PayoutService
from bazaar.fees.ports import EverySellerActive
from bazaar.fees.schedule_service import FeeDefaults, FeeScheduleService
from bazaar.fees.service import LedgerService
from bazaar.fees.sources import (
    CategoriesThroughTaxonomy,
    OfferListingActivity,
    OrdersThroughService,
    RefundsThroughPayments,
)

if TYPE_CHECKING:
    from bazaar.bootstrap import Container


def build_fees(container: Container) -> None:
    """The ledger, its fee schedule and payout runs, reading other contexts through ports.

    Payout runs ask for sellers' statuses when they run: every seller counts as active until
    :func:`bazaar.wiring.sellers.build_sellers` puts the sellers context in its place.
    """
    settings = container.settings
    container.fee_schedules = FeeScheduleService(
        container.db,
        container.uow,
        container.clock,
        FeeDefaults(
            currency=settings.currency,
            commission_rate=settings.commission_rate,
            commission_minimum=settings.commission_minimum,
            order_fee=settings.order_fee,
            monthly_listing_fee=settings.monthly_listing_fee,
        ),
    )
    container.ledger = LedgerService(
        container.db,
        container.clock,
        container.uow,
        fee_schedule=container.fee_schedules.current,
        orders=OrdersThroughService(container.orders),
        categories=CategoriesThroughTaxonomy(container.taxonomy),
        refunds=RefundsThroughPayments(container.db, container.payments),
        listings=OfferListingActivity(container.db),
    )
    container.seller_directory = EverySellerActive()
    container.payouts = PayoutService(
        container.db,
        container.clock,
        container.uow,
        PayoutRules(
            currency=settings.currency,
            hold_days=settings.payout_hold_days,
            minimum=settings.payout_minimum,
            weekday=settings.payout_weekday,
            return_window_days=settings.return_window_days,
        ),
        sellers=lambda: container.seller_directory,
    )
