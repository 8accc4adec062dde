"""Catalog routes: public reads (cached, ETag) and staff writes."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from bazaar.catalog.handlers import CACHE_NAMESPACE
from bazaar.catalog.schemas import ProductCreate, ProductOut, ProductPage
from bazaar.http.caching import CachedRoute, cached_json
from bazaar.http.deps import DEFAULT_LIMIT, ContainerDep, Cursor, Limit, Operator

router = APIRouter(prefix="/api/v1", tags=["catalog"])

# Public pages whose cache hits the edge answers before routing (see bazaar.http.caching).
CACHED_ROUTES = (
    CachedRoute(re.compile(r"/api/v1/products"), "/api/v1/products", CACHE_NAMESPACE),
    CachedRoute(
        re.compile(r"/api/v1/products/[^/]+"), "/api/v1/products/{product_id}", CACHE_NAMESPACE
    ),
)

Category = Annotated[
    str | None,
    Query(max_length=200, pattern=r"^[a-z0-9/-]+$", description="Category slug, with descendants"),
]


@router.post(
    "/products",
    status_code=status.HTTP_201_CREATED,
    response_model=ProductOut,
    summary="Create a product (operator)",
)
def create_product(
    body: ProductCreate, c: ContainerDep, who: Operator, response: Response
) -> ProductOut:
    product = c.catalog.create_product(who, body.to_draft())
    response.headers["Location"] = f"/api/v1/products/{product.id}"
    return ProductOut.of(product)


@router.get("/products", response_model=ProductPage, summary="List products (public)")
async def list_products(
    request: Request,
    c: ContainerDep,
    category: Category = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    def render() -> bytes:
        page = c.catalog.list_products(category=category, limit=limit, cursor=cursor)
        out = ProductPage(
            items=[ProductOut.of(p) for p in page.items], next_cursor=page.next_cursor
        )
        return out.model_dump_json().encode()

    return await cached_json(request, c.pages, CACHE_NAMESPACE, c.settings.cache_ttl_s, render)


@router.get("/products/{product_id}", response_model=ProductOut, summary="Get a product (public)")
async def get_product(
    request: Request,
    c: ContainerDep,
    product_id: Annotated[str, Path(max_length=40)],
) -> Response:
    def render() -> bytes:
        return ProductOut.of(c.catalog.get_product(product_id)).model_dump_json().encode()

    return await cached_json(request, c.pages, CACHE_NAMESPACE, c.settings.cache_ttl_s, render)
