"""A listing card's JSON: price fields built once per card price, the same every time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bazaar.catalog import search_schemas
from bazaar.catalog.page_prices import CardPrice
from bazaar.catalog.search_schemas import ProductSummaryOut
from bazaar.kernel.money import Money
from bazaar.pricing.price_lists import EffectivePrice, PriceSource
from bazaar.search.model import SearchHit

HIT = SearchHit(
    product_id="prd_x",
    title="Kettle",
    brand_id=None,
    brand_name=None,
    category_id="cat_x",
    price=3000,
    currency="EUR",
    in_stock=True,
    rating=None,
    image_url=None,
    created_at=datetime(2026, 11, 1, tzinfo=UTC),
)
SALE = EffectivePrice(
    Money(2400, "EUR"), Money(3000, "EUR"), PriceSource.SALE, None, "Sale: 24.00 instead of 30.00"
)


def card_json(card: CardPrice | None) -> dict[str, Any]:
    return ProductSummaryOut.of(HIT, card).model_dump(mode="json")


def test_a_priced_card_shows_its_price_the_price_before_and_the_rule() -> None:
    card = CardPrice(Money(2895, "EUR"), Money(3495, "EUR"), SALE)

    first, again = card_json(card), card_json(card)

    assert first == again
    assert first["price"] == {"amount": 2895, "currency": "EUR"}
    assert first["compare_at_price"] == {"amount": 3495, "currency": "EUR"}
    assert first["applied_rule"] == {
        "source": "sale",
        "rule_id": None,
        "explanation": "Sale: 24.00 instead of 30.00",
    }
    # an equal card price built anew (a rule or an offer changed) renders the same
    assert card_json(CardPrice(Money(2895, "EUR"), Money(3495, "EUR"), SALE)) == first


def test_cards_are_never_shown_another_cards_price_when_the_memo_is_full(
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(search_schemas, "CARD_FIELDS_SIZE", 4)
    cards = [CardPrice(Money(1000 + n, "EUR"), None, None) for n in range(20)]
    for _ in range(3):
        for n, card in enumerate(cards):
            shown = card_json(card)
            assert shown["price"]["amount"] == 1000 + n
            assert shown["compare_at_price"] is None
            assert shown["applied_rule"] is None
    assert len(search_schemas._CARD_FIELDS) <= 4
    # without a card, the hit's own from price
    assert card_json(None)["price"] == {"amount": 3000, "currency": "EUR"}
