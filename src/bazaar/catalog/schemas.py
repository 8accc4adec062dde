"""Request and response models of products and variants, and the product page.

The offer models (what a fulfiller sells a variant for, the buy box) are in
:mod:`bazaar.catalog.offer_schemas`; a product embeds them in its create request and its page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from bazaar.catalog.drafts import ProductDraft, ProductPatch, VariantPatch
from bazaar.catalog.model import (
    BuyBox,
    Dimensions,
    ImageRef,
    Product,
    ProductStatus,
    Variant,
    VariantDraft,
)
from bazaar.catalog.offer_schemas import BuyBoxOut, OfferIn, OfferOut
from bazaar.catalog.page_prices import PricedProduct
from bazaar.catalog.product_view import ProductView
from bazaar.catalog.taxonomy_schemas import (
    AttributeInput,
    BrandOut,
    Gtin,
    Ref,
    Stars,
    stars,
    tenths,
)
from bazaar.http.schemas import MoneyModel, StrictModel


class DimensionsModel(StrictModel):
    length_mm: Annotated[int, Field(gt=0, le=100_000)]
    width_mm: Annotated[int, Field(gt=0, le=100_000)]
    height_mm: Annotated[int, Field(gt=0, le=100_000)]

    def to_dimensions(self) -> Dimensions:
        return Dimensions(self.length_mm, self.width_mm, self.height_mm)


class VariantIn(StrictModel):
    sku: Annotated[str, Field(min_length=1, max_length=64, examples=["TEE-ORG-M-BLK"])]
    options: dict[Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=100)]] = (
        Field(default_factory=dict, examples=[{"size": "M", "color": "black"}])
    )
    gtin: Gtin | None = None
    weight_g: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    dimensions: DimensionsModel | None = None

    def to_draft(self) -> VariantDraft:
        dims = self.dimensions.to_dimensions() if self.dimensions else None
        return VariantDraft(self.sku, self.options, self.gtin, self.weight_g, dims)


class VariantUpdate(StrictModel):
    options: (
        dict[Annotated[str, Field(max_length=40)], Annotated[str, Field(max_length=100)]] | None
    ) = None
    gtin: Gtin | None = None
    weight_g: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    dimensions: DimensionsModel | None = None

    def to_patch(self) -> VariantPatch:
        return VariantPatch(
            provided=frozenset(self.model_fields_set),
            options=self.options or {},
            gtin=self.gtin,
            weight_g=self.weight_g,
            dimensions=self.dimensions.to_dimensions() if self.dimensions else None,
        )


class ProductCreate(StrictModel):
    title: Annotated[str, Field(min_length=1, max_length=200, examples=["Organic cotton tee"])]
    description: Annotated[str, Field(max_length=20_000)] = ""
    category: Ref = Field(description="Category id or slug path", examples=["apparel/t-shirts"])
    brand: Annotated[str, Field(max_length=80, description="Brand id or slug")] | None = None
    attributes: dict[Annotated[str, Field(max_length=40)], AttributeInput] = Field(
        default_factory=dict, max_length=100, examples=[{"material": "cotton"}]
    )
    gtin: Gtin | None = None
    mpn: Annotated[str, Field(max_length=64)] | None = None
    status: ProductStatus = ProductStatus.ACTIVE
    variants: list[VariantIn] = Field(min_length=1, max_length=100)
    offers: list[OfferIn] = Field(default_factory=list, max_length=500)
    rating: Stars | None = None
    rating_count: Annotated[int, Field(ge=0)] = 0

    def to_draft(self) -> ProductDraft:
        return ProductDraft(
            title=self.title,
            description=self.description,
            category=self.category,
            brand=self.brand,
            attributes=self.attributes,
            gtin=self.gtin,
            mpn=self.mpn,
            status=self.status,
            variants=[v.to_draft() for v in self.variants],
            offers=[o.to_draft() for o in self.offers],
            rating=tenths(self.rating),
            rating_count=self.rating_count,
        )


class ProductUpdate(StrictModel):
    title: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    description: Annotated[str, Field(max_length=20_000)] | None = None
    category: Ref | None = None
    brand: Annotated[str, Field(max_length=80)] | None = None
    attributes: dict[Annotated[str, Field(max_length=40)], AttributeInput] | None = None
    gtin: Gtin | None = None
    mpn: Annotated[str, Field(max_length=64)] | None = None
    status: ProductStatus | None = None

    def to_patch(self) -> ProductPatch:
        return ProductPatch(
            provided=frozenset(self.model_fields_set),
            title=self.title,
            description=self.description,
            category=self.category,
            brand=self.brand,
            attributes=self.attributes,
            gtin=self.gtin,
            mpn=self.mpn,
            status=self.status,
        )


class CategoryRef(BaseModel):
    id: str
    path: str
    name: str


class VariantOut(BaseModel):
    id: str
    sku: str
    options: dict[str, str]
    gtin: str | None
    weight_g: int | None
    dimensions: DimensionsModel | None
    buy_box: BuyBoxOut | None = None

    @classmethod
    def of(cls, v: Variant, buy_box: BuyBox | None = None) -> VariantOut:
        d = v.dimensions
        return cls(
            id=v.id,
            sku=v.sku,
            options=dict(v.options),
            gtin=v.gtin,
            weight_g=v.weight_g,
            dimensions=DimensionsModel(
                length_mm=d.length_mm, width_mm=d.width_mm, height_mm=d.height_mm
            )
            if d
            else None,
            buy_box=BuyBoxOut.of(buy_box),
        )


class ImageOut(BaseModel):
    id: str
    alt: str
    url: str
    thumb_url: str
    width: int
    height: int
    renditions: dict[str, str]

    @classmethod
    def of(cls, i: ImageRef) -> ImageOut:
        return cls(
            id=i.id,
            alt=i.alt,
            url=i.url,
            thumb_url=i.thumb_url,
            width=i.width,
            height=i.height,
            renditions=dict(i.renditions),
        )


class ProductOut(BaseModel):
    """A product as written (staff responses to creates and updates)."""

    id: str
    title: str
    description: str
    status: ProductStatus
    category_id: str
    brand_id: str | None
    attributes: dict[str, AttributeInput]
    gtin: str | None
    mpn: str | None
    rating: float | None
    rating_count: int
    variants: list[VariantOut]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, p: Product) -> ProductOut:
        return cls(
            id=p.id,
            title=p.title,
            description=p.description,
            status=p.status,
            category_id=p.category_id,
            brand_id=p.brand_id,
            attributes=dict(p.attributes),
            gtin=p.gtin,
            mpn=p.mpn,
            rating=stars(p.rating),
            rating_count=p.rating_count,
            variants=[VariantOut.of(v) for v in p.variants],
            created_at=p.created_at,
            updated_at=p.updated_at,
        )


class ProductDetailOut(BaseModel):
    """A product page: everything a shopper sees, with all offers and the buy box."""

    id: str
    title: str
    description: str
    status: ProductStatus
    category: CategoryRef
    brand: BrandOut | None
    attributes: dict[str, AttributeInput]
    gtin: str | None
    mpn: str | None
    rating: float | None
    rating_count: int
    price: MoneyModel | None
    in_stock: bool
    variants: list[VariantOut]
    offers: list[OfferOut]
    buy_box: BuyBoxOut | None
    images: list[ImageOut]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, priced: ProductView | PricedProduct) -> ProductDetailOut:
        """The page; with a ``PricedProduct``, offers and buy boxes at effective prices."""
        view, prices = (
            (priced.view, priced.prices) if isinstance(priced, PricedProduct) else (priced, {})
        )
        p = view.product
        fulfillers = dict(view.fulfillers)
        return cls(
            id=p.id,
            title=p.title,
            description=p.description,
            status=p.status,
            category=CategoryRef(
                id=view.category.id, path=view.category.path, name=view.category.name
            ),
            brand=BrandOut.of(view.brand) if view.brand else None,
            attributes=dict(p.attributes),
            gtin=p.gtin,
            mpn=p.mpn,
            rating=stars(p.rating),
            rating_count=p.rating_count,
            price=MoneyModel.of(view.price) if view.price else None,
            in_stock=view.in_stock,
            variants=[VariantOut.of(v, view.buy_boxes.get(v.id)) for v in p.variants],
            offers=[OfferOut.of(o, fulfillers, prices.get(o.id)) for o in view.offers],
            buy_box=BuyBoxOut.of(view.buy_box),
            images=[ImageOut.of(i) for i in view.images],
            created_at=p.created_at,
            updated_at=p.updated_at,
        )
