"""Routes of promotions, with the budget each has spent and has left."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from bazaar.http.deps import DEFAULT_LIMIT, ContainerDep, Cursor, Limit, Operator, Staff
from bazaar.http.schemas import PageOut
from bazaar.pricing.admin import PricingAdmin
from bazaar.pricing.admin_store import RuleKind, RuleRow
from bazaar.pricing.api.params import IncludeDeleted, RuleId
from bazaar.pricing.schemas.promotions import ACTION_TYPES, PromotionIn, PromotionOut


class _UntaggedActionErrors(APIRoute):
    """Name a promotion's action fields as the body does (``action.percent``), without the
    action type pydantic puts in its error paths (``action.percent_off.percent``)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                errors = [_untagged(error) for error in exc.errors()]
                raise RequestValidationError(errors, body=exc.body) from None

        return route


def _untagged(error: Any) -> Any:
    loc = tuple(error.get("loc", ()))
    if loc[:2] == ("body", "action") and len(loc) > 2 and loc[2] in ACTION_TYPES:
        return {**error, "loc": loc[:2] + loc[3:]}
    return error


router = APIRouter(route_class=_UntaggedActionErrors)


def _promotion(admin: PricingAdmin, rule: RuleRow) -> PromotionOut:
    view = admin.promotion_views([rule])[0]
    return PromotionOut.of(view.rule, view.budget)


@router.post(
    "/promotions",
    status_code=status.HTTP_201_CREATED,
    response_model=PromotionOut,
    summary="Create a promotion, with an optional lifetime budget (operator)",
)
def create_promotion(
    body: PromotionIn, who: Operator, c: ContainerDep, response: Response
) -> PromotionOut:
    rule = c.pricing_admin.create_rule(who, RuleKind.PROMOTION, body)
    response.headers["Location"] = f"/api/v1/promotions/{rule.id}"
    return _promotion(c.pricing_admin, rule)


@router.get(
    "/promotions",
    response_model=PageOut[PromotionOut],
    summary="Promotions with their budgets spent and remaining (staff)",
)
def list_promotions(
    who: Staff,
    c: ContainerDep,
    include_deleted: IncludeDeleted = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOut[PromotionOut]:
    page = c.pricing_admin.list_rules(
        who, RuleKind.PROMOTION, include_deleted=include_deleted, limit=limit, cursor=cursor
    )
    views = c.pricing_admin.promotion_views(page.items)
    return PageOut(
        items=[PromotionOut.of(v.rule, v.budget) for v in views], next_cursor=page.next_cursor
    )


@router.get("/promotions/{rule_id}", response_model=PromotionOut, summary="A promotion (staff)")
def get_promotion(rule_id: RuleId, who: Staff, c: ContainerDep) -> PromotionOut:
    return _promotion(c.pricing_admin, c.pricing_admin.get_rule(who, RuleKind.PROMOTION, rule_id))


@router.put(
    "/promotions/{rule_id}",
    response_model=PromotionOut,
    summary="Replace a promotion; its budget keeps what was spent (operator)",
)
def update_promotion(
    rule_id: RuleId, body: PromotionIn, who: Operator, c: ContainerDep
) -> PromotionOut:
    return _promotion(
        c.pricing_admin, c.pricing_admin.update_rule(who, RuleKind.PROMOTION, rule_id, body)
    )


@router.delete(
    "/promotions/{rule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a promotion: it stops applying (operator)",
)
def delete_promotion(rule_id: RuleId, who: Operator, c: ContainerDep) -> None:
    c.pricing_admin.delete_rule(who, RuleKind.PROMOTION, rule_id)
