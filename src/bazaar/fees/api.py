"""Fee, ledger, statement and payout routes.

Operators configure fees, read any seller's statement and run payouts under
``/api/v1/admin``; a seller reads only its own statement and payouts under
``/api/v1/seller`` (another seller's payout is a 404). Every response is ``no-store``.

A seller's statement and payout routes need the scope ``statements:read`` on an API key and
a seller that may read (:mod:`bazaar.sellers.standing`): suspended and closed sellers keep
reading theirs.
"""

from __future__ import annotations

from datetime import UTC, date
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Header, Path, Query
from fastapi.responses import JSONResponse, Response

from bazaar.fees.schemas import (
    FeeScheduleIn,
    FeeScheduleOut,
    LedgerCheckOut,
    PayoutFailedIn,
    PayoutOut,
    PayoutPage,
    PayoutPaidIn,
    PayoutRunOut,
    StatementOut,
)
from bazaar.fees.statements import Statement, to_csv, to_json
from bazaar.http.deps import DEFAULT_LIMIT, ContainerDep, Limit, Operator
from bazaar.identity.model import Principal
from bazaar.kernel.errors import NotFound, ValidationFailed
from bazaar.kernel.ids import is_valid_id
from bazaar.sellers.guards import seller_may
from bazaar.sellers.standing import SellerAction

router = APIRouter(prefix="/api/v1", tags=["fees"])

NO_STORE = {"Cache-Control": "no-store"}
ItemId = Annotated[str, Path(max_length=40)]
From = Annotated[
    date | None, Query(alias="from", description="First day (default: this month's first)")
]
To = Annotated[date | None, Query(alias="to", description="Last day, included (default: today)")]
Format = Annotated[
    Literal["json", "csv"] | None,
    Query(description="csv for a spreadsheet; `Accept: text/csv` does the same"),
]
Accept = Annotated[str | None, Header(max_length=1000)]
# Suspended and closed sellers still read their statements and payouts (their books).
StatementReader = Annotated[
    Principal, Depends(seller_may(SellerAction.READ, scope="statements:read"))
]


def _json(body: object, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=NO_STORE)


def _period(c: ContainerDep, start: date | None, end: date | None) -> tuple[date, date]:
    today = c.clock.now().astimezone(UTC).date()
    end = end or today
    return start or end.replace(day=1), end


def _statement_response(s: Statement, fmt: str | None, accept: str | None) -> Response:
    if fmt == "csv" or (fmt is None and "text/csv" in (accept or "")):
        name = f"statement-{s.seller_id}-{s.period_start}-{s.period_end}.csv"
        return Response(
            to_csv(s),
            media_type="text/csv; charset=utf-8",
            headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'},
        )
    return _json(to_json(s))


_STATEMENT_DOC = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "The statement as JSON, or as CSV (`format=csv` or `Accept: text/csv`)",
    }
}


# --- fee configuration and the ledger -------------------------------------------------------


@router.get("/admin/fees", response_model=FeeScheduleOut, summary="The fee schedule (operator)")
def get_fees(c: ContainerDep, who: Operator) -> JSONResponse:
    return _json(FeeScheduleOut.of(c.fee_schedules.view(who)).model_dump(mode="json"))


@router.put(
    "/admin/fees",
    response_model=FeeScheduleOut,
    summary="Replace the fee schedule; it applies to orders paid from now on (operator)",
)
def put_fees(body: FeeScheduleIn, c: ContainerDep, who: Operator) -> JSONResponse:
    view = c.fee_schedules.replace(who, body.to_json())
    return _json(FeeScheduleOut.of(view).model_dump(mode="json"))


@router.get(
    "/admin/ledger/check",
    response_model=LedgerCheckOut,
    summary="Verify the whole ledger: balance, duplicates, reversals, refunds (operator)",
)
def check_ledger(c: ContainerDep, who: Operator) -> JSONResponse:
    return _json(LedgerCheckOut.of(c.ledger.check()).model_dump(mode="json"))


# --- statements ------------------------------------------------------------------------------


@router.get(
    "/seller/statements",
    response_model=StatementOut,
    responses=_STATEMENT_DOC,  # type: ignore[arg-type]
    summary="My statement for a period (seller; statements:read)",
)
def my_statement(
    c: ContainerDep,
    who: StatementReader,
    start: From = None,
    end: To = None,
    format: Format = None,
    accept: Accept = None,
) -> Response:
    first, last = _period(c, start, end)
    return _statement_response(c.ledger.statement(who, None, first, last), format, accept)


