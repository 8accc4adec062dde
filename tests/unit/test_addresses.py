"""Checkout addresses and emails: normalisation and field-level validation."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bazaar.checkout.addresses import (
    COUNTRY_CODES,
    POSTCODE_PATTERNS,
    Address,
    check_address,
    check_email,
    check_postcode,
    clean_address,
    clean_email,
    normalize_address,
    normalize_email,
    normalize_postcode,
)
from bazaar.kernel.errors import FieldError, ValidationFailed


def address(**overrides: str | None) -> Address:
    values: dict[str, str | None] = {
        "name": "Anna de Vries",
        "line1": "Keizersgracht 123",
        "postcode": "1015 CJ",
        "city": "Amsterdam",
        "country": "NL",
        "line2": None,
        "phone": None,
    }
    values.update(overrides)
    return Address(**values)  # type: ignore[arg-type]


def fields(errors: Sequence[FieldError]) -> list[str]:
    return [e.field for e in errors]


def test_the_country_list_is_the_full_iso_3166_1_alpha_2_list() -> None:
    # given / when / then: 249 officially assigned codes, exceptional reservations excluded
    assert len(COUNTRY_CODES) == 249
    assert {"NL", "DE", "GB", "US", "AX", "SS", "XK"} - COUNTRY_CODES == {"XK"}
    assert "UK" not in COUNTRY_CODES
    assert "EU" not in COUNTRY_CODES


@pytest.mark.parametrize(
    ("country", "raw", "normalised"),
    [
        ("NL", "1234ab", "1234 AB"),
        ("NL", " 1234  ab ", "1234 AB"),
        ("nl", "1234 AB", "1234 AB"),
        ("GB", "sw1a1aa", "SW1A 1AA"),
        ("GB", "ec1a  1bb", "EC1A 1BB"),
        ("US", "123456789", "12345-6789"),
        ("US", "12345", "12345"),
        ("PT", "1000001", "1000-001"),
        ("PL", "00950", "00-950"),
        ("SE", "11455", "114 55"),
        ("CA", "k1a0b1", "K1A 0B1"),
        ("LU", "L-1724", "1724"),
        ("DE", " 10115 ", "10115"),
    ],
)
def test_postcodes_are_normalised_per_country(country: str, raw: str, normalised: str) -> None:
    # given a postcode as a shopper types it / when / then
    assert normalize_postcode(country, raw) == normalised


@pytest.mark.parametrize(
    ("country", "postcode"),
    [
        ("NL", "1015 CJ"),
        ("NL", "9999zz"),
        ("DE", "01067"),
        ("FR", "75008"),
        ("BE", "1000"),
        ("AT", "1010"),
        ("ES", "28001"),
        ("ES", "52001"),
        ("IT", "00184"),
        ("GB", "SW1A 1AA"),
        ("GB", "M1 1AE"),
        ("GB", "B33 8TH"),
        ("GB", "CR2 6XH"),
        ("GB", "DN55 1PT"),
        ("GB", "W1A 0AX"),
        ("GB", "GIR 0AA"),
        ("US", "90210"),
        ("US", "90210-1234"),
        ("IE", "D02 X285"),
        ("IE", "D6W 1234"),
        ("CA", "K1A 0B1"),
    ],
)
def test_valid_postcodes_pass(country: str, postcode: str) -> None:
    # given / when / then
    assert check_postcode(country, postcode, "shipping_address.postcode") == []


@pytest.mark.parametrize(
    ("country", "postcode"),
    [
        ("NL", "0123 AB"),  # no leading zero
        ("NL", "1234 SS"),  # never issued
        ("NL", "12345"),
        ("DE", "1234"),
        ("DE", "123456"),
        ("FR", "7500"),
        ("BE", "0999"),
        ("AT", "10100"),
        ("ES", "53001"),  # no province 53
        ("IT", "0018"),
        ("GB", "SW1A 1A"),
        ("GB", "QW1 1AA"),  # Q never starts a postcode
        ("GB", "12345"),
        ("US", "9021"),
        ("US", "90210-12"),
        ("DE", ""),
    ],
)
def test_invalid_postcodes_name_the_field(country: str, postcode: str) -> None:
    # given / when
    errors = check_postcode(country, postcode, "shipping_address.postcode")
    # then
    assert fields(errors) == ["shipping_address.postcode"]


def test_countries_without_a_pattern_accept_any_plausible_postcode_or_none() -> None:
    # given countries Bazaar has no postcode shape for / when / then
    assert check_postcode("HK", "", "p") == []
    assert check_postcode("JP", "100-0001", "p") == []
    assert fields(check_postcode("JP", "100_0001!", "p")) == ["p"]
    # and Ireland delivers without an Eircode
    assert check_postcode("IE", "", "p") == []


def test_a_valid_address_normalises_and_has_no_errors() -> None:
    # given
    raw = address(
        name="  Anna   de Vries ",
        postcode="1015cj",
        country="nl",
        line2="  ",
        phone=" +31 20 1234567 ",
    )
    # when
    cleaned = clean_address(raw)
    # then
    assert check_address(raw) == []
    assert cleaned == address(phone="+31 20 1234567")


def test_every_problem_is_reported_with_its_dotted_field() -> None:
    # given
    bad = address(name="", line1=" ", city="", postcode="ABC", phone="call me")
    # when
    errors = check_address(bad, at="billing_address")
    # then
    assert fields(errors) == [
        "billing_address.name",
        "billing_address.line1",
        "billing_address.city",
        "billing_address.postcode",
        "billing_address.phone",
    ]


def test_unknown_countries_are_refused_and_uk_gets_a_hint() -> None:
    # given / when
    errors = check_address(address(country="UK", postcode="SW1A 1AA"))
    # then: the postcode is not judged against a country that does not exist
    assert fields(errors) == ["shipping_address.country"]
    assert "GB" in errors[0].message
    assert errors[0].code == "unknown_country"


def test_clean_address_raises_with_all_errors() -> None:
    # given / when / then
    with pytest.raises(ValidationFailed) as caught:
        clean_address(address(city="", postcode="nope"))
    assert fields(caught.value.errors) == [
        "shipping_address.city",
        "shipping_address.postcode",
    ]


def test_control_characters_and_long_fields_are_refused() -> None:
    # given / when
    errors = check_address(address(name="A" * 101, line2="Flat\u200b2"))
    # then
    assert fields(errors) == ["shipping_address.name", "shipping_address.line2"]


@given(st.sampled_from(sorted(POSTCODE_PATTERNS)), st.text(max_size=12))
def test_normalising_is_idempotent_and_checking_agrees_with_the_normal_form(
    country: str, postcode: str
) -> None:
    # given any text as a postcode / when
    once = normalize_postcode(country, postcode)
    # then
    assert normalize_postcode(country, once) == once
    assert check_postcode(country, postcode, "p") == check_postcode(country, once, "p")


@given(st.from_regex(r"[1-9][0-9]{3} ?[a-rt-zA-RT-Z]{2}", fullmatch=True))
def test_any_dutch_postcode_in_any_case_and_spacing_is_accepted(postcode: str) -> None:
    # given / when / then
    assert check_postcode("NL", postcode, "p") == []
    assert normalize_address(address(postcode=postcode)).postcode[4] == " "


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Anna@Example.COM", "Anna@example.com"),
        ("  bob.smith+shop@mail.example.co.uk ", "bob.smith+shop@mail.example.co.uk"),
        ("x@xn--bcher-kva.de", "x@xn--bcher-kva.de"),
    ],
)
def test_valid_emails_keep_the_local_part_and_lower_case_the_domain(
    raw: str, normalised: str
) -> None:
    # given / when / then
    assert check_email(raw) == []
    assert clean_email(raw) == normalised
    assert normalize_email(raw) == normalised


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "plainaddress",
        "@example.com",
        "anna@",
        "anna@example",
        "anna@@example.com",
        "anna..smith@example.com",
        ".anna@example.com",
        "anna smith@example.com",
        "anna@-example.com",
        "anna@example.c",
        "anna@exa_mple.com",
        "anna@bücher.de",
        "a" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
    ],
)
def test_invalid_emails_are_refused_on_the_given_field(raw: str) -> None:
    # given / when
    errors = check_email(raw, "customer.email")
    # then
    assert fields(errors) == ["customer.email"]
    with pytest.raises(ValidationFailed):
        clean_email(raw)
