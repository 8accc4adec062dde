"""Seller onboarding over HTTP: apply, screening, the operator's decisions, the seller's
account (owner, members, API keys), suspension and reinstatement.

Each test runs on SQLite and PostgreSQL. The helpers at the top build applicants and
approved sellers in one call; the isolation walk (``test_seller_isolation``) uses them too.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container, build
from bazaar.catalog.drafts import OfferDraft
from bazaar.catalog.model import VariantDraft
from bazaar.http.app import create_app
from bazaar.kernel.money import Money
from bazaar.sellers.iban import mod97
from tests.support.assertions import assert_problem
from tests.support.factories import PASSWORD, Account, ensure_category, make_product, test_settings

TERMS = "2026-01"
RESTRICTED = {"food/wine": ["alcohol_licence"]}
_numbers = itertools.count(1)


def make_iban(country: str, bban: str) -> str:
    """A valid IBAN for ``bban``: the check digits worked out with the mod-97 rule."""
    check = 98 - mod97(f"{country}00{bban}")
    return f"{country}{check:02d}{bban}"


def fresh_iban() -> str:
    """A different valid Dutch IBAN on every call."""
    return make_iban("NL", f"ABNA{next(_numbers):010d}")


def application_json(**fields: Any) -> dict[str, Any]:
    """A valid ``POST /api/v1/seller-applications`` body (a Dutch coffee roaster)."""
    body: dict[str, Any] = {
        "legal_name": "Koffie Kopen B.V.",
        "trading_name": "Koffie Kopen",
        "country": "NL",
        "vat_number": "NL004495445B01",
        "email": "sales@koffiekopen.nl",
        "return_address": {
            "name": "Koffie Kopen Retouren",
            "line1": "Keizersgracht 1",
            "postcode": "1015 AA",
            "city": "Amsterdam",
            "country": "NL",
        },
        "payout_iban": "NL91 ABNA 0417 1643 00",
        "categories": ["food/coffee"],
        "terms_version": TERMS,
    }
    body.update(fields)
    return body


def other_application_json(**fields: Any) -> dict[str, Any]:
    """An application sharing nothing with :func:`application_json` (a German seller)."""
    n = next(_numbers)
    body = application_json(
        legal_name=f"Kaffeehaus {n} GmbH",
        trading_name=f"Kaffeehaus {n}",
        country="DE",
        vat_number=None,
        company_number=f"HRB{n:05d}",
        email=f"info@kaffeehaus{n}.de",
        return_address={
            "name": "Kaffeehaus",
            "line1": "Hauptstrasse 1",
            "postcode": "10115",
            "city": "Berlin",
            "country": "DE",
        },
        payout_iban=make_iban("DE", f"37040044{n:010d}"),
    )
    body.update(fields)
    return body


@dataclass(frozen=True)
class Applicant:
    id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Application-Token": self.token}


@dataclass(frozen=True)
class ApprovedSeller:
    id: str
    owner: dict[str, str]  # the owner's bearer headers
    key: dict[str, str]  # bearer headers of an API key with every seller scope
    key_id: str
    email: str
    application: dict[str, str]  # the Application-Token header of its application


SELLER_SCOPES = [
    "listings:write",
    "orders:read",
    "orders:write",
    "fulfillments:write",
    "statements:read",
    "webhooks:read",
    "webhooks:write",
]


def apply(client: TestClient, body: dict[str, Any]) -> Applicant:
    response = client.post("/api/v1/seller-applications", json=body)
    assert response.status_code == 201, response.text
    return Applicant(response.json()["id"], response.json()["application_token"])


def approve(client: TestClient, operator: Account, applicant: Applicant) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/admin/seller-applications/{applicant.id}/approve", headers=operator.headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def sign_in(client: TestClient, email: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def approved_seller(
    client: TestClient, container: Container, operator: Account, body: dict[str, Any]
) -> ApprovedSeller:
    """Apply, approve, create the owner's account, sign in and create a seller API key."""
    ensure_category(container, operator, "food/coffee")
    applicant = apply(client, body)
    approve(client, operator, applicant)
    owner = client.post(
        f"/api/v1/seller-applications/{applicant.id}/owner",
        json={"password": PASSWORD},
        headers=applicant.headers,
    )
    assert owner.status_code == 201, owner.text
    headers = sign_in(client, owner.json()["email"])
    key = client.post(
        "/api/v1/seller/api-keys",
        json={"name": "integration", "scopes": SELLER_SCOPES},
        headers=headers,
    )
    assert key.status_code == 201, key.text
    return ApprovedSeller(
        id=applicant.id,
        owner=headers,
        key={"Authorization": f"Bearer {key.json()['secret']}"},
        key_id=key.json()["id"],
        email=owner.json()["email"],
        application=applicant.headers,
    )


