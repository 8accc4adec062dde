"""Routes of price experiments: drafts, starting and stopping, and their results."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from bazaar.http.deps import DEFAULT_LIMIT, ContainerDep, Cursor, Limit, Operator, Staff
from bazaar.http.schemas import PageOut
from bazaar.pricing.admin_store import RuleKind
from bazaar.pricing.api.params import RuleId
from bazaar.pricing.experiment_admin import ExperimentView
from bazaar.pricing.results import ExperimentResultsOut, VariantResultOut
from bazaar.pricing.schemas.experiments import ExperimentIn, ExperimentOut

router = APIRouter()


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
