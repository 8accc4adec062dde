"""What staff and importers submit: input shapes for the catalog's use cases. Pure Python."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bazaar.catalog.attributes import AttributeDef
from bazaar.catalog.model import RETAILER, Dimensions, OfferStatus, ProductStatus, VariantDraft
from bazaar.kernel.money import Money


@dataclass(frozen=True)
class CategoryDraft:
    name: str
    slug: str | None = None  # derived from the name when omitted
    parent: str | None = None  # id or slug path of the parent
    attributes: Sequence[AttributeDef] = ()


@dataclass(frozen=True)
class CategoryPatch:
    name: str | None = None
    attributes: Sequence[AttributeDef] | None = None


@dataclass(frozen=True)
class OfferDraft:
    """An offer; on product creation ``variant`` is the sku, afterwards the sku or variant id."""

    variant: str
    price: Money
    shipping: Money | None = None  # free shipping when omitted
    stock: int = 0
    delivery_days: int = 2
    fulfiller_id: str = RETAILER
    status: OfferStatus = OfferStatus.ACTIVE


@dataclass(frozen=True)
class OfferPatch:
    price: Money | None = None
    shipping: Money | None = None
    stock: int | None = None
    delivery_days: int | None = None
    status: OfferStatus | None = None


@dataclass(frozen=True)
class ProductDraft:
    title: str
    category: str  # id ("cat_…") or slug path ("apparel/t-shirts")
    variants: Sequence[VariantDraft]
    description: str = ""
    brand: str | None = None  # id ("brd_…") or slug
    attributes: Mapping[str, object] = field(default_factory=dict)
    gtin: str | None = None
    mpn: str | None = None
    status: ProductStatus = ProductStatus.ACTIVE
    offers: Sequence[OfferDraft] = ()
    rating: int | None = None
    rating_count: int = 0


@dataclass(frozen=True)
class ProductPatch:
    """Fields to change. Only the names in ``provided`` are applied, so ``None`` clears."""

    provided: frozenset[str]
    title: str | None = None
    description: str | None = None
    category: str | None = None
    brand: str | None = None
    attributes: Mapping[str, object] | None = None
    gtin: str | None = None
    mpn: str | None = None
    status: ProductStatus | None = None


@dataclass(frozen=True)
class VariantPatch:
    """Fields to change. Only the names in ``provided`` are applied, so ``None`` clears."""

    provided: frozenset[str]
    options: Mapping[str, str] | None = None
    gtin: str | None = None
    weight_g: int | None = None
    dimensions: Dimensions | None = None