@pytest.fixture
def container(db_url: str, tmp_path: Path) -> Iterator[Container]:
    """The usual test container, with a restricted category (wine needs a licence)."""
    c = build(
        test_settings(
            db_url,
            tmp_path,
            seller_terms_version=TERMS,
            seller_restricted_categories=RESTRICTED,
        )
    )
    yield c
    c.close()


@pytest.fixture
def categories(container: Container, operator: Account) -> None:
    ensure_category(container, operator, "food/coffee")
    ensure_category(container, operator, "food/wine/red")


# --- applying ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("categories")
def test_an_invalid_application_is_a_422_naming_every_bad_field(client: TestClient) -> None:
    # when an application has a wrong VAT check digit, a wrong IBAN check digit and no email
    response = client.post(
        "/api/v1/seller-applications",
        json=application_json(
            vat_number="NL004495446B01",
            payout_iban="NL92ABNA0417164300",
            email="not an email",
            categories=["food/coffee", "no/such-category"],
            terms_version="2020-01",
        ),
    )
    # then each is named, with its code, and the IBAN is not repeated back
    problem = assert_problem(response, 422)
    assert {(e["field"], e["code"]) for e in problem["errors"]} == {
        ("vat_number", "invalid_check_digit"),
        ("payout_iban", "invalid_check_digit"),
        ("email", "invalid_email"),
        ("categories[1]", "unknown"),
        ("terms_version", "outdated_terms"),
    }
    assert "0417164300" not in response.text


def test_a_malformed_body_is_a_422_naming_the_field(client: TestClient) -> None:
    body = application_json()
    del body["payout_iban"]
    problem = assert_problem(client.post("/api/v1/seller-applications", json=body), 422)
    assert [e["field"] for e in problem["errors"]] == ["payout_iban"]


@pytest.mark.usefixtures("categories")
def test_an_application_is_received_and_followed_with_its_token(client: TestClient) -> None:
    # when a business applies
    response = client.post("/api/v1/seller-applications", json=application_json())
    # then it is filed as applied, the IBAN masked, and a token returned once
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"/api/v1/seller-applications/{body['id']}"
    assert body["status"] == "applied"
    assert body["payout_account"] == {"iban_masked": "**** 4300"}
    assert body["vat_number"] == "NL004495445B01"
    assert body["categories"][0].startswith("cat_")
    assert body["application_token"].startswith("bza_")
    # and the applicant follows it with the token; without it, it does not exist
    token = {"Application-Token": body["application_token"]}
    path = f"/api/v1/seller-applications/{body['id']}"
    followed = client.get(path, headers=token)
    assert followed.status_code == 200
    assert "application_token" not in followed.json()
    assert_problem(client.get(path), 404)
    assert_problem(client.get(path, headers={"Application-Token": "bza_wrong"}), 404)


