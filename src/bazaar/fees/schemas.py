"""Fee, statement and payout request and response models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from bazaar.fees.ledger import Problem
from bazaar.fees.model import CommissionBasis
from bazaar.fees.payout_store import PayoutRecord, RunRecord
from bazaar.fees.payouts import CarriedBalance, HeldFunds, PayoutItem
from bazaar.fees.reports import LedgerReport
from bazaar.fees.schedule_json import schedule_to_json
from bazaar.fees.schedule_service import ScheduleView
from bazaar.http.schemas import MoneyModel, StrictModel

Rate = Annotated[
    str,
    Field(
        max_length=32,
        description='A decimal fraction as a string: "0.12" is 12 %',
        examples=["0.12"],
    ),
]
Key = Annotated[str, Field(max_length=40)]
MANY = 10_000


class SellerCommissionIn(StrictModel):
    rate: Rate | None = Field(None, description="The seller's overall rate; null: the grid's")
    category_rates: Annotated[dict[Key, Rate], Field(max_length=MANY)] = {}


class CommissionIn(StrictModel):
    default_rate: Rate
    category_rates: Annotated[dict[Key, Rate], Field(max_length=MANY)] = {}
    seller_overrides: Annotated[dict[Key, SellerCommissionIn], Field(max_length=MANY)] = {}
    minimum_per_line: MoneyModel | None = None
    basis: CommissionBasis = CommissionBasis.NET_AFTER_DISCOUNT


class FeeScheduleIn(StrictModel):
    """Commission by category with per-seller overrides and a minimum per line, a fixed fee
    per order per seller, and a monthly fee per active listing (see docs/ledger.md)."""

    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])]
    commission: CommissionIn
    order_fee: MoneyModel
    order_fee_overrides: Annotated[dict[Key, MoneyModel], Field(max_length=MANY)] = {}
    monthly_listing_fee: MoneyModel

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class FeeScheduleOut(FeeScheduleIn):
    updated_at: datetime | None = Field(None, description="null: the configured defaults")

    @classmethod
    def of(cls, view: ScheduleView) -> FeeScheduleOut:
        return cls.model_validate(
            {**schedule_to_json(view.schedule), "updated_at": view.updated_at}
        )


# --- statements ------------------------------------------------------------------------------


class AmountOut(BaseModel):
    amount: int
    currency: str
    decimal: str = Field(description='The amount in major units, e.g. "-12.50"')


class StatementLineOut(BaseModel):
    date: date
    transaction_id: str
    kind: str
    reference: str
    description: str
    amount: AmountOut
    balance: AmountOut


class StatementOut(BaseModel):
    """Amounts are from the seller's side: positive is owed to the seller."""

    seller_id: str
    currency: str
    period_start: date
    period_end: date
    opening_balance: AmountOut
    lines: list[StatementLineOut]
    closing_balance: AmountOut


# --- payouts ---------------------------------------------------------------------------------


class PayoutItemOut(BaseModel):
    id: str
    seller_id: str
    amount: MoneyModel
    carried_in: MoneyModel = Field(description="The negative balance this payout nets off")
    status: str
    idempotency_key: str
    covered_transaction_ids: list[str]
    bank_reference: str | None
    failure_reason: str | None

    @classmethod
    def of(cls, payout_id: str, item: PayoutItem) -> PayoutItemOut:
        return cls(
            id=payout_id,
            seller_id=item.seller_id,
            amount=MoneyModel.of(item.amount),
            carried_in=MoneyModel.of(item.carried_in),
            status=item.status.value,
            idempotency_key=item.idempotency_key,
            covered_transaction_ids=list(item.covered_transaction_ids),
            bank_reference=item.bank_reference,
            failure_reason=item.failure_reason,
        )


class PayoutOut(PayoutItemOut):
    run_id: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of_record(cls, record: PayoutRecord) -> PayoutOut:
        item = PayoutItemOut.of(record.id, record.item).model_dump()
        return cls(
            **item, run_id=record.run_id, created_at=record.created_at, updated_at=record.updated_at
        )


class PayoutPage(BaseModel):
    items: list[PayoutOut]
    next_cursor: str | None = None


class HeldOut(BaseModel):
    seller_id: str
    reason: str
    amount: MoneyModel
    transaction_ids: list[str]
    available_on: date | None

    @classmethod
    def of(cls, h: HeldFunds) -> HeldOut:
        return cls(
            seller_id=h.seller_id,
            reason=h.reason.value,
            amount=MoneyModel.of(h.amount),
            transaction_ids=list(h.transaction_ids),
            available_on=h.available_on,
        )


class CarriedOut(BaseModel):
    seller_id: str
    amount: MoneyModel
    settled_transaction_ids: list[str]

    @classmethod
    def of(cls, c: CarriedBalance) -> CarriedOut:
        return cls(
            seller_id=c.seller_id,
            amount=MoneyModel.of(c.amount),
            settled_transaction_ids=list(c.settled_transaction_ids),
        )


class PayoutRunOut(BaseModel):
    id: str
    period: date = Field(description="The payout weekday starting the run's week")
    as_of: date
    currency: str
    status: str
    total: MoneyModel
    items: list[PayoutItemOut]
    held: list[HeldOut]
    carried_forward: list[CarriedOut]
    created_at: datetime
    confirmed_at: datetime | None

    @classmethod
    def of(cls, run: RunRecord) -> PayoutRunOut:
        batch = run.batch
        return cls(
            id=run.id,
            period=run.period,
            as_of=batch.as_of,
            currency=batch.currency,
            status=batch.status.value,
            total=MoneyModel.of(batch.total),
            items=[PayoutItemOut.of(run.item_id(item), item) for item in batch.items],
            held=[HeldOut.of(h) for h in batch.held],
            carried_forward=[CarriedOut.of(c) for c in batch.carried_forward],
            created_at=run.created_at,
            confirmed_at=run.confirmed_at,
        )


class PayoutPaidIn(StrictModel):
    bank_reference: Annotated[str, Field(min_length=1, max_length=120)]


class PayoutFailedIn(StrictModel):
    reason: Annotated[str, Field(min_length=1, max_length=200)]


# --- the ledger check ------------------------------------------------------------------------


class ProblemOut(BaseModel):
    transaction_id: str
    code: str
    message: str

    @classmethod
    def of(cls, p: Problem) -> ProblemOut:
        return cls(transaction_id=p.transaction_id, code=p.code, message=p.message)


class BalanceOut(BaseModel):
    account: str
    balance: MoneyModel = Field(description="On the account's normal side")


class LedgerCheckOut(BaseModel):
    ok: bool
    transactions: int
    entries: int
    problems: list[ProblemOut]
    balances: list[BalanceOut]

    @classmethod
    def of(cls, report: LedgerReport) -> LedgerCheckOut:
        return cls(
            ok=report.ok,
            transactions=report.transactions,
            entries=report.entries,
            problems=[ProblemOut.of(p) for p in report.problems],
            balances=[
                BalanceOut(account=code, balance=MoneyModel.of(m))
                for (code, _), m in report.account_balances.items()
            ],
        )