@router.get(
    "/admin/sellers/{seller_id}/statement",
    response_model=StatementOut,
    responses=_STATEMENT_DOC,  # type: ignore[arg-type]
    summary="A seller's statement for a period (operator)",
)
def seller_statement(
    seller_id: ItemId,
    c: ContainerDep,
    who: Operator,
    start: From = None,
    end: To = None,
    format: Format = None,
    accept: Accept = None,
) -> Response:
    if not is_valid_id(seller_id, "sel"):
        raise NotFound("No such seller")
    first, last = _period(c, start, end)
    return _statement_response(c.ledger.statement(who, seller_id, first, last), format, accept)


# --- payouts ---------------------------------------------------------------------------------


@router.get(
    "/seller/payouts", response_model=PayoutPage, summary="My payouts (seller; statements:read)"
)
def my_payouts(
    c: ContainerDep, who: StatementReader, limit: Limit = DEFAULT_LIMIT, cursor: str | None = None
) -> JSONResponse:
    if cursor is not None and not is_valid_id(cursor, "pyo"):
        raise ValidationFailed.on("cursor", "Not a cursor from this list", "invalid")
    records = c.payouts.seller_payouts(who, after_id=cursor, limit=limit + 1)
    page = records[:limit]
    out = PayoutPage(
        items=[PayoutOut.of_record(r) for r in page],
        next_cursor=page[-1].id if len(records) > limit else None,
    )
    return _json(out.model_dump(mode="json"))


@router.get(
    "/seller/payouts/{payout_id}",
    response_model=PayoutOut,
    summary="My payout (seller; statements:read)",
)
def my_payout(payout_id: ItemId, c: ContainerDep, who: StatementReader) -> JSONResponse:
    record = c.payouts.seller_payout(who, payout_id)
    return _json(PayoutOut.of_record(record).model_dump(mode="json"))


@router.post(
    "/admin/payout-runs",
    response_model=PayoutRunOut,
    status_code=201,
    summary="Plan this week's payout run as of today; the same week gives the same run "
    "(201 planned, 200 existing) (operator)",
)
def plan_payout_run(c: ContainerDep, who: Operator) -> JSONResponse:
    run, created = c.payouts.plan_run(who)
    return _json(PayoutRunOut.of(run).model_dump(mode="json"), 201 if created else 200)


@router.get(
    "/admin/payout-runs/{run_id}", response_model=PayoutRunOut, summary="A payout run (operator)"
)
def get_payout_run(run_id: ItemId, c: ContainerDep, who: Operator) -> JSONResponse:
    return _json(PayoutRunOut.of(c.payouts.get_run(who, run_id)).model_dump(mode="json"))


@router.post(
    "/admin/payout-runs/{run_id}/confirm",
    response_model=PayoutRunOut,
    summary="Confirm a planned run: post every payout once (operator)",
)
def confirm_payout_run(run_id: ItemId, c: ContainerDep, who: Operator) -> JSONResponse:
    return _json(PayoutRunOut.of(c.payouts.confirm_run(who, run_id)).model_dump(mode="json"))


@router.post(
    "/admin/payouts/{payout_id}/paid",
    response_model=PayoutOut,
    summary="The bank paid a payout (operator)",
)
def payout_paid(
    payout_id: ItemId, body: Annotated[PayoutPaidIn, Body()], c: ContainerDep, who: Operator
) -> JSONResponse:
    record = c.payouts.mark_paid(who, payout_id, body.bank_reference)
    return _json(PayoutOut.of_record(record).model_dump(mode="json"))


@router.post(
    "/admin/payouts/{payout_id}/failed",
    response_model=PayoutOut,
    summary="The bank refused a payout: it is reversed and due again next run (operator)",
)
def payout_failed(
    payout_id: ItemId, body: Annotated[PayoutFailedIn, Body()], c: ContainerDep, who: Operator
) -> JSONResponse:
    record = c.payouts.mark_failed(who, payout_id, body.reason)
    return _json(PayoutOut.of_record(record).model_dump(mode="json"))
