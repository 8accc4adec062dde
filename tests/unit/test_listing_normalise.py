"""Listing normalisation: each automatic fix, reported, and idempotent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bazaar.catalog.attributes import AttributeDef, AttributeType
from bazaar.kernel.money import Money
from bazaar.listings.normalise import (
    Fix,
    FixRule,
    ListingDraft,
    canonical_quantity,
    normalise_listing,
    parse_quantity,
)

ATTRIBUTES = {
    "color": AttributeDef("color", AttributeType.ENUM, True, ("black", "gray", "blue", "red")),
    "size": AttributeDef("size", AttributeType.ENUM, False, ("S", "M", "L", "XL")),
    "volume": AttributeDef("volume", AttributeType.NUMBER, False, unit="l"),
    "weight": AttributeDef("weight", AttributeType.NUMBER, False, unit="g"),
    "pieces": AttributeDef("pieces", AttributeType.NUMBER),
    "capacity": AttributeDef("capacity", AttributeType.TEXT),
    "dishwasher_safe": AttributeDef("dishwasher_safe", AttributeType.BOOLEAN),
}
BRANDS = ["Hydro Flask", "LEGO", "adidas"]


def draft(**changes: object) -> ListingDraft:
    base: dict[str, object] = {
        "seller_id": "sel_1",
        "category_id": "cat_bottles",
        "title": "Insulated bottle",
        "price": Money(2999, "EUR"),
    }
    return ListingDraft(**{**base, **changes})  # type: ignore[arg-type]


def test_a_clean_listing_has_no_fixes() -> None:
    clean = draft(brand="LEGO", attributes={"color": "black", "volume": 1})
    result = normalise_listing(clean, ATTRIBUTES, BRANDS)
    assert result.fixes == ()
    assert result.draft == clean


def test_whitespace_is_collapsed_and_trimmed() -> None:
    result = normalise_listing(
        draft(
            title="  Insulated \t bottle\n",
            description="  First  line \n\n\n\n  Second\tline  ",
            mpn=" HF-21 ",
            image_urls=(" https://img.example/a.jpg ",),
        ),
        ATTRIBUTES,
    )
    assert result.draft.title == "Insulated bottle"
    assert result.draft.description == "First line\n\nSecond line"
    assert result.draft.mpn == "HF-21"
    assert result.draft.image_urls == ("https://img.example/a.jpg",)
    assert [(f.field, f.rule) for f in result.fixes] == [
        ("title", FixRule.WHITESPACE),
        ("description", FixRule.WHITESPACE),
        ("mpn", FixRule.WHITESPACE),
        ("image_urls[0]", FixRule.WHITESPACE),
    ]


def test_brand_takes_the_known_brands_casing() -> None:
    result = normalise_listing(draft(brand="  hydro   FLASK "), ATTRIBUTES, BRANDS)
    assert result.draft.brand == "Hydro Flask"
    assert result.fixes == (
        Fix("brand", "  hydro   FLASK ", "hydro FLASK", FixRule.WHITESPACE),
        Fix("brand", "hydro FLASK", "Hydro Flask", FixRule.BRAND_CASING),
    )


def test_an_unknown_brand_is_kept_as_written() -> None:
    result = normalise_listing(draft(brand="Acme"), ATTRIBUTES, BRANDS)
    assert (result.draft.brand, result.fixes) == ("Acme", ())


def test_gtin_separators_are_removed_but_letters_are_left_for_the_check() -> None:
    result = normalise_listing(draft(gtin="400 6381-333931"), ATTRIBUTES)
    assert result.draft.gtin == "4006381333931"
    assert result.fixes == (Fix("gtin", "400 6381-333931", "4006381333931", FixRule.GTIN_FORMAT),)
    assert normalise_listing(draft(gtin="40063813339X1"), ATTRIBUTES).fixes == ()


@pytest.mark.parametrize(
    ("given_value", "expected", "rule"),
    [
        ("BLACK", "black", FixRule.ENUM_CASE),
        ("Grey", "gray", FixRule.COLOUR_SYNONYM),
        ("navy", "blue", FixRule.COLOUR_SYNONYM),  # the category has no navy
        ("Burgundy", "red", FixRule.COLOUR_SYNONYM),
        ("charcoal", "gray", FixRule.COLOUR_SYNONYM),
    ],
)
def test_colours_map_to_the_categorys_allowed_values(
    given_value: str, expected: str, rule: FixRule
) -> None:
    result = normalise_listing(draft(attributes={"color": given_value}), ATTRIBUTES)
    assert result.draft.attributes == {"color": expected}
    assert result.fixes == (Fix("attributes.color", given_value, expected, rule),)


def test_a_synonym_stays_when_the_category_allows_it() -> None:
    palette = {"color": AttributeDef("color", AttributeType.ENUM, values=("Navy", "Blue", "Grey"))}
    assert normalise_listing(draft(attributes={"color": "navy"}), palette).draft.attributes == {
        "color": "Navy"
    }
    assert normalise_listing(draft(attributes={"color": "gray"}), palette).draft.attributes == {
        "color": "Grey"
    }


def test_colour_synonyms_apply_only_to_colour_attributes() -> None:
    shades = {"finish": AttributeDef("finish", AttributeType.ENUM, values=("gray", "matte"))}
    result = normalise_listing(draft(attributes={"finish": "grey"}), shades)
    assert (result.draft.attributes, result.fixes) == ({"finish": "grey"}, ())


def test_an_unknown_enum_value_is_left_for_the_check() -> None:
    result = normalise_listing(draft(attributes={"color": "chartreuse"}), ATTRIBUTES)
    assert (result.draft.attributes, result.fixes) == ({"color": "chartreuse"}, ())


@pytest.mark.parametrize(
    ("name", "given_value", "expected", "after", "rule"),
    [
        ("volume", "1000 ml", 1, "1 l", FixRule.UNIT),
        ("volume", "250 cl", Decimal("2.5"), "2.5 l", FixRule.UNIT),
        ("volume", "0,75 l", Decimal("0.75"), "0.75 l", FixRule.UNIT),
        ("weight", "1.5 kg", 1500, "1500 g", FixRule.UNIT),
        ("weight", "350", 350, "350 g", FixRule.NUMBER_TEXT),
        ("pieces", "12", 12, "12", FixRule.NUMBER_TEXT),
        ("dishwasher_safe", "Yes", True, "true", FixRule.BOOLEAN_TEXT),
        ("dishwasher_safe", "0", False, "false", FixRule.BOOLEAN_TEXT),
    ],
)
def test_typed_attributes_given_as_text_become_typed(
    name: str, given_value: str, expected: object, after: str, rule: FixRule
) -> None:
    result = normalise_listing(draft(attributes={name: given_value}), ATTRIBUTES)
    assert result.draft.attributes == {name: expected}
    assert type(result.draft.attributes[name]) is type(expected)
    assert result.fixes == (Fix(f"attributes.{name}", given_value, after, rule),)


def test_a_unit_of_another_dimension_is_not_converted() -> None:
    result = normalise_listing(draft(attributes={"volume": "2 kg"}), ATTRIBUTES)
    assert (result.draft.attributes, result.fixes) == ({"volume": "2 kg"}, ())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1000 ml", "1 l"),
        ("1500 g", "1.5 kg"),
        ("250 cl", "2.5 l"),
        ("75 cl", "750 ml"),
        ("0.5 kg", "500 g"),
        ("500 mg", "500 mg"),
        ("1,5 Kilo", "1.5 kg"),
        ("2 Litres", "2 l"),
        ("1.50 kg", "1.5 kg"),
        ("100CM", "100 cm"),  # lengths keep their unit: only the spelling changes
        ("1000 mm", "1000 mm"),
    ],
)
def test_text_quantities_are_written_canonically(text: str, expected: str) -> None:
    assert canonical_quantity(text) == expected


@pytest.mark.parametrize("text", ["1,500 kg", "5 in", "about 2 l", "2 x 3 cm", "-1 l", ""])
def test_ambiguous_or_foreign_quantities_are_not_touched(text: str) -> None:
    assert canonical_quantity(text) is None


def test_parse_quantity_is_exact() -> None:
    assert parse_quantity("0,1 l") == (Decimal("0.1"), "l")
    assert parse_quantity("12") == (Decimal(12), None)


def test_a_text_attribute_holding_a_quantity_is_rewritten_and_reported() -> None:
    result = normalise_listing(draft(attributes={"capacity": " 1000  ml"}), ATTRIBUTES)
    assert result.draft.attributes == {"capacity": "1 l"}
    assert result.fixes == (
        Fix("attributes.capacity", " 1000  ml", "1000 ml", FixRule.WHITESPACE),
        Fix("attributes.capacity", "1000 ml", "1 l", FixRule.UNIT),
    )


def test_undeclared_attributes_are_dropped_and_blank_values_removed() -> None:
    result = normalise_listing(
        draft(attributes={"colour_name": "Ocean", "capacity": "  "}), ATTRIBUTES
    )
    assert result.draft.attributes == {}
    assert result.fixes == (
        Fix("attributes.colour_name", "Ocean", "", FixRule.UNDECLARED_ATTRIBUTE),
        Fix("attributes.capacity", "  ", "", FixRule.WHITESPACE),
    )


def test_units_in_the_title_are_left_alone() -> None:
    result = normalise_listing(draft(title="Bottle 1000 ml"), ATTRIBUTES)
    assert (result.draft.title, result.fixes) == ("Bottle 1000 ml", ())


# -- idempotence --------------------------------------------------------------------------------

noisy_text = st.lists(
    st.sampled_from(["bottle", "  ", "\t", "Steel", "1000 ml", "\n", "navy", "LEGO", "x"]),
    max_size=6,
).map("".join)
attribute_values = st.fixed_dictionaries(
    {},
    optional={
        "color": st.sampled_from(["Grey", " navy ", "BLACK", "teal", "red", "pink", " "]),
        "size": st.sampled_from(["m", " XL", "xxl", "S"]),
        "volume": st.one_of(
            st.sampled_from(["1000 ml", "250 cl", "0,5 l", "2 kg", "1.50 l", "abc"]),
            st.integers(0, 10),
        ),
        "weight": st.sampled_from(["1.5 kg", "350", "12 oz", "1000mg"]),
        "capacity": st.sampled_from(["1000 ml", "1500  g", "100CM", "big", "75 cl"]),
        "dishwasher_safe": st.sampled_from(["yes", "No", True, "maybe"]),
        "unknown": st.text(max_size=5),
    },
)


@given(
    title=noisy_text,
    description=noisy_text,
    brand=st.none() | st.sampled_from(["lego", " Hydro  flask", "ADIDAS", "Acme", "  "]),
    gtin=st.none() | st.sampled_from(["4006381 333931", "40-06381-33393-1", "ABC"]),
    attributes=attribute_values,
)
def test_normalising_twice_gives_no_new_fixes(
    title: str,
    description: str,
    brand: str | None,
    gtin: str | None,
    attributes: dict[str, object],
) -> None:
    # Given any listing, normalised once
    once = normalise_listing(
        draft(title=title, description=description, brand=brand, gtin=gtin, attributes=attributes),
        ATTRIBUTES,
        BRANDS,
    )
    # When its result is normalised again
    twice = normalise_listing(once.draft, ATTRIBUTES, BRANDS)
    # Then nothing more changes
    assert twice.fixes == ()
    assert twice.draft == once.draft
    # And every fix really changed something
    assert all(f.before != f.after for f in once.fixes)
