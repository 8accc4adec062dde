"""Catalog events: every staff change to the catalog is recorded as one of these."""

from __future__ import annotations

from dataclasses import dataclass

from bazaar.catalog.model import Offer
from bazaar.kernel.events import Event, JSONValue
from bazaar.kernel.money import Money


@dataclass(frozen=True, kw_only=True)
class CategoryEvent(Event, abstract=True):
    subject_type = "category"
    subject_field = "category_id"
    public = True
    category_id: str
    path: str


@dataclass(frozen=True, kw_only=True)
class CategoryCreated(CategoryEvent):
    name: str
    parent_id: str | None


@dataclass(frozen=True, kw_only=True)
class CategoryUpdated(CategoryEvent):
    changed: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class BrandCreated(Event):
    subject_type = "brand"
    subject_field = "brand_id"
    public = True
    brand_id: str
    slug: str
    name: str


@dataclass(frozen=True, kw_only=True)
class BrandUpdated(Event):
    subject_type = "brand"
    subject_field = "brand_id"
    public = True
    brand_id: str
    name: str


@dataclass(frozen=True, kw_only=True)
class ProductEvent(Event, abstract=True):
    subject_type = "product"
    subject_field = "product_id"
    public = True
    product_id: str


@dataclass(frozen=True)
class OfferLine:
    """An offer as carried by ``ProductCreated`` (offers created with their product)."""

    offer_id: str
    variant_id: str
    fulfiller_id: str
    price: Money
    shipping: Money
    stock: int

    @classmethod
    def of(cls, offer: Offer) -> OfferLine:
        return cls(
            offer.id, offer.variant_id, offer.fulfiller_id, offer.price, offer.shipping, offer.stock
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "offer_id": self.offer_id,
            "variant_id": self.variant_id,
            "fulfiller_id": self.fulfiller_id,
            "price": self.price.to_dict(),
            "shipping": self.shipping.to_dict(),
            "stock": self.stock,
        }


@dataclass(frozen=True, kw_only=True)
class ProductCreated(ProductEvent):
    """A new product; ``offers`` are those created with it (later ones are ``OfferCreated``)."""

    title: str
    category_id: str
    brand_id: str | None
    status: str
    skus: tuple[str, ...]
    offers: tuple[OfferLine, ...] = ()

    def audience(self) -> tuple[str, ...]:
        sellers = sorted({o.fulfiller_id for o in self.offers if o.fulfiller_id.startswith("sel_")})
        return tuple(f"seller:{s}" for s in sellers)

    def payload(self) -> dict[str, JSONValue]:
        """What :meth:`Event.payload` answers, built directly: a bulk import writes one of
        these per product, and the generic walk over the fields costs more than the rest of
        the event together (tests/unit/test_catalog_events.py pins the two together)."""
        return {
            "product_id": self.product_id,
            "title": self.title,
            "category_id": self.category_id,
            "brand_id": self.brand_id,
            "status": self.status,
            "skus": list(self.skus),
            "offers": [o.to_dict() for o in self.offers],
        }


@dataclass(frozen=True, kw_only=True)
class ProductUpdated(ProductEvent):
    changed: tuple[str, ...]
    status: str


@dataclass(frozen=True, kw_only=True)
class ProductArchived(ProductEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class VariantAdded(ProductEvent):
    variant_id: str
    sku: str


@dataclass(frozen=True, kw_only=True)
class VariantUpdated(ProductEvent):
    variant_id: str
    changed: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class OfferEvent(ProductEvent, abstract=True):
    """Offers concern their fulfiller too: a seller's subscriptions see its own offers."""

    offer_id: str
    variant_id: str
    fulfiller_id: str
    price: Money
    shipping: Money
    stock: int
    status: str

    def audience(self) -> tuple[str, ...]:
        return (f"seller:{self.fulfiller_id}",) if self.fulfiller_id.startswith("sel_") else ()


@dataclass(frozen=True, kw_only=True)
class OfferCreated(OfferEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class OfferUpdated(OfferEvent):
    changed: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class FulfillerUpdated(Event):
    subject_type = "fulfiller"
    subject_field = "fulfiller_id"
    public = True
    fulfiller_id: str
    name: str
    rating: int | None


# Events after which a product's search document, caches and listing must be refreshed.
PRODUCT_CHANGES: tuple[type[ProductEvent], ...] = (
    ProductCreated,
    ProductUpdated,
    ProductArchived,
    VariantAdded,
    VariantUpdated,
    OfferCreated,
    OfferUpdated,
)