@pytest.mark.usefixtures("categories")
def test_screening_reports_duplicates_to_the_operator_only(
    client: TestClient, operator: Account
) -> None:
    # given three sellers on file, each sharing one thing with the next applicant
    vat_twin = apply(client, application_json(email="a@elsewhere.nl", payout_iban=fresh_iban()))
    iban_twin = apply(
        client,
        other_application_json(payout_iban="NL91ABNA0417164300"),
    )
    domain_twin = apply(
        client, other_application_json(email="info@koffiekopen.nl", payout_iban=fresh_iban())
    )
    # when the applicant applies
    applicant = apply(client, application_json())
    # then the operator sees each duplicate with the other seller's id; none blocks approval
    review = client.get(
        f"/api/v1/admin/seller-applications/{applicant.id}", headers=operator.headers
    ).json()
    assert [
        (f["code"], f["field"], f["seller_ids"], f["blocks_approval"]) for f in review["findings"]
    ] == [
        ("duplicate_vat_number", "vat_number", [vat_twin.id], False),
        ("duplicate_payout_account", "payout_iban", [iban_twin.id], False),
        ("duplicate_email_domain", "email", [domain_twin.id], False),
    ]
    # and the applicant sees nothing of the other sellers
    own = client.get(f"/api/v1/seller-applications/{applicant.id}", headers=applicant.headers)
    assert own.json()["requirements"] == []
    for other in (vat_twin, iban_twin, domain_twin):
        assert other.id not in own.text
    # and the queue lists applications by status
    queue = client.get(
        "/api/v1/admin/seller-applications?status=applied&limit=2", headers=operator.headers
    ).json()
    assert [item["id"] for item in queue["items"]] == [vat_twin.id, iban_twin.id]
    rest = client.get(
        "/api/v1/admin/seller-applications",
        params={"status": "applied", "limit": 2, "cursor": queue["next_cursor"]},
        headers=operator.headers,
    ).json()
    assert [item["id"] for item in rest["items"]] == [domain_twin.id, applicant.id]


def test_applications_are_throttled_per_client(db_url: str, tmp_path: Path) -> None:
    c = build(test_settings(db_url, tmp_path, seller_applications_per_hour=2))
    try:
        with TestClient(create_app(c, run_dispatcher=False)) as client:
            bad = application_json(legal_name="")
            codes = [
                client.post("/api/v1/seller-applications", json=bad).status_code for _ in range(3)
            ]
            assert codes == [422, 422, 429]
    finally:
        c.close()


# --- deciding ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("categories")
def test_a_restricted_category_needs_its_documents_before_approval(
    client: TestClient, operator: Account
) -> None:
    # given an applicant for red wine (below the restricted food/wine) without a licence
    applicant = apply(client, application_json(categories=["food/coffee", "food/wine/red"]))
    own = client.get(f"/api/v1/seller-applications/{applicant.id}", headers=applicant.headers)
    assert [(r["code"], r["field"]) for r in own.json()["requirements"]] == [
        ("documents_missing", "categories[1]")
    ]
    # when the operator approves, then approval is blocked, naming the category
    admin = f"/api/v1/admin/seller-applications/{applicant.id}"
    blocked = assert_problem(client.post(f"{admin}/approve", headers=operator.headers), 409)
    assert blocked["code"] == "approval_blocked"
    assert [(e["field"], e["code"]) for e in blocked["errors"]] == [
        ("categories[1]", "documents_missing")
    ]
    # when the operator asks for the licence and the applicant resubmits with it
    asked = client.post(
        f"{admin}/request-changes",
        json={"changes": ["Upload your alcohol licence"]},
        headers=operator.headers,
    )
    assert asked.json()["status"] == "changes_requested"
    own = client.get(f"/api/v1/seller-applications/{applicant.id}", headers=applicant.headers)
    assert own.json()["changes_requested"] == ["Upload your alcohol licence"]
    corrected = application_json(
        categories=["food/coffee", "food/wine/red"],
        documents=[{"kind": "alcohol_licence", "reference": "https://docs.example/licence.pdf"}],
    )
    resubmitted = client.put(
        f"/api/v1/seller-applications/{applicant.id}", json=corrected, headers=applicant.headers
    )
    assert resubmitted.status_code == 200, resubmitted.text
    assert resubmitted.json()["status"] == "applied"
    assert resubmitted.json()["requirements"] == []
    # then it can be approved
    approved = client.post(f"{admin}/approve", headers=operator.headers)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "active"
    assert approved.json()["documents"] == [
        {"kind": "alcohol_licence", "reference": "https://docs.example/licence.pdf"}
    ]


@pytest.mark.usefixtures("categories")
def test_resubmitting_is_only_for_requested_changes(client: TestClient) -> None:
    applicant = apply(client, application_json())
    response = client.put(
        f"/api/v1/seller-applications/{applicant.id}",
        json=application_json(),
        headers=applicant.headers,
    )
    assert assert_problem(response, 409)["code"] == "illegal_transition"


