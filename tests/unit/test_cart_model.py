"""Cart rules, shipping rule inputs and the cart quote, without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bazaar.carts import model
from bazaar.carts.model import Cart, CartAccess, CartItem, CartStatus, ItemProblem
from bazaar.carts.quoting import (
    BasePrices,
    FreeShipping,
    QuoteSettings,
    checkout_lines,
    price_cart,
)
from bazaar.carts.shipping_rules import (
    RuleInput,
    RuleKind,
    build_rules,
    default_rule,
    rule_kind,
)
from bazaar.catalog.model import CheckoutOffer, OfferStatus, ProductStatus
from bazaar.checkout.shipping import WeightBand
from bazaar.checkout.tax import DEFAULT_TAX_TABLE, RateClass
from bazaar.identity.model import Principal, Role
from bazaar.kernel.errors import Conflict, NotFound, ValidationFailed
from bazaar.kernel.money import Money

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TTL = 7 * 86_400
ALICE = Principal("user", "usr_alice", Role.CUSTOMER)


def eur(amount: int) -> Money:
    return Money(amount, "EUR")


def offer(
    offer_id: str = "ofr_a",
    *,
    price: int = 1000,
    stock: int = 5,
    status: OfferStatus = OfferStatus.ACTIVE,
    product_status: ProductStatus = ProductStatus.ACTIVE,
    fulfiller: str = "retailer",
    category: str = "cat_books",
    ancestors: tuple[str, ...] = ("cat_media",),
    weight_g: int | None = 500,
) -> CheckoutOffer:
    return CheckoutOffer(
        offer_id=offer_id,
        product_id=f"prd_{offer_id}",
        variant_id=f"var_{offer_id}",
        title=f"Product {offer_id}",
        product_status=product_status,
        category_id=category,
        category_ancestor_ids=ancestors,
        sku=f"SKU-{offer_id}",
        weight_g=weight_g,
        fulfiller_id=fulfiller,
        price=eur(price),
        stock=stock,
        status=status,
    )


def guest_cart(token: str = "secret-token") -> Cart:
    return model.new_cart(
        "crt_g", currency="EUR", country=None, owner_id=None, token=token, now=T0, ttl_s=TTL
    )


def customer_cart(owner: str = "usr_alice") -> Cart:
    return model.new_cart(
        "crt_c", currency="EUR", country="NL", owner_id=owner, token=None, now=T0, ttl_s=TTL
    )


def with_items(cart: Cart, *lines: tuple[str, int]) -> Cart:
    items = tuple(CartItem(f"cti_{o}", o, q, T0, T0) for o, q in lines)
    return replace(cart, items=items)


# --- access ----------------------------------------------------------------------------------


def test_a_guest_cart_is_reached_with_its_token_only() -> None:
    cart = guest_cart("s3cret")

    assert cart.token_hash != "s3cret"  # only the hash is kept
    assert model.may_access(cart, CartAccess(token="s3cret"))
    assert model.may_access(cart, CartAccess(ALICE, "s3cret"))
    assert not model.may_access(cart, CartAccess(token="guess"))
    assert not model.may_access(cart, CartAccess(ALICE))


def test_a_customer_cart_is_reached_by_its_owner_only() -> None:
    cart = customer_cart("usr_alice")

    assert model.may_access(cart, CartAccess(ALICE))
    assert not model.may_access(cart, CartAccess(Principal("user", "usr_bob", Role.CUSTOMER)))
    assert not model.may_access(cart, CartAccess(Principal("api_key", "usr_alice", Role.PARTNER)))
    assert not model.may_access(cart, CartAccess(token="anything"))


def test_tokens_are_long_and_random() -> None:
    tokens = {model.new_cart_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(len(t) >= 43 for t in tokens)


def test_a_cart_has_an_owner_or_a_token_not_both() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        model.new_cart(
            "crt_x", currency="EUR", country=None, owner_id="u", token="t", now=T0, ttl_s=1
        )


# --- items -----------------------------------------------------------------------------------


def test_adding_the_same_offer_adds_up_and_refreshes_expiry() -> None:
    cart = guest_cart()
    later = T0 + timedelta(hours=3)

    once = model.add_item(cart, "ofr_a", 2, offer(), new_item_id="cti_1", now=T0, ttl_s=TTL)
    twice = model.add_item(once, "ofr_a", 3, offer(), new_item_id="cti_2", now=later, ttl_s=TTL)

    assert [(i.id, i.quantity) for i in twice.items] == [("cti_1", 5)]
    assert twice.expires_at == later + timedelta(seconds=TTL)
    assert twice.version == cart.version + 2


@pytest.mark.parametrize(
    ("quantity", "the_offer", "field", "code"),
    [
        (0, offer(), "quantity", "out_of_range"),
        (1000, offer(), "quantity", "out_of_range"),
        (6, offer(stock=5), "quantity", "insufficient_stock"),
        (1, offer(stock=0), "quantity", "insufficient_stock"),
        (1, None, "offer_id", "unknown_offer"),
        (1, offer(status=OfferStatus.INACTIVE), "offer_id", "not_available"),
        (1, offer(product_status=ProductStatus.ARCHIVED), "offer_id", "not_available"),
        (1, offer(product_status=ProductStatus.DRAFT), "offer_id", "not_available"),
    ],
)
def test_adding_refuses_what_cannot_be_bought(
    quantity: int, the_offer: CheckoutOffer | None, field: str, code: str
) -> None:
    with pytest.raises(ValidationFailed) as failure:
        model.add_item(guest_cart(), "ofr_a", quantity, the_offer, new_item_id="c", now=T0, ttl_s=1)

    assert [(e.field, e.code) for e in failure.value.errors] == [(field, code)]


def test_a_line_never_exceeds_999() -> None:
    cart = with_items(guest_cart(), ("ofr_a", 998))
    with pytest.raises(ValidationFailed) as failure:
        model.add_item(cart, "ofr_a", 2, offer(stock=5000), new_item_id="c", now=T0, ttl_s=1)
    assert failure.value.errors[0].field == "quantity"


def test_a_cart_holds_at_most_100_lines() -> None:
    cart = with_items(guest_cart(), *((f"ofr_{n}", 1) for n in range(model.MAX_LINES)))
    with pytest.raises(ValidationFailed) as failure:
        model.add_item(cart, "ofr_new", 1, offer("ofr_new"), new_item_id="c", now=T0, ttl_s=1)
    assert (failure.value.errors[0].field, failure.value.errors[0].code) == (
        "offer_id",
        "cart_full",
    )


def test_setting_a_quantity_checks_availability_and_the_item() -> None:
    cart = with_items(guest_cart(), ("ofr_a", 2))

    changed = model.set_quantity(cart, "cti_ofr_a", 4, offer(stock=4), now=T0, ttl_s=TTL)
    assert changed.items[0].quantity == 4
    with pytest.raises(ValidationFailed):
        model.set_quantity(cart, "cti_ofr_a", 5, offer(stock=4), now=T0, ttl_s=TTL)
    with pytest.raises(NotFound):
        model.set_quantity(cart, "cti_nope", 1, offer(), now=T0, ttl_s=TTL)


def test_changes_clear_the_abandoned_mark_and_only_open_carts_change() -> None:
    cart = replace(with_items(guest_cart(), ("ofr_a", 1)), abandoned_at=T0)
    assert model.remove_item(cart, "cti_ofr_a", now=T0, ttl_s=TTL).abandoned_at is None

    for status in (CartStatus.MERGED, CartStatus.ORDERED):
        with pytest.raises(Conflict):
            model.remove_item(replace(cart, status=status), "cti_ofr_a", now=T0, ttl_s=TTL)


def test_item_problems_name_why_a_line_cannot_be_bought() -> None:
    assert model.item_problem(offer(stock=3), 3, "EUR") is None
    assert model.item_problem(offer(stock=2), 3, "EUR") is ItemProblem.INSUFFICIENT_STOCK
    assert model.item_problem(None, 1, "EUR") is ItemProblem.UNKNOWN_OFFER
    assert model.item_problem(offer(), 1, "GBP") is ItemProblem.NOT_AVAILABLE


def test_diff_items_names_the_writes() -> None:
    before = with_items(guest_cart(), ("ofr_a", 1), ("ofr_b", 1))
    after = model.add_item(
        model.remove_item(before, "cti_ofr_b", now=T0, ttl_s=TTL),
        "ofr_c",
        1,
        offer("ofr_c"),
        new_item_id="cti_ofr_c",
        now=T0,
        ttl_s=TTL,
    )
    after = model.set_quantity(after, "cti_ofr_a", 2, offer(), now=T0, ttl_s=TTL)

    changes = model.diff_items(before, after)

    assert [i.id for i in changes.added] == ["cti_ofr_c"]
    assert [(i.id, i.quantity) for i in changes.changed] == [("cti_ofr_a", 2)]
    assert changes.removed == ("cti_ofr_b",)


# --- merge -----------------------------------------------------------------------------------


def test_merge_adds_quantities_capped_by_availability() -> None:
    # Given a customer with 2 of A and 1 of C, and a guest cart with 4 of A, 1 of B, D and E
    target = with_items(customer_cart(), ("ofr_a", 2), ("ofr_c", 1))
    guest = with_items(guest_cart(), ("ofr_a", 4), ("ofr_b", 1), ("ofr_d", 1), ("ofr_e", 1))
    offers = {
        "ofr_a": offer("ofr_a", stock=5),
        "ofr_b": offer("ofr_b", stock=9),
        "ofr_c": offer("ofr_c", stock=0),
        "ofr_d": offer("ofr_d", status=OfferStatus.INACTIVE),
        # ofr_e is unknown to the catalog
    }
    ids = iter(["cti_new1", "cti_new2"])

    # When the guest cart is merged
    merged, emptied = model.merge(
        target, guest, offers, new_item_id=lambda: next(ids), now=T0, ttl_s=TTL
    )

    # Then A is capped at the 5 in stock, B is carried over, D and E are dropped, and C
    # (the customer's own line, now out of stock) is left as it was
    assert [(i.offer_id, i.quantity) for i in merged.items] == [
        ("ofr_a", 5),
        ("ofr_c", 1),
        ("ofr_b", 1),
    ]
    assert (emptied.status, emptied.items, emptied.merged_into) == (
        CartStatus.MERGED,
        (),
        merged.id,
    )


def test_merge_never_reduces_the_customers_own_line() -> None:
    target = with_items(customer_cart(), ("ofr_a", 4))
    guest = with_items(guest_cart(), ("ofr_a", 1))

    merged, _ = model.merge(
        target, guest, {"ofr_a": offer(stock=2)}, new_item_id=lambda: "x", now=T0, ttl_s=TTL
    )

    assert merged.items[0].quantity == 4


def test_merge_takes_the_guests_country_when_the_customer_has_none() -> None:
    target = replace(customer_cart(), country=None)
    guest = replace(guest_cart(), country="BE")
    merged, _ = model.merge(target, guest, {}, new_item_id=lambda: "x", now=T0, ttl_s=TTL)
    assert merged.country == "BE"


# --- abandonment -----------------------------------------------------------------------------


def test_an_idle_cart_with_items_is_abandoned_once() -> None:
    cart = with_items(guest_cart(), ("ofr_a", 1))
    hour = 3600

    assert not model.is_abandoned(cart, T0 + timedelta(minutes=59), hour)
    assert model.is_abandoned(cart, T0 + timedelta(hours=1), hour)
    assert not model.is_abandoned(replace(cart, abandoned_at=T0), T0 + timedelta(hours=2), hour)
    assert not model.is_abandoned(replace(cart, items=()), T0 + timedelta(hours=2), hour)
    assert not model.is_abandoned(cart, T0 + timedelta(seconds=TTL), hour)  # expired


# --- shipping rules --------------------------------------------------------------------------


def test_rule_inputs_become_checkout_rules_of_each_kind() -> None:
    rules = build_rules(
        [
            RuleInput(RuleKind.FLAT, amount=eur(395), countries=("nl",)),
            RuleInput(RuleKind.FREE_OVER, label="EU", amount=eur(695), free_over=eur(7500)),
            RuleInput(RuleKind.BY_WEIGHT, bands=(WeightBand(1000, eur(500)),)),
        ],
        ["r1", "r2", "r3"],
        "EUR",
    )

    assert [rule_kind(r) for r in rules] == [RuleKind.FLAT, RuleKind.FREE_OVER, RuleKind.BY_WEIGHT]
    assert rules[0].countries == frozenset({"NL"})
    assert (rules[1].label, rules[2].label) == ("EU", "Shipping by weight")


def test_rule_inputs_name_every_bad_field() -> None:
    with pytest.raises(ValidationFailed) as failure:
        build_rules(
            [
                RuleInput(RuleKind.FLAT),
                RuleInput(RuleKind.FREE_OVER, amount=Money(100, "GBP")),
                RuleInput(
                    RuleKind.BY_WEIGHT,
                    bands=(WeightBand(2000, eur(1)), WeightBand(1000, eur(-1))),
                    countries=("UK",),
                ),
            ],
            ["a", "b", "c"],
            "EUR",
        )

    assert {(e.field, e.code) for e in failure.value.errors} == {
        ("rules[0].amount", "required"),
        ("rules[1].free_over", "required"),
        ("rules[1].amount.currency", "currency_mismatch"),
        ("rules[2].bands[1].price.amount", "negative"),
        ("rules[2].bands[1].up_to_g", "out_of_order"),
        ("rules[2].countries[0]", "unknown_country"),
    }


def test_the_default_rule_is_free_over_the_threshold_or_flat() -> None:
    assert rule_kind(default_rule("EUR", 495, 5000)) is RuleKind.FREE_OVER
    assert rule_kind(default_rule("EUR", 495, 0)) is RuleKind.FLAT


# --- the quote -------------------------------------------------------------------------------

SETTINGS = QuoteSettings(DEFAULT_TAX_TABLE, True, (default_rule("EUR", 495, 5000),))


def test_checkout_lines_refuse_an_empty_cart_and_name_bad_lines() -> None:
    with pytest.raises(ValidationFailed) as empty:
        checkout_lines(guest_cart(), {})
    assert empty.value.errors[0].field == "items"

    cart = with_items(guest_cart(), ("ofr_a", 1), ("ofr_b", 3))
    with pytest.raises(ValidationFailed) as bad:
        checkout_lines(cart, {"ofr_a": offer("ofr_a"), "ofr_b": offer("ofr_b", stock=2)})
    assert [(e.field, e.code) for e in bad.value.errors] == [
        ("items[1].quantity", "insufficient_stock")
    ]


def test_price_cart_applies_inherited_vat_classes_and_the_default_shipping() -> None:
    # Given a book (reduced class inherited from "media") and a lamp (standard), tax-inclusive
    cart = with_items(guest_cart(), ("ofr_book", 2), ("ofr_lamp", 1))
    offers = {
        "ofr_book": offer("ofr_book", price=1090, category="cat_books", ancestors=("cat_media",)),
        "ofr_lamp": offer("ofr_lamp", price=2420, category="cat_lamps", ancestors=()),
    }
    lines = checkout_lines(cart, offers)

    # When it is priced for the Netherlands
    quote = price_cart(
        lines,
        offers,
        "NL",
        settings=SETTINGS,
        shipping_rules={},
        rate_classes={"cat_media": RateClass.REDUCED},
        discounts=BasePrices().price(cart, lines, offers).discounts,
    )

    # Then the book carries 9 % VAT, the lamp 21 %; the subtotal 46.00 is under the 50.00
    # threshold, so standard shipping (4.95, with 21 % VAT inside) applies
    book, lamp = quote.lines
    assert (book.rate_class, book.tax_rate, book.tax) == (
        RateClass.REDUCED,
        Decimal("0.09"),
        eur(180),
    )
    assert (lamp.rate_class, lamp.tax) == (RateClass.STANDARD, eur(420))
    assert quote.shipping[0].amount == eur(495)
    assert quote.totals.grand_total == eur(4600 + 495)
    assert quote.totals.tax == eur(180 + 420 + 86)


def test_price_cart_names_the_country_when_it_cannot_ship_or_tax() -> None:
    cart = with_items(guest_cart(), ("ofr_a", 1))
    offers = {"ofr_a": offer()}
    lines = checkout_lines(cart, offers)

    with pytest.raises(ValidationFailed) as failure:
        price_cart(lines, offers, "US", settings=SETTINGS, shipping_rules={}, rate_classes={})

    assert [e.field for e in failure.value.errors] == ["country"]


def test_budgeted_free_shipping_waives_up_to_its_budget_and_records_what_it_took() -> None:
    # Given two fulfillers' parcels, each under the 50.00 threshold (4.95 shipping each), and
    # free shipping for both with 6.00 left in the promotion's budget
    cart = with_items(guest_cart(), ("ofr_a", 1), ("ofr_b", 1))
    offers = {"ofr_a": offer("ofr_a"), "ofr_b": offer("ofr_b", fulfiller="sel_b")}
    lines = checkout_lines(cart, offers)
    waiver = FreeShipping("prm_ship", "Free shipping week", budget=eur(600))

    # When the cart is quoted
    quote = price_cart(
        lines,
        offers,
        "NL",
        settings=SETTINGS,
        shipping_rules={},
        rate_classes={},
        free_shipping={"retailer": waiver, "sel_b": waiver},
    )

    # Then the first fulfiller (by id) ships free and the second pays what the budget left
    # uncovered, each charge naming the promotion, what it waived and why
    charges = {c.fulfiller_id: c for c in quote.shipping}
    assert (charges["retailer"].amount, charges["retailer"].waived) == (eur(0), eur(495))
    assert (charges["sel_b"].amount, charges["sel_b"].waived) == (eur(390), eur(105))
    assert {c.rule_id for c in quote.shipping} == {"prm_ship"}
    assert "4.95 EUR from the promotion's budget" in charges["retailer"].explanation
    assert "1.05 EUR of 4.95 EUR waived" in charges["sel_b"].explanation
    assert quote.totals.shipping == eur(390)


def test_unbudgeted_free_shipping_waives_everything_and_records_nothing() -> None:
    cart = with_items(guest_cart(), ("ofr_a", 1))
    offers = {"ofr_a": offer("ofr_a")}
    quote = price_cart(
        checkout_lines(cart, offers),
        offers,
        "NL",
        settings=SETTINGS,
        shipping_rules={},
        rate_classes={},
        free_shipping={"retailer": FreeShipping("prm_ship", "Free shipping week")},
    )
    [charge] = quote.shipping
    assert (charge.amount, charge.waived, charge.rule_id) == (eur(0), None, "prm_ship")
