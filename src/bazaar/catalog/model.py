"""Catalog rules. Pure Python: no database, no web framework."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bazaar.kernel.errors import FieldError, ValidationFailed
from bazaar.kernel.events import Event
from bazaar.kernel.money import Money

SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
CATEGORY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*(?:/[a-z0-9]+(?:-[a-z0-9]+)*)*$")
MAX_TITLE = 200
MAX_PRICE_MINOR = 10**11  # a billion in a two-decimal currency: beyond that it is a typo


class ProductStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"


@dataclass(frozen=True)
class ProductDraft:
    """What staff submit to create a product."""

    title: str
    sku: str
    price: Money
    category: str
    status: ProductStatus = ProductStatus.ACTIVE


@dataclass(frozen=True)
class Product:
    id: str
    title: str
    sku: str
    price: Money
    category: str
    status: ProductStatus
    created_at: datetime
    updated_at: datetime


def validate_draft(draft: ProductDraft) -> ProductDraft:
    """Normalise a draft (trimmed title, lower-case category) or raise with every bad field."""
    errors: list[FieldError] = []
    title = " ".join(draft.title.split())
    if not title:
        errors.append(FieldError("title", "Must not be blank", "required"))
    elif len(title) > MAX_TITLE:
        errors.append(FieldError("title", f"At most {MAX_TITLE} characters", "too_long"))
    if not SKU.match(draft.sku):
        errors.append(FieldError("sku", "Letters, digits, '.', '_' or '-', at most 64 characters"))
    category = draft.category.strip().lower()
    if not CATEGORY.match(category):
        errors.append(
            FieldError("category", "A slug path such as 'apparel/t-shirts'", "invalid_slug")
        )
    if draft.price.amount < 0:
        errors.append(FieldError("price.amount", "Must not be negative", "negative"))
    elif draft.price.amount > MAX_PRICE_MINOR:
        errors.append(FieldError("price.amount", "Unrealistically large", "too_large"))
    if errors:
        raise ValidationFailed("The product has invalid fields", errors=errors)
    return ProductDraft(title, draft.sku, draft.price, category, draft.status)


@dataclass(frozen=True, kw_only=True)
class ProductCreated(Event):
    subject_type = "product"
    subject_field = "product_id"
    public = True
    product_id: str
    sku: str
    title: str
    price: Money
    category: str
    status: str
