"""Catalog routes of products, variants and offers: public reads (cached, ETag) and staff
writes on the same paths, and the public pages the edge cache answers for the whole catalog.

The category tree, brands and fulfillers have their routes in :mod:`bazaar.catalog.taxonomy_api`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from bazaar.catalog.handlers import LISTS_NAMESPACE, product_namespace
from bazaar.catalog.listing import ListingParams, attribute_filters
from bazaar.catalog.offer_schemas import BuyBoxOut, OfferIn, OfferList, OfferOut, OfferUpdate
from bazaar.catalog.page_prices import price_product
from bazaar.catalog.priced_pages import priced_json, priced_namespace
from bazaar.catalog.schemas import (
    ProductCreate,
    ProductDetailOut,
    ProductOut,
    ProductUpdate,
    VariantIn,
    VariantOut,
    VariantUpdate,
)
from bazaar.catalog.search_schemas import ProductSearchPage, SortParam
from bazaar.catalog.taxonomy_schemas import tenths
from bazaar.http.caching import CachedRoute
from bazaar.http.deps import DEFAULT_LIMIT, ContainerDep, Cursor, Limit, Operator, OptionalPrincipal
from bazaar.identity.model import Principal, Role
from bazaar.infra.cache import NamespacedCache
from bazaar.pricing.rules import RulesCache
from bazaar.pricing.shelf import Audience
from bazaar.search.model import SortOrder

if TYPE_CHECKING:
    from bazaar.bootstrap import Container

router = APIRouter(prefix="/api/v1", tags=["catalog"])

_PRODUCT_PATH = re.compile(r"/api/v1/products/([^/]+)(?:/offers)?")


def _product_namespace_of_path(path: str) -> str:
    match = _PRODUCT_PATH.fullmatch(path)
    return product_namespace(match.group(1) if match else "")


# the category tree's route is in taxonomy_api; its page is cached with the listings
_CATEGORIES = CachedRoute(re.compile(r"/api/v1/categories"), "/api/v1/categories", LISTS_NAMESPACE)


def cached_routes(pages: NamespacedCache, rules: RulesCache) -> tuple[CachedRoute, ...]:
    """Public pages whose cache hits the edge answers before routing (bazaar.http.caching).

    Pages showing prices live under the pricing rules version this process prices with
    (:func:`bazaar.catalog.priced_pages.priced_namespace`), as their routes store them.
    """

    def priced(namespace: Callable[[str], str]) -> Callable[[str], str]:
        return lambda path: priced_namespace(pages, namespace(path), rules.version)

    return (
        CachedRoute(
            re.compile(r"/api/v1/products"),
            "/api/v1/products",
            priced(lambda path: LISTS_NAMESPACE),
        ),
        CachedRoute(
            re.compile(r"/api/v1/products/[^/]+"),
            "/api/v1/products/{product_id}",
            priced(_product_namespace_of_path),
        ),
        CachedRoute(
            re.compile(r"/api/v1/products/[^/]+/offers"),
            "/api/v1/products/{product_id}/offers",
            priced(_product_namespace_of_path),
        ),
        _CATEGORIES,
    )


ProductId = Annotated[str, Path(max_length=40)]
NO_STORE = {"Cache-Control": "no-store"}


def _is_staff(who: object) -> bool:
    return getattr(who, "role", None) in (Role.OPERATOR, Role.REVIEWER)


def _audience(c: Container, who: Principal | None) -> Audience | Callable[[], Audience]:
    """Who the prices are for: a signed-in user's group and experiments, else a guest's.

    A guest's is resolved here (no IO once the rules are compiled); a customer's is left to
    :func:`priced_json`, which reads the group in the page's own read transaction.
    """
    customer_id = who.id if who is not None and who.kind == "user" and not who.is_staff else None
    if customer_id is None and c.shelf_pricing.rules_loaded:
        return c.shelf_pricing.audience(None)  # no IO: stay on the event loop
    return partial(c.shelf_pricing.audience, customer_id)


# --- search and product pages ----------------------------------------------------------------


@router.get(
    "/products",
    response_model=ProductSearchPage,
    summary="Search and browse products (public)",
    description=(
        "Full text `q` (prefix matching, typo-tolerant fallback), filters, facets with counts "
        "over the filtered set, sorts and keyset pagination. Attribute filters are "
        "`attr.<name>=<value>`; repeat the parameter (or separate values with commas) to OR "
        "values; different attributes are AND-ed."
    ),
)
async def search_products(
    request: Request,
    c: ContainerDep,
    who: OptionalPrincipal,
    q: Annotated[str | None, Query(max_length=200)] = None,
    category: Annotated[str | None, Query(max_length=700, description="Id or slug path")] = None,
    brand: Annotated[list[str] | None, Query(max_length=50, description="Ids or slugs")] = None,
    seller: Annotated[
        list[str] | None, Query(max_length=50, description="'retailer' or ids")
    ] = None,
    price_min: Annotated[int | None, Query(ge=0, description="Minor units")] = None,
    price_max: Annotated[int | None, Query(ge=0, description="Minor units")] = None,
    in_stock: bool | None = None,
    rating_min: Annotated[Decimal | None, Query(ge=0, le=5, decimal_places=1)] = None,
    sort: SortParam = "relevance",
    facets: Annotated[
        str | None, Query(max_length=500, description="Comma-separated, e.g. brand,attr.color")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    params = ListingParams(
        q=q,
        category=category,
        brands=tuple(brand or ()),
        sellers=tuple(seller or ()),
        price_min=price_min,
        price_max=price_max,
        in_stock=in_stock,
        rating_min=tenths(rating_min),
        attributes=attribute_filters(request.query_params.multi_items()),
        sort=SortOrder(sort),
        facets=tuple(f.strip() for f in facets.split(",") if f.strip()) if facets else None,
        limit=limit,
        cursor=cursor,
    )

    audience = _audience(c, who)

    def render(audience: Audience) -> tuple[bytes, datetime | None]:
        page = c.listing.search(params, c.shelf_pricing.pricer(audience))
        return ProductSearchPage.of(page).model_dump_json().encode(), page.valid_until

    return await priced_json(
        request,
        c.pages,
        LISTS_NAMESPACE,
        audience,
        ttl_s=c.settings.cache_ttl_s,
        clock=c.clock,
        render=render,
        reading=c.db.reading,
    )


@router.get(
    "/products/{product_id}",
    response_model=ProductDetailOut,
    summary="Get a product page (public; staff also see drafts and archived products)",
)
async def get_product(
    request: Request, c: ContainerDep, product_id: ProductId, who: OptionalPrincipal
) -> Response:
    staff = _is_staff(who)
    audience = _audience(c, who)

    def render(audience: Audience) -> tuple[bytes, datetime | None]:
        view = c.catalog.product_view(product_id, staff=staff)
        priced = price_product(view, c.shelf_pricing.pricer(audience))
        return ProductDetailOut.of(priced).model_dump_json().encode(), priced.valid_until

    if staff:  # staff also see drafts: never cached; prices as a guest sees them
        guest = audience if isinstance(audience, Audience) else await run_in_threadpool(audience)
        body, _ = await run_in_threadpool(render, guest)
        return Response(body, media_type="application/json", headers=NO_STORE)
    return await priced_json(
        request,
        c.pages,
        product_namespace(product_id),
        audience,
        ttl_s=c.settings.cache_ttl_s,
        clock=c.clock,
        render=render,
        reading=c.db.reading,
    )


@router.get(
    "/products/{product_id}/offers",
    response_model=OfferList,
    summary="All offers for a product, with the buy box (public)",
)
async def list_offers(
    request: Request, c: ContainerDep, product_id: ProductId, who: OptionalPrincipal
) -> Response:
    audience = _audience(c, who)

    def render(audience: Audience) -> tuple[bytes, datetime | None]:
        view = c.catalog.product_view(product_id)
        priced = price_product(view, c.shelf_pricing.pricer(audience))
        fulfillers = dict(view.fulfillers)
        out = OfferList(
            items=[OfferOut.of(o, fulfillers, priced.prices.get(o.id)) for o in view.offers],
            buy_box=BuyBoxOut.of(priced.view.buy_box),
        )
        return out.model_dump_json().encode(), priced.valid_until

    return await priced_json(
        request,
        c.pages,
        product_namespace(product_id),
        audience,
        ttl_s=c.settings.cache_ttl_s,
        clock=c.clock,
        render=render,
        reading=c.db.reading,
    )


# --- staff writes: products, variants, offers ------------------------------------------------


@router.post(
    "/products",
    status_code=status.HTTP_201_CREATED,
    response_model=ProductOut,
    summary="Create a product with its variants and offers (operator)",
)
def create_product(
    body: ProductCreate, c: ContainerDep, who: Operator, response: Response
) -> ProductOut:
    product = c.catalog.create_product(who, body.to_draft())
    response.headers["Location"] = f"/api/v1/products/{product.id}"
    return ProductOut.of(product)


@router.patch("/products/{product_id}", response_model=ProductOut, summary="Update (operator)")
def update_product(
    product_id: ProductId, body: ProductUpdate, c: ContainerDep, who: Operator
) -> ProductOut:
    return ProductOut.of(c.catalog.update_product(who, product_id, body.to_patch()))


@router.delete("/products/{product_id}", response_model=ProductOut, summary="Archive (operator)")
def archive_product(product_id: ProductId, c: ContainerDep, who: Operator) -> ProductOut:
    return ProductOut.of(c.catalog.archive_product(who, product_id))


@router.post(
    "/products/{product_id}/variants",
    status_code=status.HTTP_201_CREATED,
    response_model=VariantOut,
    summary="Add a variant (operator)",
)
def add_variant(
    product_id: ProductId, body: VariantIn, c: ContainerDep, who: Operator
) -> VariantOut:
    return VariantOut.of(c.catalog.add_variant(who, product_id, body.to_draft()))


@router.patch(
    "/products/{product_id}/variants/{variant_id}",
    response_model=VariantOut,
    summary="Update a variant (operator)",
)
def update_variant(
    product_id: ProductId,
    variant_id: Annotated[str, Path(max_length=40)],
    body: VariantUpdate,
    c: ContainerDep,
    who: Operator,
) -> VariantOut:
    return VariantOut.of(c.catalog.update_variant(who, product_id, variant_id, body.to_patch()))


@router.post(
    "/products/{product_id}/offers",
    status_code=status.HTTP_201_CREATED,
    response_model=OfferOut,
    summary="Add a fulfiller's offer for a variant (operator)",
)
def create_offer(product_id: ProductId, body: OfferIn, c: ContainerDep, who: Operator) -> OfferOut:
    offer = c.catalog.create_offer(who, product_id, body.to_draft())
    return OfferOut.of(offer, c.taxonomy.fulfillers([offer.fulfiller_id]))


@router.patch("/offers/{offer_id}", response_model=OfferOut, summary="Update an offer (operator)")
def update_offer(
    offer_id: Annotated[str, Path(max_length=40)], body: OfferUpdate, c: ContainerDep, who: Operator
) -> OfferOut:
    offer = c.catalog.update_offer(who, offer_id, body.to_patch())
    return OfferOut.of(offer, c.taxonomy.fulfillers([offer.fulfiller_id]))
