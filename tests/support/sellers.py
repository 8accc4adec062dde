"""Sellers on file for tests of other contexts: listings, fulfillment and statements check
the seller's status, so their sellers must exist in the sellers context."""

from __future__ import annotations

import secrets
from dataclasses import replace

from bazaar.bootstrap import Container
from bazaar.checkout.addresses import Address
from bazaar.sellers import store
from bazaar.sellers.application import ApplicationRecord, PayoutAccount
from bazaar.sellers.model import Seller, SellerStatus


def put_seller_on_file(
    container: Container, seller_id: str, status: SellerStatus = SellerStatus.ACTIVE
) -> str:
    """Store ``seller_id`` in ``status`` as onboarding would have left it; return the id.

    A shortcut past the application flow (tested in ``tests/api/test_sellers.py``) for tests
    that only need a seller's standing.
    """
    record = ApplicationRecord(
        legal_name=f"Seller {seller_id} B.V.",
        trading_name=f"Seller {seller_id}",
        country="NL",
        email=f"{seller_id}@sellers.example",
        return_address=Address("Returns", "Kade 1", "1011 AA", "Amsterdam", "NL"),
        payout_account=PayoutAccount("**** 0000", secrets.token_hex(32)),
        categories=(),
        terms_version="test",
    )
    seller = Seller(seller_id, record, status=status)
    with container.db.write() as conn:
        store.insert_seller(
            conn, seller, (), token_hash=secrets.token_hex(32), now=container.clock.now()
        )
    return seller_id


def set_seller_status(container: Container, seller_id: str, status: SellerStatus) -> None:
    """Move a seller on file to ``status`` directly, as an operator decision would."""
    with container.db.write() as conn:
        row = store.get_seller(conn, seller_id)
        assert row is not None, seller_id
        seller = replace(row.seller, status=status)
        store.update_seller(conn, seller, row.findings, now=container.clock.now(), decided=True)
