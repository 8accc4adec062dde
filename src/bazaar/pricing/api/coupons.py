"""Routes of coupon codes: issued one at a time or generated in batches, read with their uses."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from bazaar.http.deps import DEFAULT_LIMIT, ContainerDep, Cursor, Limit, Operator, Staff
from bazaar.pricing.schemas.coupons import (
    CouponBatchIn,
    CouponBatchOut,
    CouponIn,
    CouponOut,
    CouponPage,
)

router = APIRouter()


@router.post(
    "/coupons",
    status_code=status.HTTP_201_CREATED,
    response_model=CouponOut,
    summary="Issue a coupon code for a promotion (operator)",
)
def create_coupon(body: CouponIn, who: Operator, c: ContainerDep, response: Response) -> CouponOut:
    coupon = c.pricing_admin.coupons.create(who, body)
    response.headers["Location"] = f"/api/v1/coupons/{coupon['code']}"
    return CouponOut.model_validate(coupon)


@router.post(
    "/coupons/batches",
    status_code=status.HTTP_201_CREATED,
    response_model=CouponBatchOut,
    summary="Generate unique random coupon codes in bulk (operator)",
)
def generate_coupons(body: CouponBatchIn, who: Operator, c: ContainerDep) -> CouponBatchOut:
    batch_id, codes = c.pricing_admin.coupons.generate(who, body)
    return CouponBatchOut(
        batch_id=batch_id, promotion_id=body.promotion_id, count=len(codes), codes=codes
    )


@router.get(
    "/coupons", response_model=CouponPage, summary="Coupons with their uses, by code (staff)"
)
def list_coupons(
    who: Staff,
    c: ContainerDep,
    promotion_id: Annotated[str | None, Query(max_length=40)] = None,
    batch_id: Annotated[str | None, Query(max_length=40)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> CouponPage:
    page = c.pricing_admin.coupons.list_coupons(
        who, promotion_id=promotion_id, batch_id=batch_id, limit=limit, cursor=cursor
    )
    return CouponPage(
        items=[CouponOut.model_validate(row) for row in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/coupons/{code}",
    response_model=CouponOut,
    summary="A coupon by its code, in any case (staff)",
)
def get_coupon(
    code: Annotated[str, Path(max_length=100)], who: Staff, c: ContainerDep
) -> CouponOut:
    return CouponOut.model_validate(c.pricing_admin.coupons.get(who, code))
