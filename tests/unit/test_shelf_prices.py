"""Prices on product and listing pages: the per-context table agrees with the full resolution,
and knows when a price changes by itself."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from bazaar.kernel.money import Money
from bazaar.pricing.model import OfferPrices, PricingContext, PricingRules, effective_prices
from bazaar.pricing.price_lists import PriceBook, PriceList, PriceListEntry, SalePrice, Tier
from bazaar.pricing.shelf_table import shelf_table

NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)
OFFERS = [f"ofr_{n}" for n in range(60)]


def eur(amount: int) -> Money:
    return Money(amount, "EUR")


def random_book(rng: random.Random) -> PriceBook:
    scopes: list[dict[str, object]] = [
        {"customer_groups": frozenset({"business"})},
        {"channel_ids": frozenset({"web"})},
        {"channel_ids": frozenset({"app"})},
        {"starts_at": NOW - timedelta(days=1), "ends_at": NOW + timedelta(hours=3)},
        {"starts_at": NOW + timedelta(hours=1)},
    ]
    lists = [
        PriceList(
            f"pl_{n}",
            f"List {n}",
            "EUR",
            tuple(
                PriceListEntry(offer, (Tier(1, eur(rng.randint(100, 2000)), 9), Tier(10, eur(50))))
                for offer in rng.sample(OFFERS, 20)
            ),
            priority=rng.randint(0, 2),
            **scope,  # type: ignore[arg-type]
        )
        for n, scope in enumerate(scopes)
    ]
    sales = [
        SalePrice(
            offer, eur(rng.randint(100, 2000)), NOW - timedelta(days=1), NOW + timedelta(days=1)
        )
        for offer in rng.sample(OFFERS, 15)
    ] + [SalePrice(OFFERS[0], eur(1), NOW + timedelta(minutes=5))]
    return PriceBook(lists, sales)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("group", [None, "business", "vip"])
def test_the_table_gives_what_full_resolution_gives_at_quantity_one(
    seed: int, group: str | None
) -> None:
    rng = random.Random(seed)
    book = random_book(rng)
    table = shelf_table(book, currency="EUR", channel_id="web", customer_group=group, now=NOW)
    for offer_id in OFFERS:
        base = eur(rng.randint(100, 2000))
        full = book.resolve(
            offer_id, base, 1, currency="EUR", channel_id="web", customer_group=group, now=NOW
        )
        assert full is not None
        quick = table.price(offer_id, base)
        # None from the table means "the base price", which is what resolution gives then
        assert (quick or full) == full, offer_id


@pytest.mark.parametrize("seed", range(5))
def test_a_marks_price_is_the_tables_price_for_any_base_price(seed: int) -> None:
    # The search index keeps marks, not prices: a mark applied to any base price must give
    # what the table gives (the guest price a listing card shows).
    rng = random.Random(seed)
    table = shelf_table(
        random_book(rng), currency="EUR", channel_id="web", customer_group=None, now=NOW
    )
    marks = table.marks()
    assert marks, "the book names offers"
    for offer_id in OFFERS:
        for base in (eur(0), eur(rng.randint(100, 2000)), eur(5000)):
            shown = table.price(offer_id, base)
            expected = base.amount if shown is None else shown.unit_price.amount
            mark = marks.get(offer_id)
            assert (base.amount if mark is None else mark.apply(base.amount)) == expected


def test_the_table_and_a_page_expire_when_a_list_or_sale_starts_or_ends() -> None:
    book = random_book(random.Random(1))
    table = shelf_table(book, currency="EUR", channel_id="web", customer_group=None, now=NOW)
    # the first moment any rule starts or ends: the sale of OFFERS[0] five minutes from now
    assert table.valid_until == NOW + timedelta(minutes=5)
    assert table.holds_at(NOW + timedelta(minutes=4)) is True
    assert table.holds_at(NOW + timedelta(minutes=5)) is False
    assert book.next_change(OFFERS[0], NOW) == NOW + timedelta(minutes=5)
    assert book.next_change("ofr_unknown", NOW) is None


def test_listing_prices_say_when_the_first_price_shown_changes() -> None:
    sale = SalePrice("ofr_a", eur(500), NOW - timedelta(hours=1), NOW + timedelta(hours=2))
    later = SalePrice("ofr_b", eur(100), NOW + timedelta(hours=5))
    rules = PricingRules.compile(sale_prices=[sale, later])
    context = PricingContext("EUR", "web", NOW)
    offers = [OfferPrices("ofr_a", "prd_a", (eur(800),)), OfferPrices("ofr_c", "prd_c", (eur(1),))]
    priced = effective_prices(offers, context, rules)
    assert priced.prices["ofr_a"].unit_price == eur(500)
    assert priced.valid_until == NOW + timedelta(hours=2)  # ofr_b is not on the page