@pytest.mark.usefixtures("categories")
def test_a_rejection_closes_the_application_with_its_reason(
    client: TestClient, operator: Account
) -> None:
    applicant = apply(client, application_json())
    admin = f"/api/v1/admin/seller-applications/{applicant.id}"
    assert_problem(
        client.post(f"{admin}/reject", json={"reason": " "}, headers=operator.headers), 422
    )
    rejected = client.post(
        f"{admin}/reject", json={"reason": "Outside our markets"}, headers=operator.headers
    )
    assert rejected.json()["status"] == "closed"
    own = client.get(f"/api/v1/seller-applications/{applicant.id}", headers=applicant.headers)
    assert (own.json()["status"], own.json()["status_reason"]) == ("closed", "Outside our markets")
    assert_problem(client.post(f"{admin}/approve", headers=operator.headers), 409)
    # and nobody can become its owner
    owner = client.post(
        f"/api/v1/seller-applications/{applicant.id}/owner",
        json={"password": PASSWORD},
        headers=applicant.headers,
    )
    assert_problem(owner, 409)


@pytest.mark.usefixtures("categories")
def test_decisions_are_for_operators(client: TestClient, customer: Account) -> None:
    applicant = apply(client, application_json())
    path = f"/api/v1/admin/seller-applications/{applicant.id}/approve"
    assert_problem(client.post(path), 401)
    assert_problem(client.post(path, headers=customer.headers), 403)


# --- the approved seller's account -------------------------------------------------------------


def test_approval_makes_an_account_whose_owner_and_key_work(
    client: TestClient, container: Container, operator: Account
) -> None:
    # given an approved seller whose applicant created the owner's account with the token
    seller = approved_seller(client, container, operator, application_json())
    # then the owner is a seller member of that seller
    me = client.get("/api/v1/me", headers=seller.owner).json()
    assert (me["role"], me["org_id"], me["email"]) == ("seller", seller.id, "sales@koffiekopen.nl")
    members = client.get("/api/v1/seller/members", headers=seller.owner).json()["items"]
    assert [(m["role"], m["accepted_at"] is not None) for m in members] == [("owner", True)]
    # and the key works on seller routes, and only carries seller scopes
    profile = client.get("/api/v1/seller/profile", headers=seller.key)
    assert profile.status_code == 200, profile.text
    assert (profile.json()["id"], profile.json()["status"]) == (seller.id, "active")
    hook = client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/bazaar-hook", "event_types": ["SellerSuspended"]},
        headers=seller.key,
    )
    assert hook.status_code == 201, hook.text
    assert hook.json()["owner_type"] == "seller"
    refused = client.post(
        "/api/v1/seller/api-keys",
        json={"name": "too much", "scopes": ["catalog:write"]},
        headers=seller.owner,
    )
    assert [e["field"] for e in assert_problem(refused, 422)["errors"]] == ["scopes"]
    # and keys are managed by signed-in members, not by keys
    assert_problem(client.get("/api/v1/seller/api-keys", headers=seller.key), 403)
    # and the owner's account is created once
    again = client.post(
        f"/api/v1/seller-applications/{seller.id}/owner",
        json={"password": PASSWORD},
        headers={"Application-Token": "bza_guess"},
    )
    assert_problem(again, 404)


def test_approval_registers_the_seller_as_a_fulfiller(
    client: TestClient, container: Container, operator: Account
) -> None:
    seller = approved_seller(client, container, operator, application_json())
    container.dispatcher.drain()
    assert container.taxonomy.fulfillers([seller.id])[seller.id].name == "Koffie Kopen"


