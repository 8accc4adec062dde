"""Catalog request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from bazaar.catalog.model import Product, ProductDraft, ProductStatus
from bazaar.http.schemas import MoneyModel, StrictModel


class ProductCreate(StrictModel):
    title: Annotated[str, Field(min_length=1, max_length=200, examples=["Organic cotton tee"])]
    sku: Annotated[str, Field(min_length=1, max_length=64, examples=["TEE-ORG-M-BLK"])]
    price: MoneyModel
    category: Annotated[str, Field(min_length=1, max_length=200, examples=["apparel/t-shirts"])]
    status: ProductStatus = ProductStatus.ACTIVE

    def to_draft(self) -> ProductDraft:
        return ProductDraft(
            title=self.title,
            sku=self.sku,
            price=self.price.to_money(),
            category=self.category,
            status=self.status,
        )


class ProductOut(BaseModel):
    id: str
    title: str
    sku: str
    price: MoneyModel
    category: str
    status: ProductStatus
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, product: Product) -> ProductOut:
        return cls(
            id=product.id,
            title=product.title,
            sku=product.sku,
            price=MoneyModel.of(product.price),
            category=product.category,
            status=product.status,
            created_at=product.created_at,
            updated_at=product.updated_at,
        )


class ProductPage(BaseModel):
    items: list[ProductOut]
    next_cursor: str | None = None
