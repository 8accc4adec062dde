"""Sellers: onboarding, seller accounts and members, and the status gate of seller routes."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import TYPE_CHECKING

from bazaar.sellers import handlers as seller_handlers
from bazaar.sellers.accounts import SellerAccounts
from bazaar.sellers.catalog_adapter import CatalogOffers, SellerCategories, SellerFulfillers
from bazaar.sellers.offer_visibility import OfferVisibility
from bazaar.sellers.payout_accounts import PayoutAccounts
from bazaar.sellers.service import OnboardingRules, SellerService
from bazaar.sellers.status_gate import SellerStatusGate

if TYPE_CHECKING:
    from bazaar.bootstrap import Container


def build_sellers(container: Container, payout_accounts: PayoutAccounts) -> None:
    """Seller onboarding and accounts; seller statuses feed payout runs.

    IBANs are fingerprinted under ``seller_iban_key`` (or a key derived from the secret key),
    which finds two sellers paid into the same account without keeping the IBAN.
    """
    settings = container.settings
    iban_key = (
        settings.seller_iban_key
        or hmac.new(
            settings.secret_key.encode(), b"bazaar.sellers.iban-fingerprint", hashlib.sha256
        ).hexdigest()
    )
    container.sellers = SellerService(
        container.db,
        container.uow,
        container.clock,
        container.limiter,
        container.cursors,
        OnboardingRules(
            terms_version=settings.seller_terms_version,
            restricted_categories=settings.seller_restricted_categories,
            iban_key=iban_key.encode(),
            applications_per_hour=settings.seller_applications_per_hour,
            invitation_ttl=timedelta(seconds=settings.seller_invitation_ttl_s),
        ),
        categories=SellerCategories(container.taxonomy),
        payout_accounts=payout_accounts,
    )
    container.seller_accounts = SellerAccounts(
        container.db,
        container.uow,
        container.clock,
        container.cursors,
        container.identity,
        invitation_ttl=timedelta(seconds=settings.seller_invitation_ttl_s),
    )
    container.seller_directory = container.sellers
    container.seller_gate = SellerStatusGate(container.db)
    seller_handlers.register(
        container.handlers,
        visibility=OfferVisibility(container.db, container.clock, CatalogOffers(container.catalog)),
        trading_name=container.sellers.trading_name,
        ensure_fulfiller=SellerFulfillers(container.taxonomy).ensure,
    )
