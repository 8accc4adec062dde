"""Seller onboarding against real databases: what is stored, what reaches the payout
provider, the statuses port for payout runs, and offer visibility under redelivery."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

from bazaar.bootstrap import Container, build
from bazaar.catalog.drafts import OfferDraft
from bazaar.catalog.model import OfferStatus, VariantDraft
from bazaar.checkout.addresses import Address
from bazaar.fees.ports import SellerDirectory
from bazaar.kernel.errors import Conflict
from bazaar.kernel.money import Money
from bazaar.sellers.application import ApplicationInput
from bazaar.sellers.catalog_adapter import CatalogOffers
from bazaar.sellers.iban import Iban
from bazaar.sellers.offer_visibility import OfferVisibility
from bazaar.sellers.views import SubmittedApplication
from tests.support.factories import Account, ensure_category, make_product
from tests.support.factories import test_settings as make_settings

NL_IBAN = "NL91ABNA0417164300"
DE_IBAN = "DE89370400440532013000"


@dataclass
class RecordingProvider:
    """A payout provider that remembers what it was handed."""

    registered: list[tuple[str, str]] = field(default_factory=list)

    def register(self, seller_id: str, iban: Iban) -> str | None:
        self.registered.append((seller_id, iban.compact))
        return f"acct_{len(self.registered)}"


@pytest.fixture
def provider() -> RecordingProvider:
    return RecordingProvider()


@pytest.fixture
def container(db_url: str, tmp_path: Path, provider: RecordingProvider) -> Iterator[Container]:
    c = build(make_settings(db_url, tmp_path), payout_accounts=provider)
    yield c
    c.close()


def application(**changes: object) -> ApplicationInput:
    values: dict[str, object] = {
        "legal_name": "Koffie Kopen B.V.",
        "trading_name": "Koffie Kopen",
        "country": "NL",
        "email": "sales@koffiekopen.nl",
        "return_address": Address("Retouren", "Keizersgracht 1", "1015 AA", "Amsterdam", "NL"),
        "payout_iban": NL_IBAN,
        "categories": ["food/coffee"],
        "terms_version": "2026-01",
        "vat_number": "NL004495445B01",
    }
    values.update(changes)
    return ApplicationInput(**values)  # type: ignore[arg-type]


def submit(container: Container, **changes: object) -> SubmittedApplication:
    return container.sellers.apply(application(**changes), [], client_ip="127.0.0.1")


def test_the_provider_gets_the_iban_and_the_database_only_its_mask(
    container: Container, operator: Account, provider: RecordingProvider
) -> None:
    # given an application
    ensure_category(container, operator, "food/coffee")
    submitted = submit(container)
    seller_id = submitted.view.seller.id
    # then the payout provider received the full IBAN, once
    assert provider.registered == [(seller_id, NL_IBAN)]
    # and the row keeps the mask, the fingerprint and the provider's reference, and the
    # application token only as a hash
    with container.db.read() as conn:
        row = conn.execute(sa.text("SELECT * FROM sellers")).mappings().one()
    assert (row["iban_masked"], row["payout_account_ref"]) == ("**** 4300", "acct_1")
    assert len(row["iban_fingerprint"]) == 64
    assert NL_IBAN[4:] not in repr(dict(row))
    assert submitted.application_token not in repr(dict(row))


def test_resubmitting_the_same_account_keeps_its_reference(
    container: Container, operator: Account, provider: RecordingProvider
) -> None:
    ensure_category(container, operator, "food/coffee")
    submitted = submit(container)
    seller_id, token = submitted.view.seller.id, submitted.application_token
    container.sellers.request_changes(operator.principal, seller_id, ["Fix the name"])
    # when resubmitted with the same IBAN typed differently, the provider is not called
    again = container.sellers.resubmit(
        seller_id, token, application(payout_iban="nl91 abna 0417 1643 00"), []
    )
    assert again.record.payout_account.reference == "acct_1"
    assert len(provider.registered) == 1
    # when resubmitted with another account, it is registered and its reference kept
    container.sellers.request_changes(operator.principal, seller_id, ["Other account"])
    moved = container.sellers.resubmit(seller_id, token, application(payout_iban=DE_IBAN), [])
    assert moved.record.payout_account.reference == "acct_2"
    assert moved.record.payout_account.masked == "**** 3000"
    assert provider.registered[-1] == (seller_id, DE_IBAN)


def test_screening_finds_candidates_through_its_indexes_and_never_itself(
    container: Container, operator: Account
) -> None:
    # given two applications with the same VAT number
    ensure_category(container, operator, "food/coffee")
    first = submit(container)
    first_id = first.view.seller.id
    second = submit(container, email="info@other.example", payout_iban=DE_IBAN)
    second_id = second.view.seller.id
    assert [(f.code.value, f.seller_ids) for f in second.view.findings] == [
        ("duplicate_vat_number", (first_id,))
    ]
    # when the first is resubmitted, then it is screened against the second, not itself
    container.sellers.request_changes(operator.principal, first_id, ["Anything"])
    again = container.sellers.resubmit(first_id, first.application_token, application(), [])
    assert [(f.code.value, f.seller_ids) for f in again.findings] == [
        ("duplicate_vat_number", (second_id,))
    ]


def test_statuses_feed_payout_runs(container: Container, operator: Account) -> None:
    ensure_category(container, operator, "food/coffee")
    directory: SellerDirectory = container.seller_directory
    active = submit(container).view.seller.id
    pending = submit(container, payout_iban=DE_IBAN).view.seller.id
    container.sellers.approve(operator.principal, active)
    container.sellers.suspend(operator.principal, active, "Chargebacks")
    assert directory.statuses([active, pending, "sel_unknown", "retailer"]) == {
        active: "suspended",
        pending: "applied",
    }


def test_offer_visibility_converges_whatever_the_delivery_order(
    container: Container, operator: Account
) -> None:
    # given an active seller with an active offer and one it switched off itself
    ensure_category(container, operator, "food/coffee")
    seller_id = submit(container).view.seller.id
    container.sellers.approve(operator.principal, seller_id)
    container.dispatcher.drain()
    shown, off = (
        make_product(
            container,
            operator,
            category="food/coffee",
            variants=[VariantDraft(sku)],
            offers=[
                OfferDraft(sku, Money(1500, "EUR"), stock=3, fulfiller_id=seller_id, status=status)
            ],
        ).id
        for sku, status in (("VIS-1", OfferStatus.ACTIVE), ("VIS-2", OfferStatus.INACTIVE))
    )

    def statuses() -> dict[str, str]:
        views = {pid: container.catalog.product_view(pid, staff=True) for pid in (shown, off)}
        return {pid: v.offers[0].status.value for pid, v in views.items()}

    # when suspended, and the handler runs twice (a redelivery)
    container.sellers.suspend(operator.principal, seller_id, "Complaints")
    container.dispatcher.drain()
    _sync(container, seller_id)
    assert statuses() == {shown: "inactive", off: "inactive"}
    # when reinstated, only the offer the suspension hid comes back, however often synced
    container.sellers.reinstate(operator.principal, seller_id)
    container.dispatcher.drain()
    _sync(container, seller_id)
    assert statuses() == {shown: "active", off: "inactive"}
    with container.db.read() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM seller_hidden_offers")).scalar() == 0


def _sync(container: Container, seller_id: str) -> None:
    """Run the visibility handler for ``seller_id`` again, as a redelivered event would."""
    OfferVisibility(container.db, container.clock, CatalogOffers(container.catalog)).sync(seller_id)


def test_a_seller_member_account_cannot_be_made_for_a_taken_address(
    container: Container, operator: Account
) -> None:
    # given the contact address already has a customer account
    ensure_category(container, operator, "food/coffee")
    container.identity.register_customer("sales@koffiekopen.nl", "a long enough password")
    submitted = submit(container)
    seller_id = submitted.view.seller.id
    container.sellers.approve(operator.principal, seller_id)
    # when the applicant creates the owner's account, then it is a conflict on the email
    with pytest.raises(Conflict) as caught:
        container.seller_accounts.create_owner_account(
            seller_id, submitted.application_token, "a long enough password"
        )
    assert [e.field for e in caught.value.errors] == ["email"]
    # and the invitation was released, not spent: it can be used once the address is free
    with container.db.read() as conn:
        accepted = conn.execute(sa.text("SELECT accepted_at FROM seller_members")).scalar()
    assert accepted is None
