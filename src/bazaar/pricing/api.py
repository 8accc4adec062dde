"""Staff routes of pricing: price lists, sale prices, promotions, coupons, customer groups,
experiments and price simulation.

Operators change; operators and reviewers read. Everyone else gets 403 (401 without
credentials). Every answer is ``no-store`` (the edge's default).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from bazaar.http.deps import DEFAULT_LIMIT, ContainerDep, Cursor, Limit, Operator, Staff
from bazaar.http.schemas import PageOut
from bazaar.pricing.admin import PricingAdmin
from bazaar.pricing.admin_store import RuleKind, RuleRow
from bazaar.pricing.experiment_admin import ExperimentView
from bazaar.pricing.results import ExperimentResultsOut, SimulationOut, VariantResultOut
from bazaar.pricing.schemas import (
    ACTION_TYPES,
    CouponBatchIn,
    CouponBatchOut,
    CouponIn,
    CouponOut,
    CouponPage,
    CustomerGroupIn,
    CustomerGroupOut,
    ExperimentIn,
    ExperimentOut,
    GroupAssignmentIn,
    GroupAssignmentOut,
    PriceListIn,
    PriceListOut,
    PromotionIn,
    PromotionOut,
    SalePriceIn,
    SalePriceOut,
    SimulationIn,
)


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


router = APIRouter(prefix="/api/v1", tags=["pricing"], route_class=_UntaggedActionErrors)

RuleId = Annotated[str, Path(max_length=40)]
IncludeDeleted = Annotated[bool, Query(description="Also list deleted rules")]


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


# --- promotions ------------------------------------------------------------------------------


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


# --- coupons ---------------------------------------------------------------------------------


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


# --- customer groups -------------------------------------------------------------------------


@router.post(
    "/customer-groups",
    status_code=status.HTTP_201_CREATED,
    response_model=CustomerGroupOut,
    summary="Create a customer group (operator)",
)
def create_customer_group(
    body: CustomerGroupIn, who: Operator, c: ContainerDep
) -> CustomerGroupOut:
    code, name, created_at, members = c.pricing_admin.create_group(who, body)
    return CustomerGroupOut(code=code, name=name, members=members, created_at=created_at)


@router.get(
    "/customer-groups",
    response_model=list[CustomerGroupOut],
    summary="Customer groups with their member counts (staff)",
)
def list_customer_groups(who: Staff, c: ContainerDep) -> list[CustomerGroupOut]:
    return [
        CustomerGroupOut(code=code, name=name, members=members, created_at=created_at)
        for code, name, created_at, members in c.pricing_admin.list_groups(who)
    ]


@router.put(
    "/admin/customers/{customer_id}/group",
    response_model=GroupAssignmentOut,
    summary="Put a customer in a customer group, or in none (operator)",
)
def assign_customer_group(
    customer_id: Annotated[str, Path(max_length=40)],
    body: GroupAssignmentIn,
    who: Operator,
    c: ContainerDep,
) -> GroupAssignmentOut:
    c.pricing_admin.assign_group(who, customer_id, body.group)
    return GroupAssignmentOut(customer_id=customer_id, group=body.group)


@router.get(
    "/admin/customers/{customer_id}/group",
    response_model=GroupAssignmentOut,
    summary="A customer's group (staff)",
)
def get_customer_group(
    customer_id: Annotated[str, Path(max_length=40)], who: Staff, c: ContainerDep
) -> GroupAssignmentOut:
    group = c.pricing_admin.group_of(who, customer_id)
    return GroupAssignmentOut(customer_id=customer_id, group=group)


# --- experiments -----------------------------------------------------------------------------


def _experiment(view: ExperimentView) -> ExperimentOut:
    return ExperimentOut.of(view.rule, view.run)


@router.post(
    "/experiments",
    status_code=status.HTTP_201_CREATED,
    response_model=ExperimentOut,
    summary="Create a draft price experiment (operator)",
)
def create_experiment(
    body: ExperimentIn, who: Operator, c: ContainerDep, response: Response
) -> ExperimentOut:
    view = c.pricing_admin.experiments.create(who, body)
    response.headers["Location"] = f"/api/v1/experiments/{view.rule.id}"
    return _experiment(view)


@router.get("/experiments", response_model=PageOut[ExperimentOut], summary="Experiments (staff)")
def list_experiments(
    who: Staff, c: ContainerDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> PageOut[ExperimentOut]:
    page = c.pricing_admin.list_rules(
        who, RuleKind.EXPERIMENT, include_deleted=True, limit=limit, cursor=cursor
    )
    views = c.pricing_admin.experiments.views(page.items)
    return PageOut(items=[_experiment(v) for v in views], next_cursor=page.next_cursor)


@router.get(
    "/experiments/{experiment_id}", response_model=ExperimentOut, summary="An experiment (staff)"
)
def get_experiment(experiment_id: RuleId, who: Staff, c: ContainerDep) -> ExperimentOut:
    return _experiment(c.pricing_admin.experiments.get(who, experiment_id))


@router.post(
    "/experiments/{experiment_id}/start",
    response_model=ExperimentOut,
    summary="Start a draft experiment (operator)",
)
def start_experiment(experiment_id: RuleId, who: Operator, c: ContainerDep) -> ExperimentOut:
    return _experiment(c.pricing_admin.experiments.start(who, experiment_id))


@router.post(
    "/experiments/{experiment_id}/stop",
    response_model=ExperimentOut,
    summary="Stop a running experiment (operator)",
)
def stop_experiment(experiment_id: RuleId, who: Operator, c: ContainerDep) -> ExperimentOut:
    return _experiment(c.pricing_admin.experiments.stop(who, experiment_id))


@router.get(
    "/experiments/{experiment_id}/results",
    response_model=ExperimentResultsOut,
    summary="Per variant: exposures, conversions, revenue, intervals, tests (staff)",
)
def experiment_results(
    experiment_id: RuleId,
    who: Staff,
    c: ContainerDep,
    confidence: Annotated[float, Query(gt=0, lt=1)] = 0.95,
    currency: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")] = None,
) -> ExperimentResultsOut:
    found = c.pricing_admin.experiments.results(
        who, experiment_id, confidence=confidence, currency=currency
    )
    rule, run = found.experiment.rule, found.experiment.run
    return ExperimentResultsOut(
        experiment_id=rule.id,
        name=str(rule.definition["name"]),
        status=run.status,
        started_at=run.started_at,
        stopped_at=run.stopped_at,
        currency=found.currency,
        confidence=found.confidence,
        variants=[VariantResultOut.of(v) for v in found.variants],
    )


# --- simulation ------------------------------------------------------------------------------


@router.post(
    "/pricing/simulate",
    response_model=SimulationOut,
    summary="Price lines as a given shopper would see them, with explanations (operator)",
)
def simulate(body: SimulationIn, who: Operator, c: ContainerDep) -> SimulationOut:
    found = c.pricing_admin.simulate(who, body)
    return SimulationOut.of(found.priced, found.unknown_coupons)
