"""Routes of price lists with quantity tiers and of scheduled sale prices."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from bazaar.http.deps import DEFAULT_LIMIT, ContainerDep, Cursor, Limit, Operator, Staff
from bazaar.http.schemas import PageOut
from bazaar.pricing.admin_store import RuleKind
from bazaar.pricing.api.params import IncludeDeleted, RuleId
from bazaar.pricing.schemas.price_lists import PriceListIn, PriceListOut, SalePriceIn, SalePriceOut

router = APIRouter()


# --- price lists -----------------------------------------------------------------------------


@router.post(
    "/price-lists",
    status_code=status.HTTP_201_CREATED,
    response_model=PriceListOut,
    summary="Create a price list with quantity tiers (operator)",
)
def create_price_list(
    body: PriceListIn, who: Operator, c: ContainerDep, response: Response
) -> PriceListOut:
    rule = c.pricing_admin.create_rule(who, RuleKind.PRICE_LIST, body)
    response.headers["Location"] = f"/api/v1/price-lists/{rule.id}"
    return PriceListOut.of(rule)


@router.get("/price-lists", response_model=PageOut[PriceListOut], summary="Price lists (staff)")
def list_price_lists(
    who: Staff,
    c: ContainerDep,
    include_deleted: IncludeDeleted = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOut[PriceListOut]:
    page = c.pricing_admin.list_rules(
        who, RuleKind.PRICE_LIST, include_deleted=include_deleted, limit=limit, cursor=cursor
    )
    return PageOut(items=[PriceListOut.of(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/price-lists/{rule_id}", response_model=PriceListOut, summary="A price list (staff)")
def get_price_list(rule_id: RuleId, who: Staff, c: ContainerDep) -> PriceListOut:
    return PriceListOut.of(c.pricing_admin.get_rule(who, RuleKind.PRICE_LIST, rule_id))


@router.put(
    "/price-lists/{rule_id}", response_model=PriceListOut, summary="Replace a price list (operator)"
)
def update_price_list(
    rule_id: RuleId, body: PriceListIn, who: Operator, c: ContainerDep
) -> PriceListOut:
    return PriceListOut.of(c.pricing_admin.update_rule(who, RuleKind.PRICE_LIST, rule_id, body))


@router.delete(
    "/price-lists/{rule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a price list: it stops applying (operator)",
)
def delete_price_list(rule_id: RuleId, who: Operator, c: ContainerDep) -> None:
    c.pricing_admin.delete_rule(who, RuleKind.PRICE_LIST, rule_id)


# --- sale prices -----------------------------------------------------------------------------


@router.post(
    "/sale-prices",
    status_code=status.HTTP_201_CREATED,
    response_model=SalePriceOut,
    summary="Schedule a sale price for an offer (operator)",
)
def create_sale_price(
    body: SalePriceIn, who: Operator, c: ContainerDep, response: Response
) -> SalePriceOut:
    rule = c.pricing_admin.create_rule(who, RuleKind.SALE_PRICE, body)
    response.headers["Location"] = f"/api/v1/sale-prices/{rule.id}"
    return SalePriceOut.of(rule)


@router.get("/sale-prices", response_model=PageOut[SalePriceOut], summary="Sale prices (staff)")
def list_sale_prices(
    who: Staff,
    c: ContainerDep,
    include_deleted: IncludeDeleted = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOut[SalePriceOut]:
    page = c.pricing_admin.list_rules(
        who, RuleKind.SALE_PRICE, include_deleted=include_deleted, limit=limit, cursor=cursor
    )
    return PageOut(items=[SalePriceOut.of(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/sale-prices/{rule_id}", response_model=SalePriceOut, summary="A sale price (staff)")
def get_sale_price(rule_id: RuleId, who: Staff, c: ContainerDep) -> SalePriceOut:
    return SalePriceOut.of(c.pricing_admin.get_rule(who, RuleKind.SALE_PRICE, rule_id))


@router.put(
    "/sale-prices/{rule_id}", response_model=SalePriceOut, summary="Replace a sale (operator)"
)
def update_sale_price(
    rule_id: RuleId, body: SalePriceIn, who: Operator, c: ContainerDep
) -> SalePriceOut:
    return SalePriceOut.of(c.pricing_admin.update_rule(who, RuleKind.SALE_PRICE, rule_id, body))


@router.delete(
    "/sale-prices/{rule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a sale price (operator)",
)
def delete_sale_price(rule_id: RuleId, who: Operator, c: ContainerDep) -> None:
    c.pricing_admin.delete_rule(who, RuleKind.SALE_PRICE, rule_id)
