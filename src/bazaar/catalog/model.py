"""Catalog rules: categories, brands, products, variants, offers and the buy box.

Pure Python: no database, no web framework.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bazaar.catalog.attributes import AttributeDef, AttributeValue
from bazaar.kernel.errors import FieldError
from bazaar.kernel.money import Money

SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
GTIN_LENGTHS = (8, 12, 13, 14)
MAX_TITLE = 200
MAX_DESCRIPTION = 20_000
MAX_NAME = 120
MAX_MPN = 64
MAX_PRICE_MINOR = 10**11  # a billion in a two-decimal currency: beyond that it is a typo
MAX_STOCK = 10**9
MAX_DELIVERY_DAYS = 365
MAX_CATEGORY_DEPTH = 8
RETAILER = "retailer"  # the fulfiller id of the store's own offers


class ProductStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"


class OfferStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


@dataclass(frozen=True)
class Category:
    id: str
    slug: str
    name: str
    parent_id: str | None
    path: str  # slug path from the root: "apparel/t-shirts"
    ancestor_ids: tuple[str, ...]  # root first, excluding this category
    attributes: tuple[AttributeDef, ...]
    created_at: datetime
    updated_at: datetime

    @property
    def depth(self) -> int:
        return len(self.ancestor_ids)

    @property
    def chain_ids(self) -> tuple[str, ...]:
        """Ancestors and this category, root first: what the search index filters on."""
        return (*self.ancestor_ids, self.id)


@dataclass(frozen=True)
class Brand:
    id: str
    slug: str
    name: str
    created_at: datetime


@dataclass(frozen=True)
class Dimensions:
    length_mm: int
    width_mm: int
    height_mm: int


@dataclass(frozen=True)
class Variant:
    id: str
    product_id: str
    sku: str
    options: Mapping[str, str]  # {"size": "M", "color": "black"}
    gtin: str | None
    weight_g: int | None
    dimensions: Dimensions | None
    position: int


@dataclass(frozen=True)
class Product:
    id: str
    title: str
    description: str
    brand_id: str | None
    category_id: str
    attributes: Mapping[str, AttributeValue]
    gtin: str | None
    mpn: str | None
    status: ProductStatus
    rating: int | None  # tenths of a star, 0..50
    rating_count: int
    created_at: datetime
    updated_at: datetime
    variants: tuple[Variant, ...] = ()


@dataclass(frozen=True)
class Fulfiller:
    """Who ships an offer: the retailer itself or a marketplace seller."""

    id: str
    name: str
    rating: int | None  # tenths of a star, 0..50
    updated_at: datetime


@dataclass(frozen=True)
class Offer:
    """One fulfiller's price and stock for one variant."""

    id: str
    product_id: str
    variant_id: str
    fulfiller_id: str
    price: Money
    shipping: Money
    stock: int
    delivery_days: int
    status: OfferStatus
    created_at: datetime
    updated_at: datetime

    @property
    def landed_price(self) -> Money:
        """What the shopper pays for one unit delivered: price plus shipping."""
        return self.price + self.shipping

    @property
    def available(self) -> bool:
        return self.status is OfferStatus.ACTIVE and self.stock > 0


@dataclass(frozen=True)
class ImageRef:
    """A product image as the catalog shows it (the media context owns the files)."""

    id: str
    alt: str
    url: str  # the large rendition
    thumb_url: str
    width: int
    height: int
    renditions: Mapping[str, str]  # rendition name ("thumb", "medium.webp", ...) -> URL


class BuyBoxReason(StrEnum):
    ONLY_OFFER = "only_offer"
    LOWEST_LANDED_PRICE = "lowest_landed_price"
    BEST_FULFILLER_RATING = "best_fulfiller_rating"
    FASTEST_DELIVERY = "fastest_delivery"
    EARLIEST_OFFER = "earliest_offer"


@dataclass(frozen=True)
class BuyBox:
    offer_id: str
    variant_id: str
    landed_price: Money
    reason: BuyBoxReason


def choose_buy_box(offers: Sequence[Offer], ratings: Mapping[str, int | None]) -> BuyBox | None:
    """The offer a shopper buys by default, and why it won.

    Only active offers with stock compete. The lowest landed price wins; on a tie the
    fulfiller with the better rating (unrated ranks last), then the faster delivery, then the
    earliest offer. ``reason`` names the first criterion that separated the winner from the
    runner-up, so sellers can see what to improve.
    """
    eligible = [o for o in offers if o.available]
    if not eligible:
        return None

    def rank(o: Offer) -> tuple[int, int, int, str]:
        rating = ratings.get(o.fulfiller_id)
        return (
            o.landed_price.amount,
            -(rating if rating is not None else -1),
            o.delivery_days,
            o.id,
        )

    ordered = sorted(eligible, key=rank)
    winner = ordered[0]
    if len(ordered) == 1:
        reason = BuyBoxReason.ONLY_OFFER
    else:
        a, b = rank(winner), rank(ordered[1])
        reasons = (
            BuyBoxReason.LOWEST_LANDED_PRICE,
            BuyBoxReason.BEST_FULFILLER_RATING,
            BuyBoxReason.FASTEST_DELIVERY,
            BuyBoxReason.EARLIEST_OFFER,
        )
        reason = next(r for r, x, y in zip(reasons, a, b, strict=True) if x != y)
    return BuyBox(winner.id, winner.variant_id, winner.landed_price, reason)


