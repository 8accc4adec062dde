"""Catalog routes of the reference data: the category tree, brands and fulfillers.

Separate from :mod:`bazaar.catalog.api` (products, variants, offers and search) because
these are a different resource family with their own service
(:class:`~bazaar.catalog.taxonomy.TaxonomyService`) and schemas
(:mod:`~bazaar.catalog.taxonomy_schemas`); the public category tree is cached like the
product listings, in the listings' namespace.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from bazaar.catalog.handlers import LISTS_NAMESPACE
from bazaar.catalog.taxonomy_schemas import (
    BrandCreate,
    BrandOut,
    BrandPage,
    BrandUpdate,
    CategoryCreate,
    CategoryList,
    CategoryOut,
    CategoryUpdate,
    FulfillerIn,
    FulfillerList,
    FulfillerOut,
    tenths,
)
from bazaar.http.caching import cached_json
from bazaar.http.deps import DEFAULT_LIMIT, ContainerDep, Cursor, Limit, Operator

router = APIRouter(prefix="/api/v1", tags=["catalog"])


@router.get("/categories", response_model=CategoryList, summary="The category tree (public)")
async def list_categories(request: Request, c: ContainerDep) -> Response:
    def render() -> bytes:
        items = [CategoryOut.of(x) for x in c.taxonomy.list_categories()]
        return CategoryList(items=items).model_dump_json().encode()

    return await cached_json(request, c.pages, LISTS_NAMESPACE, c.settings.cache_ttl_s, render)


@router.get("/categories/{category_id}", response_model=CategoryOut, summary="A category")
def get_category(category_id: Annotated[str, Path(max_length=40)], c: ContainerDep) -> CategoryOut:
    return CategoryOut.of(c.taxonomy.get_category(category_id))


@router.post(
    "/categories",
    status_code=status.HTTP_201_CREATED,
    response_model=CategoryOut,
    summary="Create a category (operator)",
)
def create_category(body: CategoryCreate, c: ContainerDep, who: Operator) -> CategoryOut:
    return CategoryOut.of(c.taxonomy.create_category(who, body.to_draft()))


@router.patch("/categories/{category_id}", response_model=CategoryOut, summary="Update (operator)")
def update_category(
    category_id: Annotated[str, Path(max_length=40)],
    body: CategoryUpdate,
    c: ContainerDep,
    who: Operator,
) -> CategoryOut:
    return CategoryOut.of(c.taxonomy.update_category(who, category_id, body.to_patch()))


@router.get("/brands", response_model=BrandPage, summary="Brands (public)")
def list_brands(c: ContainerDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> BrandPage:
    page = c.taxonomy.list_brands(limit=limit, cursor=cursor)
    return BrandPage(items=[BrandOut.of(b) for b in page.items], next_cursor=page.next_cursor)


@router.post(
    "/brands",
    status_code=status.HTTP_201_CREATED,
    response_model=BrandOut,
    summary="Create a brand (operator)",
)
def create_brand(body: BrandCreate, c: ContainerDep, who: Operator) -> BrandOut:
    return BrandOut.of(c.taxonomy.create_brand(who, body.name, body.slug))


@router.patch("/brands/{brand_id}", response_model=BrandOut, summary="Rename (operator)")
def rename_brand(
    brand_id: Annotated[str, Path(max_length=80)], body: BrandUpdate, c: ContainerDep, who: Operator
) -> BrandOut:
    return BrandOut.of(c.taxonomy.rename_brand(who, brand_id, body.name))


@router.get("/fulfillers", response_model=FulfillerList, summary="Fulfillers (operator)")
def list_fulfillers(c: ContainerDep, who: Operator) -> FulfillerList:
    return FulfillerList(items=[FulfillerOut.of(f) for f in c.taxonomy.list_fulfillers()])


@router.put(
    "/fulfillers/{fulfiller_id}",
    response_model=FulfillerOut,
    summary="Create or update a fulfiller: 'retailer' or a seller id (operator)",
)
def set_fulfiller(
    fulfiller_id: Annotated[str, Path(max_length=40)],
    body: FulfillerIn,
    c: ContainerDep,
    who: Operator,
) -> FulfillerOut:
    rating = tenths(body.rating)
    return FulfillerOut.of(c.taxonomy.set_fulfiller(who, fulfiller_id, body.name, rating))
