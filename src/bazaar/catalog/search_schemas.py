"""Response models of product search: listing cards, facets and the page."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from bazaar.catalog.listing import LabelledFacetValue, ListingPage
from bazaar.catalog.offer_schemas import AppliedRuleOut
from bazaar.catalog.page_prices import CardPrice
from bazaar.catalog.taxonomy_schemas import stars
from bazaar.http.schemas import MoneyModel
from bazaar.search.model import FACET_SAMPLE, RANGE_CHECKS, SearchHit


class BrandRef(BaseModel):
    id: str
    name: str


class ProductSummaryOut(BaseModel):
    """A listing card."""

    id: str
    title: str
    brand: BrandRef | None
    category_id: str
    price: MoneyModel | None
    in_stock: bool
    rating: float | None
    image_url: str | None
    created_at: datetime
    compare_at_price: MoneyModel | None = None
    applied_rule: AppliedRuleOut | None = None

    @classmethod
    def of(cls, h: SearchHit, card: CardPrice | None = None) -> ProductSummaryOut:
        """A card; with ``card``, its from price is the caller's effective one."""
        price: MoneyModel | None = None
        compare_at: MoneyModel | None = None
        rule: AppliedRuleOut | None = None
        if card is not None:
            price, compare_at, rule = _card_fields(card)
        elif h.price is not None:
            price = MoneyModel(amount=h.price, currency=h.currency)
        return cls(
            id=h.product_id,
            title=h.title,
            brand=BrandRef(id=h.brand_id, name=h.brand_name or "") if h.brand_id else None,
            category_id=h.category_id,
            price=price,
            compare_at_price=compare_at,
            applied_rule=rule,
            in_stock=h.in_stock,
            rating=stars(h.rating),
            image_url=h.image_url,
            created_at=h.created_at,
        )


_CardFields = tuple[MoneyModel, MoneyModel | None, AppliedRuleOut | None]

# A card's price fields, by its CardPrice. A pricer's memo hands the same CardPrice object
# to every page that shows the product until its offers or the rules change, so they are
# built once, not per page (a third of what effective prices add to a listing page's JSON).
# The models are never changed after they are built; the card is kept with them so that
# its id is not reused while its entry stands. Bounded: cleared when full.
_CARD_FIELDS: dict[int, tuple[CardPrice, _CardFields]] = {}
CARD_FIELDS_SIZE = 16_384


def _card_fields(card: CardPrice) -> _CardFields:
    kept = _CARD_FIELDS.get(id(card))
    if kept is not None and kept[0] is card:
        return kept[1]
    fields = (
        MoneyModel.of(card.price),
        MoneyModel.of(card.compare_at) if card.compare_at is not None else None,
        AppliedRuleOut.of(card.rule),
    )
    if len(_CARD_FIELDS) >= CARD_FIELDS_SIZE:
        _CARD_FIELDS.clear()  # single dictionary operations: safe across request threads
    _CARD_FIELDS[id(card)] = (card, fields)
    return fields


class FacetValueOut(BaseModel):
    value: str
    count: int
    label: str | None = None

    @classmethod
    def of(cls, v: LabelledFacetValue) -> FacetValueOut:
        return cls(value=v.value, count=v.count, label=v.label)


class ProductSearchPage(BaseModel):
    items: list[ProductSummaryOut]
    total: int
    facets: dict[str, list[FacetValueOut]]
    next_cursor: str | None = None
    corrected_query: str | None = Field(
        None, description="Set when no product matched the query as typed and a correction did"
    )
    facets_approximate: bool = Field(
        False,
        description=(
            "True when the facet counts were estimated from a sample of the matches (the"
            f" {FACET_SAMPLE:,} most recently indexed) and scaled to the total; `total` and"
            " `items` are always exact"
        ),
    )
    total_approximate: bool = Field(
        False,
        description=(
            "True when `total` was estimated: a price or rating range over more than"
            f" {RANGE_CHECKS:,} matches of the words is checked on the {RANGE_CHECKS:,} most"
            " recently indexed ones, and their share that passed scales the count of all"
            " matches; `items` are always exact"
        ),
    )

    @classmethod
    def of(cls, page: ListingPage) -> ProductSearchPage:
        return cls(
            items=[ProductSummaryOut.of(h, page.prices.get(h.product_id)) for h in page.items],
            total=page.total,
            facets={k: [FacetValueOut.of(v) for v in vs] for k, vs in page.facets.items()},
            next_cursor=page.next_cursor,
            corrected_query=page.corrected_query,
            facets_approximate=page.facets_approximate,
            total_approximate=page.total_approximate,
        )


SortParam = Literal["relevance", "price_asc", "price_desc", "newest", "rating"]
