"""Catalog rules without a database: attributes, GTINs, the buy box, listing prices."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bazaar.catalog.attributes import (
    AttributeDef,
    AttributeType,
    check_definitions,
    index_value,
    merge_definitions,
    validate_attributes,
)
from bazaar.catalog.model import (
    BuyBoxReason,
    Offer,
    OfferStatus,
    VariantDraft,
    check_gtin,
    check_variant,
    choose_buy_box,
    from_price,
    gtin_is_valid,
    slugify,
)
from bazaar.kernel.money import Money

T = datetime(2026, 11, 21, tzinfo=UTC)
COLOR = AttributeDef("color", AttributeType.ENUM, required=True, values=("red", "blue"))
WEIGHT = AttributeDef("weight", AttributeType.NUMBER, unit="g")
WATERPROOF = AttributeDef("waterproof", AttributeType.BOOLEAN)
NOTE = AttributeDef("note", AttributeType.TEXT)
DEFS = {d.name: d for d in (COLOR, WEIGHT, WATERPROOF, NOTE)}


def offer(
    oid: str,
    price: int,
    shipping: int = 0,
    *,
    fulfiller: str = "retailer",
    stock: int = 5,
    days: int = 2,
    status: OfferStatus = OfferStatus.ACTIVE,
) -> Offer:
    return Offer(
        id=oid,
        product_id="prd_1",
        variant_id="var_1",
        fulfiller_id=fulfiller,
        price=Money(price, "EUR"),
        shipping=Money(shipping, "EUR"),
        stock=stock,
        delivery_days=days,
        status=status,
        created_at=T,
        updated_at=T,
    )


# --- attributes ------------------------------------------------------------------------------


def test_valid_attributes_are_normalised() -> None:
    clean, errors = validate_attributes(
        DEFS, {"color": "red", "weight": 250, "waterproof": True, "note": "  two   words "}
    )
    assert errors == []
    assert clean == {"color": "red", "weight": 250, "waterproof": True, "note": "two words"}


@pytest.mark.parametrize(
    ("values", "field", "code"),
    [
        ({"color": "green"}, "attributes.color", "invalid_value"),
        ({"color": "red", "weight": "heavy"}, "attributes.weight", "invalid_value"),
        ({"color": "red", "weight": True}, "attributes.weight", "invalid_value"),
        ({"color": "red", "weight": float("nan")}, "attributes.weight", "invalid_value"),
        ({"color": "red", "waterproof": "yes"}, "attributes.waterproof", "invalid_value"),
        ({"color": "red", "flavour": "mint"}, "attributes.flavour", "unknown_attribute"),
        ({}, "attributes.color", "required"),
    ],
)
def test_each_attribute_problem_names_its_field(
    values: dict[str, object], field: str, code: str
) -> None:
    _, errors = validate_attributes(DEFS, values)
    assert [(e.field, e.code) for e in errors] == [(field, code)]


def test_a_bad_required_value_is_reported_once() -> None:
    _, errors = validate_attributes(DEFS, {"color": 7})
    assert [e.field for e in errors] == ["attributes.color"]


def test_declarations_are_checked() -> None:
    errors = check_definitions(
        [
            AttributeDef("Colour", AttributeType.TEXT),
            AttributeDef("size", AttributeType.ENUM),
            AttributeDef("size", AttributeType.TEXT, values=("a",)),
            AttributeDef("fit", AttributeType.TEXT, unit="cm"),
        ]
    )
    assert [e.field for e in errors] == [
        "attributes[0].name",
        "attributes[1].values",
        "attributes[2].name",
        "attributes[2].values",
        "attributes[3].unit",
    ]


def test_descendants_inherit_and_may_narrow_declarations() -> None:
    narrow = AttributeDef("color", AttributeType.ENUM, values=("red",))
    merged = merge_definitions([[COLOR, WEIGHT], [narrow]])
    assert merged == {"color": narrow, "weight": WEIGHT}


@pytest.mark.parametrize(
    ("value", "text"), [(True, "true"), (False, "false"), (12, "12"), (2.50, "2.5"), ("x", "x")]
)
def test_index_values_are_canonical_text(value: object, text: str) -> None:
    assert index_value(value) == text  # type: ignore[arg-type]


# --- GTIN and variants -----------------------------------------------------------------------


@pytest.mark.parametrize("gtin", ["4006381333931", "96385074", "036000291452", "10614141000415"])
def test_real_gtins_pass(gtin: str) -> None:
    assert gtin_is_valid(gtin)


def test_a_wrong_check_digit_is_named() -> None:
    assert [e.code for e in check_gtin("4006381333932", "gtin")] == ["invalid_gtin_check_digit"]
    assert [e.code for e in check_gtin("40063813", "gtin")] == ["invalid_gtin_check_digit"]
    assert [e.code for e in check_gtin("12345", "gtin")] == ["invalid_gtin"]
    fullwidth = "".join(chr(0xFF10 + int(c)) for c in "4006381333931")
    assert [e.code for e in check_gtin(fullwidth, "gtin")] == ["invalid_gtin"]


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_exactly_one_check_digit_completes_a_gtin13(body: str) -> None:
    assert sum(gtin_is_valid(body + str(d)) for d in range(10)) == 1


def test_variant_fields_are_checked_with_their_path() -> None:
    errors = check_variant(
        VariantDraft("bad sku!", {"Size": "M"}, gtin="123", weight_g=-1), "variants[2]"
    )
    assert [e.field for e in errors] == [
        "variants[2].sku",
        "variants[2].options.Size",
        "variants[2].gtin",
        "variants[2].weight_g",
    ]


# --- buy box ---------------------------------------------------------------------------------


def test_lowest_landed_price_wins_even_when_the_sticker_price_is_higher() -> None:
    cheap_sticker = offer("ofr_a", 1000, shipping=500, fulfiller="sel_a")
    cheap_landed = offer("ofr_b", 1200, shipping=0, fulfiller="sel_b")
    box = choose_buy_box([cheap_sticker, cheap_landed], {})
    assert box is not None
    assert (box.offer_id, box.reason) == ("ofr_b", BuyBoxReason.LOWEST_LANDED_PRICE)
    assert box.landed_price == Money(1200, "EUR")


def test_ties_are_broken_by_rating_then_delivery_then_age() -> None:
    a = offer("ofr_a", 1000, fulfiller="sel_a", days=5)
    b = offer("ofr_b", 1000, fulfiller="sel_b", days=1)
    box = choose_buy_box([a, b], {"sel_a": 48, "sel_b": 45})
    assert box is not None
    assert (box.offer_id, box.reason) == (
        "ofr_a",
        BuyBoxReason.BEST_FULFILLER_RATING,
    )
    box = choose_buy_box([a, b], {"sel_a": 45, "sel_b": 45})
    assert box is not None
    assert (box.offer_id, box.reason) == (
        "ofr_b",
        BuyBoxReason.FASTEST_DELIVERY,
    )
    c = offer("ofr_c", 1000, fulfiller="sel_c", days=5)
    box = choose_buy_box([c, a], {})
    assert box is not None
    assert (box.offer_id, box.reason) == ("ofr_a", BuyBoxReason.EARLIEST_OFFER)


def test_unrated_fulfillers_rank_below_rated_ones() -> None:
    rated = offer("ofr_b", 1000, fulfiller="sel_b")
    unrated = offer("ofr_a", 1000, fulfiller="sel_a")
    box = choose_buy_box([unrated, rated], {"sel_b": 0})
    assert box is not None
    assert box.offer_id == "ofr_b"


def test_only_offers_with_stock_compete() -> None:
    empty = offer("ofr_a", 500, stock=0)
    paused = offer("ofr_b", 600, status=OfferStatus.INACTIVE)
    live = offer("ofr_c", 900, fulfiller="sel_c")
    box = choose_buy_box([empty, paused, live], {})
    assert box is not None
    assert (box.offer_id, box.reason) == ("ofr_c", BuyBoxReason.ONLY_OFFER)
    assert choose_buy_box([empty, paused], {}) is None


def test_listing_price_prefers_offers_in_stock() -> None:
    assert from_price([offer("a", 500, stock=0), offer("b", 900)]) == (Money(900, "EUR"), True)
    assert from_price([offer("a", 500, stock=0), offer("b", 900, stock=0)]) == (
        Money(500, "EUR"),
        False,
    )
    assert from_price([]) == (None, False)


def test_slugs_are_ascii_words() -> None:
    assert slugify("  Café & Crème — Deluxe ") == "cafe-creme-deluxe"


def test_shared_event_bases_are_not_event_types() -> None:
    from bazaar.catalog import events  # noqa: F401  (registers the catalog's events)
    from bazaar.kernel.events import known_event_types

    known = known_event_types()
    assert {"ProductCreated", "OfferUpdated", "CategoryCreated"} <= set(known)
    assert not {"ProductEvent", "OfferEvent", "CategoryEvent"} & set(known)
