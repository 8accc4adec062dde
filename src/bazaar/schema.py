"""Every context's tables on the one shared ``MetaData``, for Alembic and for tests.

Importing a context's ``store`` module registers its tables; list each one here.
"""

from __future__ import annotations

from bazaar.carts import rules_store as _checkout_rules  # noqa: F401
from bazaar.carts import store as _carts  # noqa: F401
from bazaar.catalog import import_store as _import_store  # noqa: F401
from bazaar.catalog import shelf_store as _shelf_marks  # noqa: F401
from bazaar.catalog import store as _catalog  # noqa: F401
from bazaar.fees import payout_store as _payouts  # noqa: F401
from bazaar.fees import settlement_store as _settlements  # noqa: F401
from bazaar.fees import store as _ledger  # noqa: F401
from bazaar.identity import store as _identity  # noqa: F401
from bazaar.infra import idempotency as _idempotency  # noqa: F401
from bazaar.infra import outbox as _outbox  # noqa: F401
from bazaar.infra.db import metadata
from bazaar.inventory import store as _inventory  # noqa: F401
from bazaar.jobs import store as _jobs  # noqa: F401
from bazaar.listings import feed_store as _listing_feeds  # noqa: F401
from bazaar.listings import store as _listings  # noqa: F401
from bazaar.media import store as _media  # noqa: F401
from bazaar.orders import deferred_refunds as _deferred_refunds  # noqa: F401
from bazaar.orders import fulfillment_store as _fulfillments  # noqa: F401
from bazaar.orders import returns_store as _returns  # noqa: F401
from bazaar.orders import store as _orders  # noqa: F401
from bazaar.payments import store as _payments  # noqa: F401
from bazaar.pricing import admin_store as _pricing_admin  # noqa: F401
from bazaar.pricing import experiment_store as _pricing_experiments  # noqa: F401
from bazaar.pricing import store as _pricing  # noqa: F401
from bazaar.search import store as _search  # noqa: F401
from bazaar.sellers import member_store as _seller_members  # noqa: F401
from bazaar.sellers import store as _sellers  # noqa: F401
from bazaar.webhooks import store as _webhooks  # noqa: F401

__all__ = ["metadata"]
