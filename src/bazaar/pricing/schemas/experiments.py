"""Price experiments: their variants and scope, and their run state when read back."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StrictInt

from bazaar.http.schemas import StrictModel
from bazaar.pricing.admin_store import RuleRow
from bazaar.pricing.experiment_store import RunRow
from bazaar.pricing.experiments import Experiment, Variant
from bazaar.pricing.schemas.fields import Code, Ids, Label, Moment, Percent, RuleMeta, id_set


class VariantIn(StrictModel):
    id: Code
    weight: StrictInt = Field(1, description="Shares of traffic")
    price_change_percent: Percent = Field(Decimal(0), description="-5: prices 5 % lower")
    promotions_off: Ids = Field([], description="Promotions this variant switches off")


class ExperimentIn(StrictModel):
    """Variants over some products (null: every product); the first variant is the control."""

    name: Label
    variants: Annotated[list[VariantIn], Field(max_length=10)]
    product_ids: Ids | None = None
    starts_at: Moment | None = None
    ends_at: Moment | None = None

    def to_model(self, rule_id: str) -> Experiment:
        """The pure experiment; its errors already name the body's fields."""
        return Experiment(
            rule_id,
            tuple(
                Variant(v.id, v.weight, v.price_change_percent, frozenset(v.promotions_off))
                for v in self.variants
            ),
            id_set(self.product_ids),
            self.starts_at,
            self.ends_at,
        )


class ExperimentOut(ExperimentIn, RuleMeta):
    status: Literal["draft", "running", "stopped"]
    started_at: datetime | None
    stopped_at: datetime | None

    @classmethod
    def of(cls, rule: RuleRow, run: RunRow) -> ExperimentOut:
        return cls.model_validate(
            {
                **RuleMeta.fields(rule),
                "status": run.status,
                "started_at": run.started_at,
                "stopped_at": run.stopped_at,
            }
        )
