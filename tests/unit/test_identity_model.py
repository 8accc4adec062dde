from __future__ import annotations

import pytest

from bazaar.identity.model import (
    Principal,
    Role,
    check_password,
    check_role_org,
    check_scopes,
    normalize_email,
)
from bazaar.kernel.errors import PermissionDenied, ValidationFailed


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(" Ada@Example.COM ", "ada@example.com"), ("a.b+c@sub.example.org", "a.b+c@sub.example.org")],
)
def test_emails_are_normalised(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "no-at", "a@b", "a@-b.com", "a b@example.com", "x" * 250 + "@e.com"]
)
def test_bad_emails_are_refused_naming_the_field(raw: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        normalize_email(raw)
    assert caught.value.errors[0].field == "email"


def test_password_length_bounds() -> None:
    check_password("x" * 10)
    with pytest.raises(ValidationFailed, match="at least"):
        check_password("short")
    with pytest.raises(ValidationFailed, match="at most"):
        check_password("x" * 257)


def test_organisation_roles_need_an_organisation_and_others_refuse_one() -> None:
    check_role_org(Role.SELLER, "sel_1")
    check_role_org(Role.CUSTOMER, None)
    with pytest.raises(ValidationFailed):
        check_role_org(Role.SELLER, None)
    with pytest.raises(ValidationFailed):
        check_role_org(Role.CUSTOMER, "sel_1")


def test_scopes_must_be_known_and_present() -> None:
    assert check_scopes(["stock:write", "orders:read"]) == {"stock:write", "orders:read"}
    with pytest.raises(ValidationFailed, match="Unknown scopes: admin:all"):
        check_scopes(["admin:all"])
    with pytest.raises(ValidationFailed):
        check_scopes([])


def test_operators_pass_every_role_check_others_only_their_own() -> None:
    operator = Principal("user", "usr_1", Role.OPERATOR)
    customer = Principal("user", "usr_2", Role.CUSTOMER)
    operator.require_role(Role.REVIEWER)
    customer.require_role(Role.CUSTOMER)
    with pytest.raises(PermissionDenied):
        customer.require_role(Role.OPERATOR)


def test_api_keys_are_limited_by_scope_users_by_role() -> None:
    key = Principal("api_key", "key_1", Role.PARTNER, "prt_1", frozenset({"stock:write"}))
    key.require_scope("stock:write")
    with pytest.raises(PermissionDenied):
        key.require_scope("orders:read")
    Principal("user", "usr_1", Role.SELLER, "sel_1").require_scope("orders:read")
