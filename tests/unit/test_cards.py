"""Card number detection: the Luhn rule, separators, run lengths, paths that never leak."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bazaar.catalog.model import gtin_is_valid
from bazaar.kernel.cards import contains_card_number, find_card_number, luhn_valid

VISA = "4111111111111111"
MASTERCARD = "5555555555554444"
AMEX = "378282246310005"


@pytest.mark.parametrize(
    "text",
    [
        "4111 1111 1111 1111",
        "4242-4242-4242-4242",
        "my card is 5555 5555 5555 4444, thanks",
        "5555-5555-5555-4444",
        "3782 822463 10005",  # Amex, grouped 4-6-5
        "371449635398431",
        "card:4111111111111111.",
        "4222222222222",  # 13-digit Visa
        "6304000000000000000",  # 19 digits
        "4111-1111 1111-1111",  # mixed separators
    ],
)
def test_luhn_valid_runs_of_13_to_19_digits_are_found(text: str) -> None:
    assert contains_card_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "4111 1111 1111 1112",  # Luhn-invalid
        "453201511285",  # Luhn-valid, but 12 digits
        "4111 1111 1111 1111 0000",  # Luhn-valid, but a 20-digit run
        "41111111111111110000",
        "4111  1111  1111  1111",  # double spaces break the run into short ones
        "4111.1111.1111.1111",  # dots are not card separators
        "4111 1111 1111 111",  # 15 digits, Luhn-invalid
        "order ord_01jd3w7k6q8r2m4n5p6s7t8v9x, call +49 30 1234567",
        "",
        "short",
    ],
)
def test_other_digit_runs_are_not_card_numbers(text: str) -> None:
    assert not contains_card_number(text)


def test_a_luhn_valid_ean_13_is_flagged_by_the_rule() -> None:
    # given: the GS1 example barcode happens to pass the Luhn check too (about 1 in 10 do)
    ean = "5901234123457"
    other_ean = "4006381333931"
    assert gtin_is_valid(ean)
    assert luhn_valid(ean)
    assert gtin_is_valid(other_ean)
    assert not luhn_valid(other_ean)
    # when / then: the spec's rule refuses any Luhn-valid run of 13-19 digits, EANs included
    assert find_card_number({"note": f"barcode {ean}"}) == "note"
    assert find_card_number({"note": f"barcode {other_ean}"}) is None
    # a field validated as a GTIN elsewhere can be exempted by name
    assert find_card_number({"items": [{"gtin": ean}]}, skip_keys={"gtin"}) is None


def test_luhn_check() -> None:
    assert luhn_valid(VISA)
    assert luhn_valid(MASTERCARD)
    assert luhn_valid(AMEX)
    assert not luhn_valid("4111111111111112")


# --- walking payloads -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        ({"payment": {"card": "4111 1111 1111 1111"}}, "payment.card"),
        ({"items": [{"note": "hi"}, {"note": f"use {VISA}"}]}, "items[1].note"),
        ([{"a": "x"}, ["y", AMEX]], "[1][1]"),
        (f"{VISA}", "$"),
        ({"address": {"line2": ("flat 3", MASTERCARD)}}, "address.line2[1]"),
        ({"card": int(VISA)}, "card"),  # sent as a JSON number
        ({VISA: "key holding a card"}, "*"),
        ({"a": {f"pan {VISA}": 1}}, "a.*"),
    ],
)
def test_the_path_of_the_value_holding_a_card_is_returned(payload: object, path: str) -> None:
    assert find_card_number(payload) == path


def test_the_first_match_in_document_order_wins() -> None:
    payload = {"a": {"b": "nothing"}, "c": [f"x {VISA}"], "d": MASTERCARD}
    assert find_card_number(payload) == "c[0]"


@pytest.mark.parametrize(
    "payload",
    [
        None,
        {},
        {"quantity": 3, "price": {"amount": 1299, "currency": "EUR"}, "gift": True},
        {"amount": 4111111111111111.0},  # floats are not checked
        {"big": 10**40, "negative_small": -5},
        {"sku": "SKU-1", "tags": ["red", "blue"], "ids": ("prd_01jd3w7k6q8r2m4n5p6s7t8v9x",)},
    ],
)
def test_payloads_without_cards_pass(payload: object) -> None:
    assert find_card_number(payload) is None


def test_shared_and_cyclic_containers_are_walked_once() -> None:
    shared = {"note": "fine"}
    cyclic: dict[str, object] = {"shared": shared, "again": shared}
    cyclic["self"] = cyclic
    assert find_card_number(cyclic) is None
    cyclic["late"] = VISA
    assert find_card_number(cyclic) == "late"


def test_deep_nesting_does_not_hit_the_recursion_limit() -> None:
    payload: object = VISA
    for _ in range(5000):
        payload = {"n": [payload]}
    path = find_card_number(payload)
    assert path is not None
    assert path.startswith("n[0].n[0]")


# --- properties -------------------------------------------------------------------------------


def with_check_digit(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


card_numbers = st.builds(
    lambda first, rest: with_check_digit(first + rest),
    st.sampled_from("3456"),
    st.integers(min_value=11, max_value=17).flatmap(
        lambda n: st.text("0123456789", min_size=n, max_size=n)
    ),
)


@given(
    card_numbers,
    st.lists(st.sampled_from(["", " ", "-"]), min_size=19, max_size=19),
    st.sampled_from(["", "card ", "x:"]),
    st.sampled_from(["", " thanks", "."]),
)
def test_any_typed_card_number_is_found_and_never_echoed(
    number: str, separators: list[str], before: str, after: str
) -> None:
    # given: the number as a person might type it, inside text
    typed = "".join(d + sep for d, sep in zip(number, separators, strict=False)).rstrip(" -")
    payload = {"order": {"notes": ["ok", before + typed + after]}}
    # when
    path = find_card_number(payload)
    # then
    assert path == "order.notes[1]"
    assert number not in path


@given(st.text("0123456789 -", max_size=40))
def test_detection_matches_the_rule_on_plain_digit_runs(text: str) -> None:
    digits = text.replace(" ", "").replace("-", "")
    is_one_run = (
        text == text.strip(" -")
        and "  " not in text
        and "--" not in text
        and " -" not in text
        and "- " not in text
    )
    if is_one_run and text:
        expected = 13 <= len(digits) <= 19 and luhn_valid(digits)
        assert contains_card_number(text) is expected
