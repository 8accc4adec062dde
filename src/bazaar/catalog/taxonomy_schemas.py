"""Request and response models of the catalog's reference data: categories, brands, fulfillers.

Also the field types the product schemas share (names, slugs, references, GTINs, stars).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field

from bazaar.catalog.attributes import AttributeDef, AttributeType
from bazaar.catalog.drafts import CategoryDraft, CategoryPatch
from bazaar.catalog.model import Brand, Category, Fulfiller
from bazaar.http.schemas import StrictModel

Name = Annotated[str, Field(min_length=1, max_length=120)]
Slug = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
Ref = Annotated[str, Field(min_length=1, max_length=700)]
Gtin = Annotated[str, Field(min_length=8, max_length=14, examples=["4006381333931"])]
Stars = Annotated[Decimal, Field(ge=0, le=5, decimal_places=1, examples=[4.5])]
AttributeInput = str | bool | int | float


def tenths(stars: Decimal | None) -> int | None:
    return None if stars is None else int(stars * 10)


def stars(rating: int | None) -> float | None:
    return None if rating is None else rating / 10


class AttributeDefModel(StrictModel):
    name: Annotated[str, Field(min_length=1, max_length=40, examples=["color"])]
    type: AttributeType
    required: bool = False
    values: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=list, max_length=200
    )
    unit: Annotated[str, Field(max_length=20)] | None = None

    def to_def(self) -> AttributeDef:
        return AttributeDef(self.name, self.type, self.required, tuple(self.values), self.unit)

    @classmethod
    def of(cls, d: AttributeDef) -> AttributeDefModel:
        return cls(
            name=d.name, type=d.type, required=d.required, values=list(d.values), unit=d.unit
        )


class CategoryCreate(StrictModel):
    name: Name
    slug: Slug | None = None
    parent: Ref | None = Field(None, description="Parent category id or slug path")
    attributes: list[AttributeDefModel] = Field(default_factory=list, max_length=100)

    def to_draft(self) -> CategoryDraft:
        return CategoryDraft(
            self.name, self.slug, self.parent, [a.to_def() for a in self.attributes]
        )


class CategoryUpdate(StrictModel):
    name: Name | None = None
    attributes: list[AttributeDefModel] | None = Field(None, max_length=100)

    def to_patch(self) -> CategoryPatch:
        attrs = [a.to_def() for a in self.attributes] if self.attributes is not None else None
        return CategoryPatch(self.name, attrs)


class CategoryOut(BaseModel):
    id: str
    slug: str
    name: str
    parent_id: str | None
    path: str
    depth: int
    attributes: list[AttributeDefModel]

    @classmethod
    def of(cls, c: Category) -> CategoryOut:
        return cls(
            id=c.id,
            slug=c.slug,
            name=c.name,
            parent_id=c.parent_id,
            path=c.path,
            depth=c.depth,
            attributes=[AttributeDefModel.of(a) for a in c.attributes],
        )


class CategoryList(BaseModel):
    items: list[CategoryOut]


class BrandCreate(StrictModel):
    name: Name
    slug: Slug | None = None


class BrandUpdate(StrictModel):
    name: Name


class BrandOut(BaseModel):
    id: str
    slug: str
    name: str

    @classmethod
    def of(cls, b: Brand) -> BrandOut:
        return cls(id=b.id, slug=b.slug, name=b.name)


class BrandPage(BaseModel):
    items: list[BrandOut]
    next_cursor: str | None = None


class FulfillerIn(StrictModel):
    name: Name
    rating: Stars | None = None


class FulfillerOut(BaseModel):
    id: str
    name: str
    rating: float | None

    @classmethod
    def of(cls, f: Fulfiller) -> FulfillerOut:
        return cls(id=f.id, name=f.name, rating=stars(f.rating))


class FulfillerList(BaseModel):
    items: list[FulfillerOut]
