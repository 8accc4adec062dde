"""Promotions: their action, scope, conditions and budget, as staff send and read them.

The action is a union tagged by ``type``; :data:`ACTION_TYPES` lets the routes drop that tag
from error paths, so errors name ``action.percent`` as the body does.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictInt

from bazaar.http.schemas import MoneyModel, StrictModel
from bazaar.kernel.money import Money
from bazaar.pricing.admin_store import BudgetRow, RuleRow
from bazaar.pricing.promotion_actions import (
    Action,
    AmountOff,
    BuyXGetY,
    FixedPrice,
    FreeShipping,
    PercentOff,
    SpendTier,
    Target,
    TieredSpend,
)
from bazaar.pricing.promotions import Conditions, Promotion, Scope
from bazaar.pricing.schemas.fields import (
    MAX_TIERS,
    Code,
    Ids,
    Label,
    Moment,
    Percent,
    RuleMeta,
    id_set,
)


def _money(model: MoneyModel | None) -> Money | None:
    return model.to_money() if model is not None else None


class PercentOffIn(StrictModel):
    type: Literal["percent_off"]
    percent: Percent
    target: Target = Field(Target.LINE, description="line: off each line; order: off the total")

    def to_model(self) -> Action:
        return PercentOff(self.percent, self.target)


class AmountOffIn(StrictModel):
    type: Literal["amount_off"]
    amount: MoneyModel
    target: Target = Field(Target.ORDER, description="line: off every unit; order: once")

    def to_model(self) -> Action:
        return AmountOff(self.amount.to_money(), self.target)


class FixedPriceIn(StrictModel):
    type: Literal["fixed_price"]
    unit_price: MoneyModel

    def to_model(self) -> Action:
        return FixedPrice(self.unit_price.to_money())


class BuyXGetYIn(StrictModel):
    type: Literal["buy_x_get_y"]
    buy: StrictInt
    get: StrictInt
    percent: Percent = Field(Decimal(100), description="Off the cheapest `get` units; 100: free")
    max_applications: StrictInt | None = None

    def to_model(self) -> Action:
        return BuyXGetY(self.buy, self.get, self.percent, self.max_applications)


class SpendTierIn(StrictModel):
    threshold: MoneyModel
    amount: MoneyModel


class TieredSpendIn(StrictModel):
    type: Literal["tiered_spend"]
    tiers: Annotated[list[SpendTierIn], Field(max_length=MAX_TIERS)]

    def to_model(self) -> Action:
        return TieredSpend(
            tuple(SpendTier(t.threshold.to_money(), t.amount.to_money()) for t in self.tiers)
        )


class FreeShippingIn(StrictModel):
    type: Literal["free_shipping"]

    def to_model(self) -> Action:
        return FreeShipping()


ActionIn = Annotated[
    PercentOffIn | AmountOffIn | FixedPriceIn | BuyXGetYIn | TieredSpendIn | FreeShippingIn,
    Field(discriminator="type"),
]
ACTION_TYPES = frozenset(
    {"percent_off", "amount_off", "fixed_price", "buy_x_get_y", "tiered_spend", "free_shipping"}
)


class ScopeIds(StrictModel):
    product_ids: Ids = []
    category_ids: Ids = Field([], description="A category covers its subcategories")
    brand_ids: Ids = []
    seller_ids: Ids = Field([], description="Fulfillers: `retailer` or seller ids")


class ScopeIn(StrictModel):
    """Lines matching every non-empty ``include`` set and no ``exclude`` set; empty: all."""

    include: ScopeIds = ScopeIds()
    exclude: ScopeIds = ScopeIds()

    def to_model(self) -> Scope:
        i, x = self.include, self.exclude
        return Scope(
            frozenset(i.product_ids),
            frozenset(i.category_ids),
            frozenset(i.brand_ids),
            frozenset(i.seller_ids),
            frozenset(x.product_ids),
            frozenset(x.category_ids),
            frozenset(x.brand_ids),
            frozenset(x.seller_ids),
        )


class ConditionsIn(StrictModel):
    min_subtotal: MoneyModel | None = Field(None, description="Of the lines in scope")
    min_quantity: StrictInt | None = Field(None, description="Units in scope")
    customer_groups: Annotated[list[Code], Field(max_length=100)] | None = None
    channel_ids: Ids | None = None
    first_order_only: StrictBool = False
    coupon_required: StrictBool = False

    def to_model(self) -> Conditions:
        return Conditions(
            _money(self.min_subtotal),
            self.min_quantity,
            id_set(self.customer_groups),
            id_set(self.channel_ids),
            self.first_order_only,
            self.coupon_required,
        )


class PromotionIn(StrictModel):
    label: Label
    action: ActionIn
    scope: ScopeIn = ScopeIn()
    conditions: ConditionsIn = ConditionsIn()
    priority: StrictInt = Field(0, description="Higher is considered first")
    exclusive: StrictBool = Field(False, description="Never combined with another promotion")
    starts_at: Moment | None = None
    ends_at: Moment | None = None
    max_discount: MoneyModel | None = Field(None, description="The most it gives per order")
    budget: MoneyModel | None = Field(None, description="The most it gives over its lifetime")

    def to_model(self, rule_id: str) -> Promotion:
        """The pure promotion; its errors already name the body's fields."""
        return Promotion(
            rule_id,
            self.label,
            self.action.to_model(),
            self.scope.to_model(),
            self.conditions.to_model(),
            self.priority,
            self.exclusive,
            self.starts_at,
            self.ends_at,
            _money(self.max_discount),
            _money(self.budget),
        )


class PromotionOut(PromotionIn, RuleMeta):
    budget_spent: MoneyModel | None = Field(None, description="Drawn by placed orders so far")
    budget_remaining: MoneyModel | None = None

    @classmethod
    def of(cls, rule: RuleRow, budget: BudgetRow | None) -> PromotionOut:
        out = cls.model_validate(RuleMeta.fields(rule))
        if budget is not None:
            out.budget_spent = MoneyModel(amount=budget.spent, currency=budget.currency)
            left = max(0, budget.budget - budget.spent)
            out.budget_remaining = MoneyModel(amount=left, currency=budget.currency)
        return out
