"""Listing checks: schema, attribute values, GTIN, duplicates, price, terms and images."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bazaar.catalog.attributes import AttributeDef, AttributeType
from bazaar.kernel.money import Money
from bazaar.listings.checks import (
    MIN_PRICE_SAMPLE,
    CheckName,
    CheckResult,
    CheckStatus,
    ExistingOffer,
    ImageOutcome,
    ImageProbe,
    PriceDistribution,
    ProductRef,
    check_attributes,
    check_duplicate_offer,
    check_gtin_digit,
    check_images,
    check_price,
    check_prohibited_terms,
    check_schema,
)
from bazaar.listings.normalise import ListingDraft

PASSED, FAILED, WARNING = CheckStatus.PASSED, CheckStatus.FAILED, CheckStatus.WARNING
ATTRIBUTES = {
    "color": AttributeDef("color", AttributeType.ENUM, True, ("black", "gray")),
    "volume": AttributeDef("volume", AttributeType.NUMBER, True, unit="l"),
    "dishwasher_safe": AttributeDef("dishwasher_safe", AttributeType.BOOLEAN),
    "material": AttributeDef("material", AttributeType.TEXT),
}


def eur(amount: int) -> Money:
    return Money(amount, "EUR")


def draft(**changes: object) -> ListingDraft:
    base: dict[str, object] = {
        "seller_id": "sel_1",
        "category_id": "cat_bottles",
        "title": "Insulated bottle",
        "price": eur(2999),
        "attributes": {"color": "black", "volume": 1},
    }
    return ListingDraft(**{**base, **changes})  # type: ignore[arg-type]


def statuses(results: list[CheckResult]) -> list[tuple[str | None, CheckStatus]]:
    return [(r.field, r.status) for r in results]


# -- schema -------------------------------------------------------------------------------------


def test_a_complete_new_product_passes_the_schema() -> None:
    assert check_schema(draft(), ATTRIBUTES, new_product=True) == [
        CheckResult(CheckName.SCHEMA, PASSED)
    ]


def test_missing_required_attributes_fail_with_a_suggestion() -> None:
    results = check_schema(draft(attributes={"color": " "}), ATTRIBUTES, new_product=True)
    assert results == [
        CheckResult(
            CheckName.SCHEMA,
            FAILED,
            "attributes.color",
            "Required by the category",
            "Add color (one of: black, gray)",
        ),
        CheckResult(
            CheckName.SCHEMA, FAILED, "attributes.volume", "Required by the category", "Add volume"
        ),
    ]


def test_values_the_fixes_can_type_pass_and_others_fail() -> None:
    # "1000 ml" and "yes" will be fixed by normalisation; a word for a number never will
    fixable = {"color": "Grey", "volume": "1000 ml", "dishwasher_safe": "yes"}
    assert statuses(check_schema(draft(attributes=fixable), ATTRIBUTES, new_product=True)) == [
        (None, PASSED)
    ]
    hopeless = {"color": 3, "volume": "one litre", "dishwasher_safe": "maybe", "material": True}
    results = check_schema(draft(attributes=hopeless), ATTRIBUTES, new_product=True)
    assert [(r.field, r.reason) for r in results] == [
        ("attributes.color", "Must be text"),
        ("attributes.volume", "Must be a number in l"),
        ("attributes.dishwasher_safe", "Must be true or false"),
        ("attributes.material", "Must be text"),
    ]


def test_an_offer_on_a_catalog_product_needs_only_a_price() -> None:
    offer = draft(title="", attributes={})
    assert statuses(check_schema(offer, ATTRIBUTES, new_product=False)) == [(None, PASSED)]
    assert statuses(check_schema(offer, ATTRIBUTES, new_product=True)) == [
        ("title", FAILED),
        ("attributes.color", FAILED),
        ("attributes.volume", FAILED),
    ]


@pytest.mark.parametrize("amount", [0, -1, 10**11 + 1])
def test_a_price_must_be_positive_and_plausible(amount: int) -> None:
    results = check_schema(draft(price=eur(amount)), ATTRIBUTES, new_product=False)
    assert statuses(results) == [("price", FAILED)]


def test_an_over_long_title_fails() -> None:
    results = check_schema(draft(title="x" * 201), ATTRIBUTES, new_product=True)
    assert [(r.field, r.suggestion) for r in results] == [("title", "Shorten the title")]


# -- attribute values after normalisation ---------------------------------------------------------


def test_enum_values_outside_the_list_fail_after_normalisation() -> None:
    results = check_attributes(draft(attributes={"color": "chartreuse", "volume": 1}), ATTRIBUTES)
    assert results == [
        CheckResult(
            CheckName.ATTRIBUTES,
            FAILED,
            "attributes.color",
            "Must be one of: black, gray",
            "Use one of: black, gray",
        )
    ]


def test_decimal_numbers_are_numbers_and_missing_ones_are_not_repeated() -> None:
    values = {"color": "gray", "volume": Decimal("0.75")}
    assert statuses(check_attributes(draft(attributes=values), ATTRIBUTES)) == [(None, PASSED)]
    assert statuses(check_attributes(draft(attributes={}), ATTRIBUTES)) == [(None, PASSED)]


# -- GTIN ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("gtin", [None, "", "4006381333931", "96385074", "036000291452"])
def test_valid_or_absent_gtins_pass(gtin: str | None) -> None:
    assert statuses(check_gtin_digit(draft(gtin=gtin))) == [(None, PASSED)]


@pytest.mark.parametrize(
    ("gtin", "reason"),
    [
        ("4006381333932", "The check digit is wrong"),
        ("400638133393", "The check digit is wrong"),  # 12 digits, so read as a UPC-A
        ("40063813339", "8, 12, 13 or 14 digits"),
        ("ABC", "8, 12, 13 or 14 digits"),
    ],
)
def test_bad_gtins_fail(gtin: str, reason: str) -> None:
    [result] = check_gtin_digit(draft(gtin=gtin))
    assert (result.check, result.status, result.field, result.reason) == (
        CheckName.GTIN,
        FAILED,
        "gtin",
        reason,
    )


# -- duplicates ---------------------------------------------------------------------------------


def test_a_second_offer_of_the_same_seller_on_the_same_variant_warns() -> None:
    offers = [
        ExistingOffer("off_1", "sel_1", "prd_1", "var_1"),
        ExistingOffer("off_2", "sel_1", "prd_1", "var_2"),  # another variant
        ExistingOffer("off_3", "sel_2", "prd_1", "var_1"),  # another seller
        ExistingOffer("off_4", "sel_1", "prd_9", None),  # another product
    ]
    results = check_duplicate_offer(draft(), ProductRef("prd_1", "var_1"), offers)
    assert results == [
        CheckResult(
            CheckName.DUPLICATE_OFFER,
            WARNING,
            None,
            "You already sell this product as offer off_1",
            "Update offer off_1 instead",
        )
    ]


def test_a_product_level_match_warns_for_any_variant_offer() -> None:
    offers = [ExistingOffer("off_2", "sel_1", "prd_1", "var_2")]
    results = check_duplicate_offer(draft(), ProductRef("prd_1"), offers)
    assert statuses(results) == [(None, WARNING)]


def test_a_new_product_cannot_duplicate_an_offer() -> None:
    [result] = check_duplicate_offer(draft(), None, [ExistingOffer("off_1", "sel_1", "prd_1")])
    assert (result.status, result.reason) == (PASSED, "A new product")


# -- price sanity -------------------------------------------------------------------------------


def distribution(median: int, **extra: Money) -> PriceDistribution:
    return PriceDistribution(eur(median), MIN_PRICE_SAMPLE, **extra)


@pytest.mark.parametrize(
    ("price", "status"),
    [
        (2000, PASSED),  # exactly median / 5 is not below it
        (1999, WARNING),
        (50000, PASSED),  # exactly median x 5
        (50001, WARNING),
    ],
)
def test_prices_beyond_five_times_the_median_either_way_warn(
    price: int, status: CheckStatus
) -> None:
    [result] = check_price(eur(price), distribution(10000))
    assert result.status is status


def test_an_outlier_explains_itself() -> None:
    [result] = check_price(eur(199), distribution(10000))
    assert result == CheckResult(
        CheckName.PRICE,
        WARNING,
        "price",
        "1.99 EUR is far below the category's usual 100.00 EUR",
        "Check the price, and that it is in major units of the currency",
    )


def test_known_percentiles_widen_the_band() -> None:
    # A category whose own cheap end sits far below median / 5
    wide = distribution(10000, p5=eur(1500), p95=eur(90000))
    assert check_price(eur(1000), wide)[0].status is PASSED  # >= p5 / 2 (750)
    assert check_price(eur(749), wide)[0].status is WARNING
    assert check_price(eur(180000), wide)[0].status is PASSED  # <= p95 x 2
    assert check_price(eur(180001), wide)[0].status is WARNING


def test_too_few_prices_are_not_judged() -> None:
    thin = PriceDistribution(eur(10000), MIN_PRICE_SAMPLE - 1)
    assert check_price(eur(1), thin)[0].status is PASSED
    assert check_price(eur(1), None)[0].reason == "Too few prices in the category to compare"


def test_another_currency_cannot_be_compared() -> None:
    [result] = check_price(Money(2999, "GBP"), distribution(10000))
    assert (result.status, result.reason) == (WARNING, "Cannot compare a GBP price with EUR prices")


@given(st.integers(1, 10**9), st.integers(1, 10**9))
def test_the_band_is_judged_in_integer_minor_units(price: int, median: int) -> None:
    [result] = check_price(eur(price), distribution(median))
    inside = median <= price * 5 and price <= median * 5
    assert result.status is (PASSED if inside else WARNING)


# -- prohibited terms ---------------------------------------------------------------------------


def test_terms_match_whole_words_case_insensitively_in_every_text_field() -> None:
    listing = draft(
        title="REPLICA watch in glass box",
        description="Ships with a   free  gift",
        brand="Rolex-ish",
        attributes={"color": "black", "material": "Replica leather", "volume": 1},
    )
    results = check_prohibited_terms(listing, ["replica", "ass", "free gift", " "])
    assert [(r.field, r.status, r.reason, r.suggestion) for r in results] == [
        ("title", FAILED, "Contains 'replica'", "Remove 'replica'"),
        ("description", FAILED, "Contains 'free gift'", "Remove 'free gift'"),
        ("attributes.material", FAILED, "Contains 'replica'", "Remove 'replica'"),
    ]


def test_words_inside_other_words_do_not_match() -> None:
    listing = draft(title="Classic glass bass amplifier", description="Replicable results")
    assert statuses(check_prohibited_terms(listing, ["ass", "replica"])) == [(None, PASSED)]


def test_terms_with_regex_characters_are_taken_literally() -> None:
    listing = draft(title="Bottle (1.5l) C++ edition")
    assert statuses(check_prohibited_terms(listing, ["c++", "1.5l", "1x5l"])) == [("title", FAILED)]
    assert check_prohibited_terms(listing, ["c++", "1.5l"])[0].reason == "Contains '1.5l', 'c++'"


# -- images -------------------------------------------------------------------------------------


def test_reachable_images_pass() -> None:
    probes = [ImageProbe("https://img/a.jpg", ImageOutcome.OK)]
    assert check_images(probes, required=True) == [CheckResult(CheckName.IMAGES, PASSED)]


def test_a_new_product_needs_an_image_but_an_offer_does_not() -> None:
    assert statuses(check_images([], required=True)) == [("image_urls", FAILED)]
    assert statuses(check_images([], required=False)) == [(None, PASSED)]


def test_missing_or_broken_images_fail_one_by_one() -> None:
    probes = [
        ImageProbe("https://img/a.jpg", ImageOutcome.OK),
        ImageProbe("https://img/b.jpg", ImageOutcome.NOT_FOUND),
        ImageProbe("https://img/c.txt", ImageOutcome.NOT_AN_IMAGE),
    ]
    results = check_images(probes, required=True)
    assert [(r.field, r.status, r.suggestion) for r in results] == [
        ("image_urls[1]", FAILED, "Check the link"),
        ("image_urls[2]", FAILED, "Upload a JPEG, PNG or WebP"),
    ]
