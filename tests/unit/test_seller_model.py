"""Sellers: validating and filing applications, screening, documents, members, statuses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bazaar.checkout.addresses import Address
from bazaar.kernel.errors import Conflict, ValidationFailed
from bazaar.sellers.application import (
    ApplicationInput,
    SellerApplication,
    keep_on_file,
    validate_application,
)
from bazaar.sellers.documents import SellerDocument, check_documents
from bazaar.sellers.events import (
    ChangesRequested,
    SellerApplicationResubmitted,
    SellerApplied,
    SellerApproved,
    SellerClosed,
    SellerReinstated,
    SellerRejected,
    SellerSuspended,
)
from bazaar.sellers.iban import iban_fingerprint, parse_iban
from bazaar.sellers.members import Member, MemberRole, check_seller_scopes, seller_scopes
from bazaar.sellers.model import (
    SELLER_TRANSITIONS,
    ApprovalBlocked,
    Changed,
    IllegalTransition,
    Seller,
    SellerStatus,
)
from bazaar.sellers.screening import Finding, FindingCode, KnownSeller, screen_application
from bazaar.sellers.tax_ids import VatNumber

TERMS = "2024-06"
KEY = b"fingerprint-key-for-tests"


def application_input(**changes: object) -> ApplicationInput:
    data = ApplicationInput(
        legal_name="  Koffie   Kopen B.V. ",
        trading_name="Koffie Kopen",
        country="nl",
        email="Sales@KoffieKopen.NL",
        return_address=Address(
            name="Koffie Kopen Retouren",
            line1="Keizersgracht 1",
            postcode="1015aa",
            city="Amsterdam",
            country="NL",
        ),
        payout_iban="nl91 abna 0417 1643 00",
        categories=["cat_coffee", "cat_kitchen"],
        terms_version=TERMS,
        vat_number="NL 004495445 B01",
    )
    return replace(data, **changes)  # type: ignore[arg-type]


def application(**changes: object) -> SellerApplication:
    return validate_application(application_input(**changes), terms_version=TERMS)


def errors_of(call: Callable[[], object]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as caught:
        call()
    return [(e.field, e.code) for e in caught.value.errors]


# -- validation ---------------------------------------------------------------------------------


def test_a_valid_application_comes_back_normalised() -> None:
    app = application()
    assert app.legal_name == "Koffie Kopen B.V."
    assert app.country == "NL"
    assert app.email == "Sales@koffiekopen.nl"
    assert app.email_domain == "koffiekopen.nl"
    assert app.vat_number == VatNumber("NL", "NL", "004495445B01")
    assert app.company_number is None
    assert app.return_address.postcode == "1015 AA"
    assert app.payout_iban.compact == "NL91ABNA0417164300"
    assert app.categories == ("cat_coffee", "cat_kitchen")
    assert app.terms_version == TERMS


def test_the_payout_account_does_not_print_with_the_application() -> None:
    assert "0417164300" not in repr(application())


def test_every_problem_is_reported_at_once() -> None:
    bad = application_input(
        legal_name=" ",
        trading_name="x" * 101,
        country="Netherlands",
        email="not an email",
        return_address=Address(name="", line1="", postcode="", city="", country="NL"),
        payout_iban="NL92ABNA0417164300",
        categories=["cat_coffee", " cat_coffee "],
        terms_version="2023-01",
    )
    assert errors_of(lambda: validate_application(bad, terms_version=TERMS)) == [
        ("legal_name", "required"),
        ("trading_name", "too_long"),
        ("country", "unknown_country"),
        ("email", "invalid_email"),
        ("return_address.name", "required"),
        ("return_address.line1", "required"),
        ("return_address.city", "required"),
        ("return_address.postcode", "required"),
        ("payout_iban", "invalid_check_digit"),
        ("categories[1]", "duplicate"),
        ("terms_version", "outdated_terms"),
    ]


def test_the_vat_number_must_belong_to_the_sellers_country() -> None:
    assert errors_of(lambda: application(vat_number="DE136695976")) == [
        ("vat_number", "country_mismatch")
    ]


def test_a_vat_number_or_a_company_number_is_required() -> None:
    assert errors_of(lambda: application(vat_number=None)) == [("vat_number", "required")]
    assert errors_of(lambda: application(vat_number="  ", company_number="")) == [
        ("vat_number", "required")
    ]


def test_a_company_number_alone_is_enough() -> None:
    app = application(vat_number=None, company_number="1234 5678")
    assert app.vat_number is None
    assert app.company_number is not None
    assert app.company_number.number == "12345678"


def test_categories_must_be_given_and_not_blank() -> None:
    assert errors_of(lambda: application(categories=[])) == [("categories", "required")]
    assert errors_of(lambda: application(categories=["cat_a", " "])) == [
        ("categories[1]", "required")
    ]


def test_terms_must_be_accepted() -> None:
    assert errors_of(lambda: application(terms_version="")) == [("terms_version", "required")]


# -- screening ----------------------------------------------------------------------------------


def test_a_fresh_applicant_has_no_findings() -> None:
    app = application()
    others = [KnownSeller("sel_other", "DE136695976", "f" * 64, "example.com")]
    findings = screen_application(app, others, restricted_categories={}, documents=(), iban_key=KEY)
    assert findings == []


def test_duplicates_by_vat_number_payout_account_and_email_domain() -> None:
    # Given three sellers, each sharing one thing with the applicant
    app = application()
    fingerprint = iban_fingerprint(parse_iban("NL91ABNA0417164300"), KEY)
    existing = [
        KnownSeller("sel_b", vat_number="NL004495445B01"),
        KnownSeller("sel_c", iban_fingerprint=fingerprint),
        KnownSeller("sel_d", email_domain="koffiekopen.nl"),
        KnownSeller("sel_a", vat_number="NL004495445B01", email_domain="koffiekopen.nl"),
    ]
    # When the application is screened
    findings = screen_application(
        app, existing, restricted_categories={}, documents=(), iban_key=KEY
    )
    # Then each duplicate is named, with the other sellers' ids, and none blocks approval
    assert [(f.code, f.field, f.seller_ids, f.blocks_approval) for f in findings] == [
        (FindingCode.DUPLICATE_VAT_NUMBER, "vat_number", ("sel_a", "sel_b"), False),
        (FindingCode.DUPLICATE_PAYOUT_ACCOUNT, "payout_iban", ("sel_c",), False),
        (FindingCode.DUPLICATE_EMAIL_DOMAIN, "email", ("sel_a", "sel_d"), False),
    ]
    assert findings[1].message == "Another seller has the same payout account: sel_c"


def test_webmail_domains_are_not_duplicates() -> None:
    app = application(email="koffie.kopen@gmail.com")
    existing = [KnownSeller("sel_b", email_domain="gmail.com")]
    assert (
        screen_application(app, existing, restricted_categories={}, documents=(), iban_key=KEY)
        == []
    )


def test_the_webmail_list_can_be_replaced() -> None:
    app = application()
    existing = [KnownSeller("sel_b", email_domain="koffiekopen.nl")]
    findings = screen_application(
        app,
        existing,
        restricted_categories={},
        documents=(),
        iban_key=KEY,
        webmail_domains={"KoffieKopen.NL"},
    )
    assert findings == []


def test_a_resubmitted_application_is_not_its_own_duplicate() -> None:
    app = application()
    itself = KnownSeller("sel_me", vat_number="NL004495445B01", email_domain="koffiekopen.nl")
    findings = screen_application(
        app, [itself], restricted_categories={}, documents=(), iban_key=KEY, applicant_id="sel_me"
    )
    assert findings == []


def test_restricted_categories_need_their_documents() -> None:
    app = application(categories=["cat_coffee", "cat_wine", "cat_tobacco"])
    restricted = {"cat_wine": {"alcohol_licence"}, "cat_tobacco": {"tobacco_licence", "age_check"}}
    findings = screen_application(
        app, [], restricted_categories=restricted, documents={"alcohol_licence"}, iban_key=KEY
    )
    assert findings == [
        Finding(
            FindingCode.DOCUMENTS_MISSING,
            "categories[2]",
            "Category cat_tobacco is restricted: provide age_check, tobacco_licence",
            blocks_approval=True,
        )
    ]


# -- the status machine -------------------------------------------------------------------------


def new_seller() -> Seller:
    return Seller.apply("sel_1", application()).value


def test_applying_records_the_application_without_contact_or_payout_details() -> None:
    changed = Seller.apply("sel_1", application())
    assert changed.value.status is SellerStatus.APPLIED
    assert changed.events == (
        SellerApplied(
            seller_id="sel_1",
            trading_name="Koffie Kopen",
            country="NL",
            categories=("cat_coffee", "cat_kitchen"),
        ),
    )
    payload = changed.events[0].payload()
    assert not {"email", "payout_iban", "vat_number"} & set(payload)
    assert changed.events[0].audience() == ("seller:sel_1",)


def test_approve_suspend_reinstate_close() -> None:
    # Given an applicant
    seller = new_seller()
    assert not seller.offers_visible
    # When approved, it sells
    approved = seller.approve()
    assert approved.events == (
        SellerApproved(seller_id="sel_1", categories=("cat_coffee", "cat_kitchen")),
    )
    seller = approved.value
    assert (seller.status, seller.offers_visible, seller.payouts_held) == (
        SellerStatus.ACTIVE,
        True,
        False,
    )
    # When suspended, its offers hide and its payouts are held
    suspended = seller.suspend("Counterfeit complaints")
    seller = suspended.value
    assert suspended.events == (
        SellerSuspended(seller_id="sel_1", reason="Counterfeit complaints"),
    )
    assert (seller.status, seller.offers_visible, seller.payouts_held) == (
        SellerStatus.SUSPENDED,
        False,
        True,
    )
    assert seller.status_reason == "Counterfeit complaints"
    # When reinstated, both come back
    reinstated = seller.reinstate()
    seller = reinstated.value
    assert reinstated.events == (SellerReinstated(seller_id="sel_1"),)
    assert (seller.status, seller.offers_visible, seller.payouts_held, seller.status_reason) == (
        SellerStatus.ACTIVE,
        True,
        False,
        None,
    )
    # When closed, that is final
    closed = seller.close("Stopped trading")
    assert closed.events == (SellerClosed(seller_id="sel_1", reason="Stopped trading"),)
    assert closed.value.status is SellerStatus.CLOSED
    with pytest.raises(IllegalTransition):
        closed.value.reinstate()


def test_changes_requested_then_resubmitted() -> None:
    seller = new_seller()
    asked = seller.request_changes(["Upload a company registration extract", "Fix the IBAN"])
    assert asked.value.status is SellerStatus.CHANGES_REQUESTED
    assert asked.value.changes_requested == (
        "Upload a company registration extract",
        "Fix the IBAN",
    )
    assert asked.events == (
        ChangesRequested(
            seller_id="sel_1",
            changes=("Upload a company registration extract", "Fix the IBAN"),
        ),
    )
    corrected = application(payout_iban="DE89370400440532013000")
    resubmitted = asked.value.resubmit(corrected)
    assert resubmitted.value.status is SellerStatus.APPLIED
    assert resubmitted.value.application == corrected
    assert resubmitted.value.changes_requested == ()
    assert resubmitted.events == (
        SellerApplicationResubmitted(seller_id="sel_1", categories=corrected.categories),
    )


def test_rejection_closes_the_application_with_a_reason() -> None:
    rejected = new_seller().reject("  Outside our markets ")
    assert rejected.value.status is SellerStatus.CLOSED
    assert rejected.value.status_reason == "Outside our markets"
    assert rejected.events == (SellerRejected(seller_id="sel_1", reason="Outside our markets"),)


def test_decisions_need_their_reasons() -> None:
    seller = new_seller()
    assert errors_of(lambda: seller.reject(" ")) == [("reason", "required")]
    assert errors_of(lambda: seller.request_changes([])) == [("changes", "required")]
    assert errors_of(lambda: seller.request_changes(["ok", ""])) == [("changes[1]", "required")]


def test_a_blocking_finding_stops_approval() -> None:
    blocking = Finding(
        FindingCode.DOCUMENTS_MISSING, "categories[0]", "provide licence", blocks_approval=True
    )
    informative = Finding(FindingCode.DUPLICATE_EMAIL_DOMAIN, "email", "same domain", ("sel_2",))
    seller = new_seller()
    with pytest.raises(ApprovalBlocked) as caught:
        seller.approve([informative, blocking])
    assert isinstance(caught.value, Conflict)
    assert [(e.field, e.code) for e in caught.value.errors] == [
        ("categories[0]", "documents_missing")
    ]
    assert seller.approve([informative]).value.status is SellerStatus.ACTIVE


ACTIONS: dict[str, tuple[Callable[[Seller], Changed[Seller]], SellerStatus, set[SellerStatus]]] = {
    # action: (call, target status, statuses it may start from)
    "approve": (lambda s: s.approve(), SellerStatus.ACTIVE, {SellerStatus.APPLIED}),
    "reject": (
        lambda s: s.reject("no"),
        SellerStatus.CLOSED,
        {SellerStatus.APPLIED, SellerStatus.CHANGES_REQUESTED},
    ),
    "request_changes": (
        lambda s: s.request_changes(["more"]),
        SellerStatus.CHANGES_REQUESTED,
        {SellerStatus.APPLIED},
    ),
    "resubmit": (
        lambda s: s.resubmit(s.application),
        SellerStatus.APPLIED,
        {SellerStatus.CHANGES_REQUESTED},
    ),
    "suspend": (lambda s: s.suspend("why"), SellerStatus.SUSPENDED, {SellerStatus.ACTIVE}),
    "reinstate": (lambda s: s.reinstate(), SellerStatus.ACTIVE, {SellerStatus.SUSPENDED}),
    "close": (
        lambda s: s.close("bye"),
        SellerStatus.CLOSED,
        set(SellerStatus) - {SellerStatus.CLOSED},
    ),
}


@pytest.mark.parametrize("status", list(SellerStatus))
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_each_action_is_allowed_only_from_its_statuses(status: SellerStatus, action: str) -> None:
    call, target, sources = ACTIONS[action]
    seller = replace(new_seller(), status=status)
    if status in sources:
        changed = call(seller)
        assert changed.value.status is target
        assert target in SELLER_TRANSITIONS[status]
        assert len(changed.events) == 1
    else:
        with pytest.raises(IllegalTransition) as caught:
            call(seller)
        assert isinstance(caught.value, Conflict)
        assert caught.value.code == "illegal_transition"


@given(st.lists(st.sampled_from(sorted(ACTIONS)), max_size=12))
def test_any_sequence_of_actions_follows_the_transition_table(actions: list[str]) -> None:
    seller = new_seller()
    for action in actions:
        call, _, _ = ACTIONS[action]
        before = seller.status
        try:
            seller = call(seller).value
        except IllegalTransition:
            continue
        assert seller.status in SELLER_TRANSITIONS[before]
        assert seller.offers_visible == (seller.status is SellerStatus.ACTIVE)
        assert seller.payouts_held == (seller.status is SellerStatus.SUSPENDED)


# -- what is kept on file -----------------------------------------------------------------------


def test_an_application_is_filed_without_its_iban() -> None:
    record = keep_on_file(application(), iban_key=KEY, payout_reference="acct_1")
    assert record.payout_account.masked == "**** 4300"
    assert record.payout_account.reference == "acct_1"
    assert record.payout_account.fingerprint == iban_fingerprint(
        parse_iban("NL91ABNA0417164300"), KEY
    )
    assert (record.vat_number, record.email_domain) == ("NL004495445B01", "koffiekopen.nl")
    assert "0417164300" not in repr(record)


def test_a_filed_application_is_screened_by_its_stored_fingerprint() -> None:
    record = keep_on_file(application(), iban_key=KEY, payout_reference=None)
    twin = KnownSeller("sel_b", iban_fingerprint=record.payout_account.fingerprint)
    findings = screen_application(
        record, [twin], restricted_categories={}, documents=(), iban_key=b"another key"
    )
    assert [(f.code, f.seller_ids) for f in findings] == [
        (FindingCode.DUPLICATE_PAYOUT_ACCOUNT, ("sel_b",))
    ]


def test_a_seller_can_hold_its_filed_application() -> None:
    record = keep_on_file(application(), iban_key=KEY, payout_reference=None)
    changed = Seller.apply("sel_1", record)
    assert changed.value.approve().events == (
        SellerApproved(seller_id="sel_1", categories=("cat_coffee", "cat_kitchen")),
    )


# -- documents and members ----------------------------------------------------------------------


def test_documents_need_a_kind_once_and_an_https_reference() -> None:
    documents = [
        SellerDocument("alcohol_licence", "https://docs.example/licence.pdf"),
        SellerDocument("Alcohol Licence", "https://docs.example/2.pdf"),
        SellerDocument("alcohol_licence", "http://docs.example/licence.pdf"),
        SellerDocument("vat_certificate", ""),
    ]
    assert [(e.field, e.code) for e in check_documents(documents)] == [
        ("documents[1].kind", "invalid"),
        ("documents[2].kind", "duplicate"),
        ("documents[2].reference", "invalid_url"),
        ("documents[3].reference", "required"),
    ]
    assert check_documents(documents[:1]) == []


def test_seller_keys_carry_seller_scopes_known_to_identity() -> None:
    allowed = seller_scopes({"orders:read", "catalog:write", "webhooks:write"})
    assert allowed == {"orders:read", "webhooks:write"}
    check_seller_scopes(["orders:read"], allowed)
    assert errors_of(lambda: check_seller_scopes(["catalog:write"], allowed)) == [
        ("scopes", "unknown")
    ]


def test_an_invitation_is_accepted_once_before_it_expires() -> None:
    invited_at = datetime(2026, 1, 1, tzinfo=UTC)
    member = Member(
        "mbr_1",
        "sel_1",
        "ops@example.com",
        MemberRole.MEMBER,
        invited_at,
        invited_at + timedelta(days=14),
    )
    assert member.can_accept(invited_at + timedelta(days=13))
    assert not member.can_accept(invited_at + timedelta(days=14))
    assert not replace(member, accepted_at=invited_at).can_accept(invited_at)
