"""Registration, sign-in, bearer tokens, roles, login throttling and API keys, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from bazaar.bootstrap import Container, build
from bazaar.http.app import create_app
from bazaar.identity.model import Role
from bazaar.kernel.clock import FixedClock
from tests.support.assertions import assert_problem
from tests.support.factories import PASSWORD, Account, make_account, test_settings

REGISTER = "/api/v1/auth/register"
TOKEN = "/api/v1/auth/token"
REVOKE = "/api/v1/auth/revoke"
ME = "/api/v1/me"
KEYS = "/api/v1/api-keys"
PARTNER_ID = "prt_01abcdefgh"


def bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> Response:
    return client.post(TOKEN, json={"email": email, "password": password})


# --- registration and sign-in ----------------------------------------------------------------


def test_register_then_sign_in_then_me(client: TestClient) -> None:
    # given a new customer registers
    registered = client.post(REGISTER, json={"email": " Ada@Example.com ", "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    user = registered.json()
    assert user["email"] == "ada@example.com"
    assert user["role"] == "customer"
    assert "password" not in registered.text
    assert PASSWORD not in registered.text

    # when they sign in
    signed_in = sign_in(client, "ada@example.com")

    # then the token names them at /me
    assert signed_in.status_code == 200, signed_in.text
    token = signed_in.json()
    assert token["token_type"] == "bearer"
    me = client.get(ME, headers=bearer(token["access_token"]))
    assert me.status_code == 200
    assert me.json() | {"scopes": []} == {
        "kind": "user",
        "id": user["id"],
        "role": "customer",
        "org_id": None,
        "email": "ada@example.com",
        "scopes": [],
    }


def test_a_weak_password_is_a_422_naming_body_password(client: TestClient) -> None:
    response = client.post(REGISTER, json={"email": "ada@example.com", "password": "Pw-9x"})

    problem = assert_problem(response, 422)
    assert [e["field"] for e in problem["errors"]] == ["password"]
    assert "Pw-9x" not in response.text  # the rejected password is not echoed


def test_a_bad_email_is_a_422(client: TestClient) -> None:
    response = client.post(REGISTER, json={"email": "not-an-email", "password": PASSWORD})

    problem = assert_problem(response, 422)
    assert [e["field"] for e in problem["errors"]] == ["email"]


def test_a_duplicate_email_is_a_409(client: TestClient) -> None:
    # given an account
    first = client.post(REGISTER, json={"email": "ada@example.com", "password": PASSWORD})
    assert first.status_code == 201

    # when the same address registers again, in another case
    response = client.post(REGISTER, json={"email": "ADA@example.com", "password": PASSWORD})

    # then it is a conflict
    assert_problem(response, 409)


def test_a_wrong_password_is_a_401_with_www_authenticate(
    client: TestClient, customer: Account
) -> None:
    response = sign_in(client, customer.user.email, "wrong password entirely")

    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "access_token" not in response.text


# --- bearer credentials ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-credential"),
        pytest.param({"Authorization": "Bearer bzt_garbage"}, id="garbage-token"),
        pytest.param({"Authorization": "Bearer something-else"}, id="unknown-kind"),
        pytest.param({"Authorization": "Basic x"}, id="basic-scheme"),
        pytest.param({"Authorization": "Bearer "}, id="empty-bearer"),
        pytest.param({"X-Api-Key": "bzk_nothing_here"}, id="unknown-api-key"),
    ],
)
def test_me_without_a_valid_credential_is_a_401(
    client: TestClient, headers: dict[str, str]
) -> None:
    response = client.get(ME, headers=headers)

    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == 'Bearer realm="bazaar"'


def test_a_revoked_token_stops_working(client: TestClient, customer: Account) -> None:
    # given a working token
    assert client.get(ME, headers=customer.headers).status_code == 200

    # when it is revoked
    revoked = client.post(REVOKE, headers=customer.headers)
    assert revoked.status_code == 204

    # then it no longer authenticates
    assert_problem(client.get(ME, headers=customer.headers), 401)


@pytest.fixture
def clocked(db_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Container]:
    c = build(test_settings(db_url, tmp_path, token_ttl_s=3600), clock=clock)
    yield c
    c.close()


def test_an_expired_token_is_a_401(clocked: Container, clock: FixedClock) -> None:
    # given a token issued now
    account = make_account(clocked, Role.CUSTOMER)
    with TestClient(create_app(clocked, run_dispatcher=False)) as client:
        assert client.get(ME, headers=account.headers).status_code == 200

        # when its lifetime has passed
        clock.advance(clocked.settings.token_ttl_s + 1)

        # then it is refused
        assert_problem(client.get(ME, headers=account.headers), 401)


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/v1/products"), ("GET", "/api/v1/admin/events")],
)
def test_a_customer_on_an_operator_route_is_a_403(
    client: TestClient, customer: Account, method: str, path: str
) -> None:
    body = {
        "title": "Tee",
        "sku": "TEE-1",
        "price": {"amount": 100, "currency": "EUR"},
        "category": "apparel",
    }
    json = body if method == "POST" else None

    response = client.request(method, path, json=json, headers=customer.headers)

    assert_problem(response, 403)


# --- login throttling ------------------------------------------------------------------------


@pytest.fixture
def throttled(db_url: str, tmp_path: Path) -> Iterator[tuple[Container, TestClient]]:
    # A lockout far longer than the test keeps the sliding window from rolling over mid-test.
    settings = test_settings(db_url, tmp_path, login_max_failures=3, login_lockout_s=10**9)
    c = build(settings)
    with TestClient(create_app(c, run_dispatcher=False)) as client:
        yield c, client
    c.close()


def test_past_the_failure_limit_even_the_right_password_is_a_429(
    throttled: tuple[Container, TestClient],
) -> None:
    # given three failed attempts
    container, client = throttled
    account = make_account(container, Role.CUSTOMER)
    for _ in range(3):
        assert sign_in(client, account.user.email, "wrong password!").status_code == 401

    # when the right password is tried
    response = sign_in(client, account.user.email)

    # then it is throttled, with a Retry-After
    assert_problem(response, 429)
    assert int(response.headers["retry-after"]) >= 1
    assert "access_token" not in response.text


def test_a_success_before_the_limit_resets_the_count(
    throttled: tuple[Container, TestClient],
) -> None:
    # given two failures and then a success
    container, client = throttled
    account = make_account(container, Role.CUSTOMER)
    for _ in range(2):
        assert sign_in(client, account.user.email, "wrong password!").status_code == 401
    assert sign_in(client, account.user.email).status_code == 200

    # when three more failures follow
    statuses = [
        sign_in(client, account.user.email, "wrong password!").status_code for _ in range(3)
    ]

    # then each is an ordinary 401 (the count started again), and only the next is throttled
    assert statuses == [401, 401, 401]
    assert sign_in(client, account.user.email).status_code == 429


# --- API keys --------------------------------------------------------------------------------


def create_key(client: TestClient, who: Account, **fields: Any) -> Response:
    body: dict[str, Any] = {"name": "stock feed", "scopes": ["stock:write"]} | fields
    return client.post(KEYS, json=body, headers=who.headers)


def test_an_operator_creates_a_partner_key_that_authenticates(
    client: TestClient, operator: Account
) -> None:
    # given an operator creates a key for a partner
    created = create_key(client, operator, owner_type="partner", owner_id=PARTNER_ID)
    assert created.status_code == 201, created.text
    key = created.json()
    secret = key["secret"]
    assert secret.startswith("bzk_" + key["prefix"] + "_")
    assert key["owner_type"] == "partner"
    assert key["owner_id"] == PARTNER_ID
    assert key["scopes"] == ["stock:write"]

    # when the key is listed
    listed = client.get(KEYS, headers=operator.headers)

    # then the secret is never shown again
    assert listed.status_code == 200
    assert [k["id"] for k in listed.json()["items"]] == [key["id"]]
    assert "secret" not in listed.json()["items"][0]
    assert secret.split("_")[-1] not in listed.text

    # and the key authenticates both as a bearer credential and as X-Api-Key
    for headers in (bearer(secret), {"X-Api-Key": secret}):
        me = client.get(ME, headers=headers)
        assert me.status_code == 200, me.text
        assert me.json() == {
            "kind": "api_key",
            "id": key["id"],
            "role": "partner",
            "org_id": PARTNER_ID,
            "email": None,
            "scopes": ["stock:write"],
        }


def test_a_key_with_a_wrong_secret_is_a_401(client: TestClient, operator: Account) -> None:
    # given a real key
    secret = create_key(client, operator, owner_type="partner", owner_id=PARTNER_ID).json()[
        "secret"
    ]

    # when its secret part is altered
    forged = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")

    # then it does not authenticate
    assert_problem(client.get(ME, headers=bearer(forged)), 401)


def test_an_unknown_scope_is_a_422(client: TestClient, operator: Account) -> None:
    response = create_key(
        client, operator, owner_type="partner", owner_id=PARTNER_ID, scopes=["root:everything"]
    )

    problem = assert_problem(response, 422)
    assert [e["field"] for e in problem["errors"]] == ["scopes"]


def test_a_revoked_key_is_a_401(client: TestClient, operator: Account) -> None:
    # given a working key
    key = create_key(client, operator, owner_type="partner", owner_id=PARTNER_ID).json()
    assert client.get(ME, headers=bearer(key["secret"])).status_code == 200

    # when it is revoked
    revoked = client.delete(f"{KEYS}/{key['id']}", headers=operator.headers)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None

    # then it no longer authenticates, by either header
    assert_problem(client.get(ME, headers=bearer(key["secret"])), 401)
    assert_problem(client.get(ME, headers={"X-Api-Key": key["secret"]}), 401)


def test_a_seller_member_manages_keys_of_its_own_organisation_only(
    client: TestClient, container: Container, operator: Account
) -> None:
    # given a seller member, and a key the operator made for another seller
    seller = make_account(container, Role.SELLER, "sel_01ownorg")
    other = create_key(client, operator, owner_type="seller", owner_id="sel_02otherorg")
    assert other.status_code == 201

    # when the member creates a key without naming an owner
    own = create_key(client, seller)

    # then the key belongs to the member's organisation
    assert own.status_code == 201, own.text
    assert (own.json()["owner_type"], own.json()["owner_id"]) == ("seller", "sel_01ownorg")

    # and a key for another organisation is refused
    assert_problem(create_key(client, seller, owner_id="sel_02otherorg"), 403)
    assert_problem(create_key(client, seller, owner_type="brand", owner_id="brd_01x"), 403)

    # and the member's list holds only its organisation's key, while the operator sees both
    mine = client.get(KEYS, headers=seller.headers).json()["items"]
    assert [k["id"] for k in mine] == [own.json()["id"]]
    everything = client.get(KEYS, headers=operator.headers).json()["items"]
    assert {k["id"] for k in everything} == {own.json()["id"], other.json()["id"]}

    # and the member cannot revoke the other organisation's key
    assert_problem(client.delete(f"{KEYS}/{other.json()['id']}", headers=seller.headers), 404)


def test_a_customer_cannot_create_or_list_keys(client: TestClient, customer: Account) -> None:
    assert_problem(create_key(client, customer), 403)
    assert_problem(create_key(client, customer, owner_type="partner", owner_id=PARTNER_ID), 403)
    assert_problem(client.get(KEYS, headers=customer.headers), 403)


def test_an_api_key_cannot_create_keys(client: TestClient, operator: Account) -> None:
    # given a partner key
    secret = create_key(client, operator, owner_type="partner", owner_id=PARTNER_ID).json()[
        "secret"
    ]

    # when it tries to mint another key
    response = client.post(
        KEYS, json={"name": "escalate", "scopes": ["stock:write"]}, headers=bearer(secret)
    )

    # then it is refused
    assert_problem(response, 403)


def test_api_keys_paginate(client: TestClient, operator: Account) -> None:
    # given two keys
    ids = {
        create_key(client, operator, owner_type="partner", owner_id=PARTNER_ID, name=name).json()[
            "id"
        ]
        for name in ("first", "second")
    }

    # when they are listed one per page
    first = client.get(KEYS, params={"limit": 1}, headers=operator.headers).json()
    assert len(first["items"]) == 1
    assert first["next_cursor"]
    second = client.get(
        KEYS, params={"limit": 1, "cursor": first["next_cursor"]}, headers=operator.headers
    ).json()

    # then the two pages hold both keys once, and the second is the last
    assert len(second["items"]) == 1
    assert {first["items"][0]["id"], second["items"][0]["id"]} == ids
    assert second["next_cursor"] is None