def from_price(offers: Sequence[Offer]) -> tuple[Money | None, bool]:
    """The listing price and availability of a product.

    The lowest landed price among offers with stock; without stock, the lowest of any
    active offer (shown as out of stock); ``None`` without offers.
    """
    active = [o for o in offers if o.status is OfferStatus.ACTIVE]
    available = [o for o in active if o.stock > 0]
    pool = available or active
    if not pool:
        return None, False
    return min((o.landed_price for o in pool), key=lambda m: m.amount), bool(available)


def gtin_is_valid(gtin: str) -> bool:
    """GTIN-8/12/13/14 with a correct GS1 mod-10 check digit."""
    if not gtin.isascii() or not gtin.isdigit() or len(gtin) not in GTIN_LENGTHS:
        return False
    digits = [int(c) for c in gtin]
    body, check = digits[:-1], digits[-1]
    # weights alternate 3,1,3,... starting from the digit next to the check digit
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def check_gtin(value: str | None, field: str) -> list[FieldError]:
    if value is None or gtin_is_valid(value):
        return []
    if not (value.isascii() and value.isdigit()) or len(value) not in GTIN_LENGTHS:
        return [FieldError(field, "8, 12, 13 or 14 digits", "invalid_gtin")]
    return [FieldError(field, "The check digit is wrong", "invalid_gtin_check_digit")]


def clean_text(value: str) -> str:
    """Collapse runs of whitespace and trim: titles and names are single-line."""
    return " ".join(value.split())


def check_title(title: str, field: str = "title", limit: int = MAX_TITLE) -> list[FieldError]:
    if not title:
        return [FieldError(field, "Must not be blank", "required")]
    if len(title) > limit:
        return [FieldError(field, f"At most {limit} characters", "too_long")]
    return []


def check_rating(rating: int | None, field: str) -> list[FieldError]:
    if rating is not None and not 0 <= rating <= 50:
        return [FieldError(field, "Tenths of a star, 0 to 50", "out_of_range")]
    return []


@dataclass(frozen=True)
class VariantDraft:
    sku: str
    options: Mapping[str, str] = field(default_factory=dict)
    gtin: str | None = None
    weight_g: int | None = None
    dimensions: Dimensions | None = None


def check_variant(draft: VariantDraft, at: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if not SKU.match(draft.sku):
        errors.append(
            FieldError(f"{at}.sku", "Letters, digits, '.', '_' or '-', at most 64 characters")
        )
    for name, value in draft.options.items():
        if not SLUG.match(name.replace("_", "-")) or len(name) > 40:
            errors.append(FieldError(f"{at}.options.{name}", "Option names are lower-case words"))
        elif not value.strip() or len(value) > 100:
            errors.append(FieldError(f"{at}.options.{name}", "1 to 100 characters"))
    errors += check_gtin(draft.gtin, f"{at}.gtin")
    if draft.weight_g is not None and not 0 <= draft.weight_g <= 10**7:
        errors.append(FieldError(f"{at}.weight_g", "Grams, 0 to 10,000,000", "out_of_range"))
    if draft.dimensions is not None:
        for part in ("length_mm", "width_mm", "height_mm"):
            if not 0 < getattr(draft.dimensions, part) <= 100_000:
                errors.append(FieldError(f"{at}.dimensions.{part}", "Millimetres, 1 to 100,000"))
    return errors


def check_offer_numbers(
    price: Money, shipping: Money, stock: int, delivery_days: int, currency: str
) -> list[FieldError]:
    errors: list[FieldError] = []
    for name, money in (("price", price), ("shipping", shipping)):
        if money.currency != currency:
            errors.append(
                FieldError(f"{name}.currency", f"Offers are priced in {currency}", "currency")
            )
        if money.amount < 0:
            errors.append(FieldError(f"{name}.amount", "Must not be negative", "negative"))
        elif money.amount > MAX_PRICE_MINOR:
            errors.append(FieldError(f"{name}.amount", "Unrealistically large", "too_large"))
    if not 0 <= stock <= MAX_STOCK:
        errors.append(FieldError("stock", f"0 to {MAX_STOCK}", "out_of_range"))
    if not 0 <= delivery_days <= MAX_DELIVERY_DAYS:
        errors.append(FieldError("delivery_days", f"0 to {MAX_DELIVERY_DAYS}", "out_of_range"))
    return errors


def slugify(text: str) -> str:
    """A URL slug from a name: lower-case ASCII words joined by '-'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80]


@dataclass(frozen=True)
class CheckoutOffer:
    """An offer as carts and checkout price and ship it (``CatalogService.checkout_offers``).

    ``category_ancestor_ids`` are root first, as ``Category.ancestor_ids``; ``weight_g`` is
    the variant's weight per unit, None when unknown.
    """

    offer_id: str
    product_id: str
    variant_id: str
    title: str
    product_status: ProductStatus
    category_id: str
    category_ancestor_ids: tuple[str, ...]
    sku: str
    weight_g: int | None
    fulfiller_id: str
    price: Money
    stock: int
    status: OfferStatus
    brand_id: str | None = None  # promotions can be scoped to brands

    @property
    def purchasable(self) -> bool:
        """On sale: an active offer of an active product (stock is a separate question)."""
        return self.status is OfferStatus.ACTIVE and self.product_status is ProductStatus.ACTIVE


@dataclass(frozen=True)
class OfferStock:
    """An offer's stock keyed as inventory keys it (``CatalogService.offer_stocks``)."""

    offer_id: str
    product_id: str
    sku: str
    fulfiller_id: str
    stock: int
