"""What staff read back: a simulated cart's prices and an experiment's results.

Statistics are floats (estimates, never charged); a value that is not finite (an interval
with no data behind it, a test statistic with no variance) is ``null`` in JSON.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from bazaar.http.schemas import MoneyModel
from bazaar.pricing.experiment_stats import Comparison, Interval, VariantResult
from bazaar.pricing.model import EffectiveLine, PricedCart, PromotionAdjustment


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


# --- simulation ------------------------------------------------------------------------------


class SimulatedLineOut(BaseModel):
    offer_id: str
    quantity: int
    unit_price: MoneyModel = Field(description="The effective unit price, before promotions")
    regular_price: MoneyModel = Field(description="Before a sale; strike through when higher")
    source: Literal["base", "price_list", "sale", "experiment"]
    rule_id: str | None = Field(description="The price list or experiment that set the price")
    explanation: str
    subtotal: MoneyModel
    discount: MoneyModel
    total: MoneyModel

    @classmethod
    def of(cls, line: EffectiveLine) -> SimulatedLineOut:
        price = line.price
        return cls(
            offer_id=line.offer_id,
            quantity=line.quantity,
            unit_price=MoneyModel.of(price.unit_price),
            regular_price=MoneyModel.of(price.regular_price),
            source=price.source.value,
            rule_id=price.rule_id,
            explanation=price.explanation,
            subtotal=MoneyModel.of(line.subtotal),
            discount=MoneyModel.of(line.discount),
            total=MoneyModel.of(line.total),
        )


class ShareOut(BaseModel):
    offer_id: str
    amount: MoneyModel


class AdjustmentOut(BaseModel):
    promotion_id: str
    label: str
    explanation: str
    amount: MoneyModel
    shares: list[ShareOut] = Field(description="Where the amount came off, line by line")
    free_shipping_fulfillers: list[str]
    coupon_code: str | None
    shipping_budget: MoneyModel | None = Field(
        default=None,
        description="The most this promotion's free shipping may waive: what is left of its "
        "budget (absent: no budget)",
    )

    @classmethod
    def of(cls, adjustment: PromotionAdjustment) -> AdjustmentOut:
        return cls(
            promotion_id=adjustment.promotion_id,
            label=adjustment.label,
            explanation=adjustment.explanation,
            amount=MoneyModel.of(adjustment.amount),
            shares=[
                ShareOut(offer_id=offer_id, amount=MoneyModel.of(amount))
                for offer_id, amount in adjustment.shares.items()
            ],
            free_shipping_fulfillers=sorted(adjustment.free_shipping_fulfillers),
            coupon_code=adjustment.coupon_code,
            shipping_budget=(
                MoneyModel.of(adjustment.shipping_budget)
                if adjustment.shipping_budget is not None
                else None
            ),
        )


class SetAsideOut(BaseModel):
    promotion_id: str
    label: str
    reason: str = Field(examples=["exclusive_promotion_won", "budget_spent"])


class RejectedCouponOut(BaseModel):
    code: str
    problem: str = Field(examples=["expired", "used_up", "conditions_not_met", "unknown"])


class ExposureOut(BaseModel):
    experiment_id: str
    variant_id: str


class SimulationOut(BaseModel):
    currency: str
    lines: list[SimulatedLineOut]
    adjustments: list[AdjustmentOut]
    set_aside: list[SetAsideOut] = Field(description="Eligible promotions that gave nothing")
    rejected_coupons: list[RejectedCouponOut]
    exposures: list[ExposureOut]
    free_shipping_fulfillers: list[str]
    subtotal: MoneyModel
    discount: MoneyModel
    total: MoneyModel

    @classmethod
    def of(cls, priced: PricedCart, unknown_coupons: tuple[str, ...]) -> SimulationOut:
        rejected = [
            RejectedCouponOut(code=r.code, problem=r.problem.value) for r in priced.rejected_coupons
        ]
        rejected += [RejectedCouponOut(code=code, problem="unknown") for code in unknown_coupons]
        return cls(
            currency=priced.currency,
            lines=[SimulatedLineOut.of(line) for line in priced.lines],
            adjustments=[AdjustmentOut.of(a) for a in priced.adjustments],
            set_aside=[
                SetAsideOut(promotion_id=s.promotion_id, label=s.label, reason=s.reason.value)
                for s in priced.set_aside
            ],
            rejected_coupons=rejected,
            exposures=[
                ExposureOut(experiment_id=e.experiment_id, variant_id=e.variant_id)
                for e in priced.exposures
            ],
            free_shipping_fulfillers=sorted(priced.free_shipping_fulfillers),
            subtotal=MoneyModel.of(priced.subtotal),
            discount=MoneyModel.of(priced.discount),
            total=MoneyModel.of(priced.total),
        )


# --- experiment results ----------------------------------------------------------------------


class IntervalOut(BaseModel):
    low: float | None
    high: float | None

    @classmethod
    def of(cls, interval: Interval) -> IntervalOut:
        return cls(low=_finite(interval.low), high=_finite(interval.high))


class ComparisonOut(BaseModel):
    """Variant minus control."""

    difference: float
    interval: IntervalOut
    statistic: float | None
    p_value: float
    significant: bool

    @classmethod
    def of(cls, comparison: Comparison | None) -> ComparisonOut | None:
        if comparison is None:
            return None
        return cls(
            difference=comparison.difference,
            interval=IntervalOut.of(comparison.interval),
            statistic=_finite(comparison.statistic),
            p_value=comparison.p_value,
            significant=comparison.significant,
        )


class VariantResultOut(BaseModel):
    variant_id: str
    exposures: int = Field(description="Units (customers, or guest carts) shown the variant")
    conversions: int = Field(description="Exposed units that placed an order")
    conversion_rate: float
    conversion_interval: IntervalOut = Field(description="Wilson score interval")
    revenue: MoneyModel = Field(description="Orders of the exposed units")
    revenue_per_visitor: float = Field(description="Minor units per exposed unit")
    revenue_per_visitor_interval: IntervalOut
    conversion_vs_control: ComparisonOut | None = Field(description="Two-proportion z-test")
    revenue_vs_control: ComparisonOut | None = Field(description="Welch's t-test")

    @classmethod
    def of(cls, result: VariantResult) -> VariantResultOut:
        return cls(
            variant_id=result.variant_id,
            exposures=result.exposures,
            conversions=result.conversions,
            conversion_rate=result.conversion_rate,
            conversion_interval=IntervalOut.of(result.conversion_interval),
            revenue=MoneyModel.of(result.revenue),
            revenue_per_visitor=result.revenue_per_visitor,
            revenue_per_visitor_interval=IntervalOut.of(result.revenue_per_visitor_interval),
            conversion_vs_control=ComparisonOut.of(result.conversion_vs_control),
            revenue_vs_control=ComparisonOut.of(result.revenue_vs_control),
        )


class ExperimentResultsOut(BaseModel):
    experiment_id: str
    name: str
    status: Literal["draft", "running", "stopped"]
    started_at: datetime | None
    stopped_at: datetime | None
    currency: str = Field(description="Revenue counts orders in this currency")
    confidence: float
    variants: list[VariantResultOut] = Field(description="The control first")
