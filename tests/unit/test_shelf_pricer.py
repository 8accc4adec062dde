"""Listing and product pages price from per-group tables plus the shopper's experiment
variants: the same prices and exposures as the pricing core, whether a card is priced afresh
or taken from the memo of an earlier page."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from bazaar.catalog.page_prices import CardPrice, card_prices
from bazaar.kernel.money import Money
from bazaar.pricing.experiments import Experiment, Exposure, Variant, assign_variants
from bazaar.pricing.model import OfferPrices, PricingContext, PricingRules, effective_prices
from bazaar.pricing.price_lists import PriceBook, PriceSource, SalePrice
from bazaar.pricing.shelf import Audience, PageMemo, ShelfPricer
from bazaar.pricing.shelf_table import shelf_table
from bazaar.search.offers import IndexedOffer, decode_offers, encode_offers
from tests.unit.test_shelf_prices import NOW, OFFERS, random_book

PRODUCTS = [f"prd_{n}" for n in range(20)]
PRODUCT_OF = {offer: PRODUCTS[n % len(PRODUCTS)] for n, offer in enumerate(OFFERS)}


def random_experiments(rng: random.Random) -> list[Experiment]:
    windows = [
        (None, None),
        (NOW - timedelta(days=1), NOW + timedelta(hours=2)),
        (NOW + timedelta(hours=1), None),  # not running yet: assigns nobody
    ]
    experiments = []
    for n in range(rng.randint(0, 3)):
        starts_at, ends_at = rng.choice(windows)
        experiments.append(
            Experiment(
                f"exp_{n}",
                (
                    Variant("control"),
                    Variant("down", price_change_percent=Decimal(rng.choice([-5, -12.5, -33]))),
                    Variant("up", price_change_percent=Decimal(rng.choice([0, 7, 100]))),
                ),
                product_ids=rng.choice([None, frozenset(rng.sample(PRODUCTS, 6))]),
                starts_at=starts_at,
                ends_at=ends_at,
            )
        )
    return experiments


def audience(rules: PricingRules, customer_id: str | None, group: str | None) -> Audience:
    context = PricingContext("EUR", "web", NOW, customer_id=customer_id, customer_group=group)
    assigned = assign_variants(rules.experiments, customer_id, NOW)
    return Audience(context, rules, 1, bool(assigned), assigned)


def pricer_for(
    who: Audience, log: list[tuple[str | None, tuple[Exposure, ...]]] | None = None
) -> ShelfPricer:
    context = who.context
    table = shelf_table(
        who.rules.price_book,
        currency=context.currency,
        channel_id=context.channel_id,
        customer_group=context.customer_group,
        now=context.now,
    )
    sink = log if log is not None else []

    def record(unit: str | None, exposures: Sequence[Exposure], now: datetime) -> None:
        sink.append((unit, tuple(exposures)))

    return ShelfPricer(who, table, PageMemo(), record)


def random_page(rng: random.Random) -> list[OfferPrices]:
    # mostly euros; some offers only in another currency, which no euro page prices
    return [
        OfferPrices(offer, PRODUCT_OF[offer], (Money(rng.randint(100, 2000), currency),))
        for offer in rng.sample(OFFERS, 40)
        for currency in [rng.choice(["EUR"] * 9 + ["USD"])]
    ]


@pytest.mark.parametrize("seed", range(40))
def test_shelf_prices_equal_the_pricing_core_for_random_rules_groups_and_experiments(
    seed: int,
) -> None:
    # Given random price lists, sales and experiments, and a random shopper
    rng = random.Random(seed)
    book = random_book(rng)
    rules = PricingRules(book, experiments=tuple(random_experiments(rng)))
    customer = rng.choice([None, "usr_a", "usr_b", "usr_c", "usr_d"])
    who = audience(rules, customer, rng.choice([None, "business", "vip"]))
    offers = random_page(rng)

    # When the page is priced from the table and by the core
    shelf = pricer_for(who).price(offers)
    core = effective_prices(offers, who.context, rules)

    # Then every price the shelf gives is the core's, and any it leaves out is the base price
    assert shelf.prices.keys() <= core.prices.keys()
    for offer in offers:
        full = core.prices.get(offer.offer_id)
        quick = shelf.prices.get(offer.offer_id)
        if quick is None and full is not None:
            assert full.source is PriceSource.BASE, offer
        else:
            assert quick == full, offer
    # And the same experiments are exposed, product by product and for the page
    assert shelf.exposures == core.exposures
    assert shelf.exposures_by_product == core.exposures_by_product


def test_an_experiment_customer_sees_variant_prices_of_covered_products_only() -> None:
    # Given a 10 % lower variant over one product, and a customer assigned to it
    experiment = Experiment(
        "exp_tee",
        (Variant("control", weight=0), Variant("lower", price_change_percent=Decimal(-10))),
        product_ids=frozenset({"prd_tee"}),
    )
    rules = PricingRules(PriceBook(), experiments=(experiment,))
    who = audience(rules, "usr_a", None)
    offers = [
        OfferPrices("ofr_tee", "prd_tee", (Money(2000, "EUR"),)),
        OfferPrices("ofr_mug", "prd_mug", (Money(900, "EUR"),)),
    ]

    # When the shelf prices both offers
    priced = pricer_for(who).price(offers)

    # Then only the tee changes, and only its experiment is exposed
    assert priced.prices["ofr_tee"].unit_price == Money(1800, "EUR")
    assert priced.prices["ofr_tee"].source is PriceSource.EXPERIMENT
    assert priced.prices["ofr_mug"].source is PriceSource.BASE
    assert priced.exposures_by_product == {"prd_tee": (Exposure("exp_tee", "lower"),)}


def core_cards(
    products: dict[str, tuple[IndexedOffer, ...]], who: Audience
) -> dict[str, CardPrice]:
    """The cards the definition gives: the lowest effective landed price, in stock first."""
    offers = [
        OfferPrices(o.id, product_id, (Money(o.price, o.currency),))
        for product_id, found in products.items()
        for o in found
    ]
    prices = effective_prices(offers, who.context, who.rules).prices
    cards = {}
    for product_id, found in products.items():
        ranked = []
        for o in found:
            price = prices[o.id]
            landed = price.unit_price.amount + o.shipping
            regular = price.regular_price.amount + o.shipping
            rule = price if price.source is not PriceSource.BASE else None
            compare_at = Money(regular, "EUR") if rule and regular > landed else None
            ranked.append(
                ((not o.in_stock, landed), CardPrice(Money(landed, "EUR"), compare_at, rule))
            )
        cards[product_id] = min(ranked, key=lambda r: r[0])[1]
    return cards


@pytest.mark.parametrize("seed", range(20))
def test_cards_from_the_memo_are_the_cards_priced_afresh_and_log_the_same_exposures(
    seed: int,
) -> None:
    # Given random rules, a shopper, and a page of products with offers in and out of stock
    rng = random.Random(seed)
    rules = PricingRules(random_book(rng), experiments=tuple(random_experiments(rng)))
    who = audience(rules, rng.choice([None, "usr_a", "usr_b"]), rng.choice([None, "business"]))
    stored = {
        product_id: encode_offers(
            [
                IndexedOffer(o, rng.randint(100, 2000), rng.choice([0, 250]), "EUR", "ret", s)
                for o in OFFERS
                if PRODUCT_OF[o] == product_id
                for s in [rng.random() < 0.7]
            ]
        )
        for product_id in rng.sample(PRODUCTS, 12)
    }
    log: list[tuple[str | None, tuple[Exposure, ...]]] = []
    pricer = pricer_for(who, log)

    # When the page is shown twice: priced, then from the memo (offers decoded anew)
    pages = []
    for _ in range(2):
        decoded = decode_offers(list(stored.values()))
        pages.append(card_prices(dict(zip(stored, decoded, strict=True)), pricer))

    # Then both show the same cards, and those a rule may change are the core's
    assert pages[0] == pages[1]
    expected = core_cards(dict(zip(stored, decode_offers(list(stored.values())), strict=True)), who)
    cards, _ = pages[0]
    for product_id, card in cards.items():
        assert card == expected[product_id], product_id
    for product_id in expected.keys() - cards.keys():
        assert expected[product_id].rule is None, product_id
    # And each showing logs the experiments the core says the page exposes
    core = effective_prices(
        [
            OfferPrices(o.id, p, (Money(o.price, o.currency),))
            for p, found in zip(stored, decode_offers(list(stored.values())), strict=True)
            for o in found
        ],
        who.context,
        rules,
    )
    assert [exposures for _, exposures in log] == ([core.exposures] * 2 if core.exposures else [])


def test_a_product_whose_offers_changed_is_priced_again_not_taken_from_the_memo() -> None:
    # Given a sale at 40.00 on an offer at 50.00, and a page priced once
    sale = SalePrice("ofr_x", Money(4000, "EUR"), NOW - timedelta(days=1))
    pricer = pricer_for(audience(PricingRules(PriceBook((), (sale,))), None, None))
    before = (IndexedOffer("ofr_x", 5000, 0, "EUR", "ret", True),)
    first, _ = card_prices({"prd_x": before}, pricer)
    assert first["prd_x"].price == Money(4000, "EUR")
    assert first["prd_x"].compare_at == Money(5000, "EUR")

    # When the offer's own price drops below the sale (a new document version)
    after = (IndexedOffer("ofr_x", 3000, 0, "EUR", "ret", True),)
    second, _ = card_prices({"prd_x": after}, pricer)

    # Then the card shows the new base price, not the kept sale
    assert second["prd_x"] == CardPrice(Money(3000, "EUR"), None, None)


def test_decoding_equal_stored_offers_gives_one_tuple() -> None:
    stored = encode_offers([IndexedOffer("ofr_a", 1000, 250, "EUR", "retailer", True)])
    first, again, none = decode_offers([stored, stored[:1] + stored[1:], None])
    assert first is again
    assert decode_offers([None, stored[::-1][::-1]]) == [(), first]
    assert decode_offers([stored])[0] is first  # kept, not parsed again
    assert first == (IndexedOffer("ofr_a", 1000, 250, "EUR", "retailer", True),)
    assert none == ()
