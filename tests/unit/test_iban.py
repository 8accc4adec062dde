"""IBANs: validation, normalisation, masking and fingerprints."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bazaar.kernel.errors import ValidationFailed
from bazaar.sellers.iban import (
    BBAN_FORMATS,
    IBAN_LENGTHS,
    Iban,
    check_iban,
    iban_fingerprint,
    mask_iban,
    mod97,
    normalize_iban,
    parse_iban,
)

# The example IBANs of the SWIFT IBAN registry, one per country.
REGISTRY_EXAMPLES = [
    "AD1200012030200359100100",
    "AT611904300234573201",
    "BE68539007547034",
    "BG80BNBG96611020345678",
    "CH9300762011623852957",
    "CY17002001280000001200527600",
    "CZ6508000000192000145399",
    "DE89370400440532013000",
    "DK5000400440116243",
    "EE382200221020145685",
    "ES9121000418450200051332",
    "FI2112345600000785",
    "FR1420041010050500013M02606",
    "GB82WEST12345698765432",
    "GI75NWBK000000007099453",
    "GR1601101250000000012300695",
    "HR1210010051863000160",
    "HU42117730161111101800000000",
    "IE29AIBK93115212345678",
    "IS140159260076545510730339",
    "IT60X0542811101000000123456",
    "LI21088100002324013AA",
    "LT121000011101001000",
    "LU280019400644750000",
    "LV80BANK0000435195001",
    "MC5811222000010123456789030",
    "MT84MALT011000012345MTLCAST001S",
    "NL91ABNA0417164300",
    "NO9386011117947",
    "PL61109010140000071219812874",
    "PT50000201231234567890154",
    "RO49AAAA1B31007593840000",
    "SE4550000000058398257466",
    "SI56263300012039086",
    "SK3112000000198742637541",
    "SM86U0322509800000000270100",
    "UA213223130000026007233566001",
    "VA59001123000012345678",
]


@pytest.mark.parametrize("example", REGISTRY_EXAMPLES)
def test_registry_examples_are_valid(example: str) -> None:
    assert check_iban(example) == []
    assert len(example) == IBAN_LENGTHS[example[:2]]


def test_lengths_follow_from_the_registry_formats() -> None:
    assert (IBAN_LENGTHS["NL"], IBAN_LENGTHS["DE"], IBAN_LENGTHS["FR"]) == (18, 22, 27)
    assert (IBAN_LENGTHS["NO"], IBAN_LENGTHS["MT"], IBAN_LENGTHS["LC"]) == (15, 31, 32)


def test_input_is_normalised_before_it_is_checked() -> None:
    assert normalize_iban(" nl91 abna\t0417 1643 00 ") == "NL91ABNA0417164300"
    iban = parse_iban("nl91 abna 0417 1643 00")
    assert iban.compact == "NL91ABNA0417164300"
    assert iban.country == "NL"
    assert iban.last4 == "4300"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "required"),
        ("NL91-ABNA-0417-1643-00", "invalid_format"),  # dashes are not IBAN characters
        ("NL91ÅBNA0417164300", "invalid_format"),
        ("91ABNA0417164300", "invalid_format"),
        ("US12345678901234567890", "unsupported_country"),
        ("NL91ABNA041716430", "invalid_format"),  # one character short
        ("NL910BNA0417164300", "invalid_format"),  # NL bank codes are four letters
        ("NL92ABNA0417164300", "invalid_check_digit"),
        ("GB82WEST12345698765433", "invalid_check_digit"),
    ],
)
def test_problems_are_named(value: str, code: str) -> None:
    assert [(e.field, e.code) for e in check_iban(value)] == [("payout_iban", code)]


def test_parse_raises_without_repeating_the_number() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_iban("NL92ABNA0417164300", field="account")
    assert [(e.field, e.code) for e in caught.value.errors] == [("account", "invalid_check_digit")]
    assert "0417" not in caught.value.detail


def _bban(spec: str) -> st.SearchStrategy[str]:
    alphabets = {"n": "0123456789", "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
    alphabets["c"] = alphabets["n"] + alphabets["a"]
    parts = [
        st.text(alphabets[kind], min_size=int(count), max_size=int(count))
        for count, kind in re.findall(r"(\d+)!([nac])", spec)
    ]
    return st.tuples(*parts).map("".join)


@st.composite
def valid_ibans(draw: st.DrawFn) -> str:
    """Any IBAN the registry allows: a random BBAN of the country's format, check digits
    computed as ISO 13616 says - 98 minus the mod-97 of the IBAN with "00" as check."""
    country = draw(st.sampled_from(sorted(BBAN_FORMATS)))
    bban = draw(_bban(BBAN_FORMATS[country]))
    check = 98 - mod97(f"{country}00{bban}")
    return f"{country}{check:02d}{bban}"


@given(valid_ibans())
def test_generated_ibans_are_valid(iban: str) -> None:
    assert parse_iban(iban).compact == iban


@given(valid_ibans(), st.data())
def test_changing_any_one_digit_fails_the_check(iban: str, data: st.DataObject) -> None:
    # Given a valid IBAN and one of its digits (check digits included)
    positions = [i for i, c in enumerate(iban) if c.isdigit()]
    i = data.draw(st.sampled_from(positions))
    shift = data.draw(st.integers(1, 9))
    # When that digit is replaced by another one
    changed = iban[:i] + str((int(iban[i]) + shift) % 10) + iban[i + 1 :]
    # Then mod-97 catches it: the value moved by k * 10^n, which 97 (prime) never divides
    assert [e.code for e in check_iban(changed)] == ["invalid_check_digit"]


def test_two_swapped_neighbours_fail_the_check() -> None:
    assert check_iban("DE89370400440532013000") == []
    assert [e.code for e in check_iban("DE89374000440532013000")] == ["invalid_check_digit"]


def test_mask_keeps_only_the_last_four_characters() -> None:
    assert mask_iban("NL91 ABNA 0417 1643 00") == "**** 4300"
    assert mask_iban("MT84MALT011000012345MTLCAST001S") == "**** 001S"
    # Same shape for every IBAN: neither the country nor the length shows.
    assert len(mask_iban("NO9386011117947")) == len(mask_iban("LC55HEMM000100010012001200023015"))
    assert mask_iban("12345678") == "****"


def test_an_iban_never_prints_in_full() -> None:
    iban = parse_iban("DE89370400440532013000")
    assert str(iban) == "**** 3000"
    assert repr(iban) == "Iban('**** 3000')"
    containers = ([iban], {"account": iban}, (iban,))
    assert "370400" not in f"{iban} {iban!r} {containers}"


@given(st.text())
def test_mask_never_reveals_more_than_the_last_four(value: str) -> None:
    compact = normalize_iban(value)
    masked = mask_iban(value)
    shown = masked.removeprefix("****").strip()
    assert masked in ("****", f"**** {shown}")
    assert len(shown) <= 4
    assert compact.endswith(shown)
    assert len(shown) < len(compact) or shown == ""


@given(valid_ibans())
def test_mask_of_any_valid_iban_is_stars_and_its_last_four(iban: str) -> None:
    assert mask_iban(iban) == "**** " + iban[-4:]


def test_fingerprint_is_stable_keyed_and_not_the_number() -> None:
    a = parse_iban("NL91ABNA0417164300")
    b = parse_iban("nl91 abna 0417 1643 00")
    key = b"k" * 32
    assert iban_fingerprint(a, key) == iban_fingerprint(b, key)
    assert iban_fingerprint(a, key) != iban_fingerprint(a, b"another key")
    assert iban_fingerprint(a, key) != iban_fingerprint(parse_iban("DE89370400440532013000"), key)
    assert "0417164300" not in iban_fingerprint(a, key)
    assert len(iban_fingerprint(a, key)) == 64
    with pytest.raises(ValueError, match="secret key"):
        iban_fingerprint(a, b"")


def test_iban_equality_is_by_number() -> None:
    assert parse_iban("NL91 ABNA 0417 1643 00") == Iban("NL91ABNA0417164300")