def test_owners_invite_members_who_accept_with_the_token(
    client: TestClient, container: Container, operator: Account
) -> None:
    seller = approved_seller(client, container, operator, application_json())
    # when the owner invites a colleague
    invited = client.post(
        "/api/v1/seller/members", json={"email": "Ops@KoffieKopen.nl"}, headers=seller.owner
    )
    assert invited.status_code == 201, invited.text
    token = invited.json()["invitation_token"]
    assert invited.json()["accepted_at"] is None
    # then a weak password is refused on its field and the invitation stays usable
    weak = client.post("/api/v1/seller-invitations/accept", json={"token": token, "password": "x"})
    assert [e["field"] for e in assert_problem(weak, 422)["errors"]] == ["password"]
    accepted = client.post(
        "/api/v1/seller-invitations/accept", json={"token": token, "password": PASSWORD}
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["user_id"].startswith("usr_")
    # and the colleague signs in as a member of the seller, but cannot invite
    colleague = sign_in(client, "ops@koffiekopen.nl")
    assert client.get("/api/v1/seller/profile", headers=colleague).json()["id"] == seller.id
    assert_problem(
        client.post("/api/v1/seller/members", json={"email": "x@y.nl"}, headers=colleague), 403
    )
    # and the token is spent
    reused = client.post(
        "/api/v1/seller-invitations/accept", json={"token": token, "password": PASSWORD}
    )
    assert_problem(reused, 404)
    # and inviting the same address twice is a conflict on the email
    twice = client.post(
        "/api/v1/seller/members", json={"email": "ops@koffiekopen.nl"}, headers=seller.owner
    )
    assert [e["field"] for e in assert_problem(twice, 409)["errors"]] == ["email"]


def test_seller_routes_are_for_sellers(
    client: TestClient, operator: Account, customer: Account
) -> None:
    assert_problem(client.get("/api/v1/seller/profile"), 401)
    assert_problem(client.get("/api/v1/seller/profile", headers=customer.headers), 403)
    assert_problem(client.get("/api/v1/seller/profile", headers=operator.headers), 403)


# --- suspension --------------------------------------------------------------------------------


def _offer_product(container: Container, operator: Account, seller_id: str, price: int) -> str:
    """A product with a retailer offer at 25.00 and the seller's offer at ``price``."""
    sku = f"SUS-{next(_numbers):05d}"
    product = make_product(
        container,
        operator,
        title=f"Single origin {sku}",
        category="food/coffee",
        variants=[VariantDraft(sku)],
        offers=[
            OfferDraft(variant=sku, price=Money(2500, "EUR"), stock=5),
            OfferDraft(variant=sku, price=Money(price, "EUR"), stock=5, fulfiller_id=seller_id),
        ],
    )
    return product.id


def buy_box_winner(client: TestClient, product_id: str) -> str | None:
    """The fulfiller whose offer wins the product's buy box, as shoppers see it."""
    offers = client.get(f"/api/v1/products/{product_id}/offers").json()
    winner = offers["buy_box"]["offer_id"] if offers["buy_box"] else None
    return next((o["fulfiller"]["id"] for o in offers["items"] if o["id"] == winner), None)


def test_suspension_hides_offers_and_holds_payouts_until_reinstated(
    client: TestClient, container: Container, operator: Account
) -> None:
    # given an active seller winning the buy box on a product, and an offer it switched off
    seller = approved_seller(client, container, operator, application_json())
    container.dispatcher.drain()  # registers the seller as a fulfiller
    product_id = _offer_product(container, operator, seller.id, price=1900)
    switched_off = _offer_product(container, operator, seller.id, price=1800)
    off_offer = next(
        o["id"]
        for o in client.get(f"/api/v1/products/{switched_off}/offers").json()["items"]
        if o["fulfiller"]["id"] == seller.id
    )
    patched = client.patch(
        f"/api/v1/offers/{off_offer}", json={"status": "inactive"}, headers=operator.headers
    )
    assert patched.status_code == 200, patched.text
    assert buy_box_winner(client, product_id) == seller.id
    assert client.get("/api/v1/products", params={"seller": seller.id}).json()["items"]
    assert container.seller_directory.statuses([seller.id]) == {seller.id: "active"}

    # when the operator suspends it (and the handlers run)
    suspended = client.post(
        f"/api/v1/admin/sellers/{seller.id}/suspend",
        json={"reason": "Counterfeit complaints"},
        headers=operator.headers,
    )
    assert suspended.json()["status"] == "suspended"
    container.dispatcher.drain()

    # then its offers are out of the buy box and search, and its payouts are held
    assert buy_box_winner(client, product_id) == "retailer"
    offers = client.get(f"/api/v1/products/{product_id}/offers").json()["items"]
    assert {o["status"] for o in offers if o["fulfiller"]["id"] == seller.id} == {"inactive"}
    assert client.get("/api/v1/products", params={"seller": seller.id}).json()["items"] == []
    assert container.seller_directory.statuses([seller.id]) == {seller.id: "suspended"}
    # and the seller can still read its account but not change it
    assert client.get("/api/v1/seller/profile", headers=seller.key).json()["status"] == "suspended"
    assert_problem(
        client.post(
            "/api/v1/seller/api-keys",
            json={"name": "k", "scopes": ["orders:read"]},
            headers=seller.owner,
        ),
        403,
    )

    # when reinstated
    client.post(f"/api/v1/admin/sellers/{seller.id}/reinstate", headers=operator.headers)
    container.dispatcher.drain()

    # then the offers the suspension hid are back, and the one it had switched off is not
    assert buy_box_winner(client, product_id) == seller.id
    assert client.get("/api/v1/products", params={"seller": seller.id}).json()["items"]
    off = client.get(f"/api/v1/products/{switched_off}/offers").json()["items"]
    assert {o["status"] for o in off if o["fulfiller"]["id"] == seller.id} == {"inactive"}
    assert container.seller_directory.statuses([seller.id]) == {seller.id: "active"}


def test_a_closed_seller_is_gone_from_its_routes_and_the_catalog(
    client: TestClient, container: Container, operator: Account
) -> None:
    seller = approved_seller(client, container, operator, application_json())
    container.dispatcher.drain()
    product_id = _offer_product(container, operator, seller.id, price=1900)
    closed = client.post(
        f"/api/v1/admin/sellers/{seller.id}/close",
        json={"reason": "Stopped trading"},
        headers=operator.headers,
    )
    assert closed.json()["status"] == "closed"
    container.dispatcher.drain()
    assert buy_box_winner(client, product_id) == "retailer"
    assert_problem(client.get("/api/v1/seller/profile", headers=seller.key), 403)
    assert_problem(
        client.post(f"/api/v1/admin/sellers/{seller.id}/reinstate", headers=operator.headers), 409
    )


# --- the payout account never leaks ------------------------------------------------------------


def test_the_full_iban_is_in_no_response_event_log_or_row(
    client: TestClient, container: Container, operator: Account, caplog: pytest.LogCaptureFixture
) -> None:
    # given an application that goes through changes, approval, suspension and reinstatement
    caplog.set_level(logging.DEBUG)
    ensure_category(container, operator, "food/coffee")
    first, second = "NL91ABNA0417164300", "DE89370400440532013000"
    responses = []
    created = client.post("/api/v1/seller-applications", json=application_json(payout_iban=first))
    responses.append(created)
    applicant = Applicant(created.json()["id"], created.json()["application_token"])
    admin = f"/api/v1/admin/seller-applications/{applicant.id}"
    responses.append(
        client.post(
            f"{admin}/request-changes",
            json={"changes": ["Other account"]},
            headers=operator.headers,
        )
    )
    responses.append(
        client.put(
            f"/api/v1/seller-applications/{applicant.id}",
            json=application_json(payout_iban=second),
            headers=applicant.headers,
        )
    )
    responses.append(client.post(f"{admin}/approve", headers=operator.headers))
    responses.append(client.get(admin, headers=operator.headers))
    responses.append(client.get("/api/v1/admin/seller-applications", headers=operator.headers))
    sellers = f"/api/v1/admin/sellers/{applicant.id}"
    responses.append(
        client.post(f"{sellers}/suspend", json={"reason": "x"}, headers=operator.headers)
    )
    responses.append(client.post(f"{sellers}/reinstate", headers=operator.headers))
    container.dispatcher.drain()
    responses.append(client.get("/api/v1/admin/events?limit=100", headers=operator.headers))
    assert all(r.status_code in (200, 201) for r in responses), [r.text for r in responses]
    assert responses[-1].json()["items"], "the audit log has the seller's events"

    # then no response, event payload or stored row holds either account number
    with container.db.read() as conn:
        events = [repr(row) for row in conn.execute(sa.text("SELECT payload FROM events"))]
        rows = [
            repr(row)
            for table in ("sellers", "seller_members", "seller_documents")
            for row in conn.execute(sa.text(f"SELECT * FROM {table}"))
        ]
    for iban in (first, second):
        national = iban[4:]  # the account number without country and check digits
        for text in [r.text for r in responses] + events + rows + [caplog.text]:
            assert national not in text.replace(" ", "")
    assert responses[3].json()["payout_account"] == {"iban_masked": "**** 3000"}
