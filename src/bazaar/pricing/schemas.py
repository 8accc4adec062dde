"""What staff send and read for pricing rules, coupons, customer groups and experiments.

Each ``*In`` is also the stored form of its rule: a ``pricing_rules`` row holds
``XIn.model_dump(mode="json")`` as its definition and is loaded with
``XIn.model_validate(definition).to_model(rule_id)``. Money is ``{amount, currency}`` in
integer minor units; percentages are decimals (JSON numbers or strings, stored as strings),
never floats. Pydantic checks shapes and types; the pure constructors check the rules
(overlapping tiers, percent over 100, end before start) and ``to_model`` renames their
fields to the request body's paths (``tiers[1].min_quantity`` in an entry becomes
``entries[0].tiers[1].min_quantity``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    Field,
    PlainSerializer,
    StrictBool,
    StrictInt,
)

from bazaar.http.schemas import MoneyModel, StrictModel
from bazaar.kernel.errors import FieldError, ValidationFailed
from bazaar.kernel.money import Money
from bazaar.pricing.admin_store import BudgetRow, RuleRow, RunRow
from bazaar.pricing.coupons import Coupon
from bazaar.pricing.experiments import Experiment, Variant
from bazaar.pricing.price_lists import PriceList, PriceListEntry, SalePrice, Tier
from bazaar.pricing.promotions import (
    Action,
    AmountOff,
    BuyXGetY,
    Conditions,
    FixedPrice,
    FreeShipping,
    PercentOff,
    Promotion,
    Scope,
    SpendTier,
    Target,
    TieredSpend,
)

T = TypeVar("T")

MAX_IDS = 1000  # ids in one scope set, products of an experiment
MAX_ENTRIES = 10_000  # offers in one price list
MAX_TIERS = 50

Id = Annotated[str, Field(min_length=1, max_length=40)]
Code = Annotated[str, Field(min_length=1, max_length=40)]
Ids = Annotated[list[Id], Field(max_length=MAX_IDS)]
Label = Annotated[str, Field(min_length=1, max_length=120)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])]
# Timezone-aware, kept in UTC: stored definitions and answers read the same everywhere.
Moment = Annotated[AwareDatetime, AfterValidator(lambda moment: moment.astimezone(UTC))]
# A percentage as a decimal: 12.5 and "12.5" are both 12.5 exactly; stored as a plain string.
Percent = Annotated[
    Decimal,
    Field(allow_inf_nan=False, max_digits=12, decimal_places=6, examples=["10", "12.5"]),
    PlainSerializer(lambda d: format(d.normalize(), "f"), return_type=str, when_used="json"),
]


def collect(prefix: str, build: Callable[[], T], errors: list[FieldError]) -> T | None:
    """``build()``, or None with its ``ValidationFailed`` fields added to ``errors``
    under ``prefix``."""
    try:
        return build()
    except ValidationFailed as exc:
        errors += [FieldError(prefix + e.field, e.message, e.code) for e in exc.errors]
        return None


def _money(model: MoneyModel | None) -> Money | None:
    return model.to_money() if model is not None else None


def _ids(ids: Sequence[str] | None) -> frozenset[str] | None:
    return frozenset(ids) if ids is not None else None


class RuleMeta(BaseModel):
    id: str
    active: bool = Field(description="False once deleted; an experiment's: running")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def fields(rule: RuleRow) -> dict[str, object]:
        """The stored definition with the row's id, state and times, as an ``*Out`` reads it."""
        return {
            **rule.definition,
            "id": rule.id,
            "active": rule.active,
            "created_at": rule.created_at,
            "updated_at": rule.updated_at,
        }


# --- price lists and sale prices -------------------------------------------------------------


class TierIn(StrictModel):
    min_quantity: StrictInt = Field(examples=[10])
    max_quantity: StrictInt | None = Field(None, description="Inclusive; null: no upper end")
    unit_price: MoneyModel

    def to_model(self) -> Tier:
        return Tier(self.min_quantity, self.unit_price.to_money(), self.max_quantity)


class PriceListEntryIn(StrictModel):
    offer_id: Id
    tiers: Annotated[list[TierIn], Field(max_length=MAX_TIERS)]

    def to_model(self) -> PriceListEntry:
        return PriceListEntry(self.offer_id, tuple(t.to_model() for t in self.tiers))


class PriceListIn(StrictModel):
    """Prices replacing offers' base prices, by quantity tier, for some channels, groups
    and dates. The highest ``priority`` among applicable lists wins."""

    name: Label
    currency: Currency
    channel_ids: Ids | None = Field(None, description="Null: every channel")
    customer_groups: Annotated[list[Code], Field(max_length=100)] | None = Field(
        None, description="Null: every shopper, guests included"
    )
    starts_at: Moment | None = None
    ends_at: Moment | None = None
    priority: StrictInt = 0
    entries: Annotated[list[PriceListEntryIn], Field(max_length=MAX_ENTRIES)]

    def to_model(self, rule_id: str) -> PriceList:
        """The pure price list; raises ``ValidationFailed`` naming the body's fields."""
        errors: list[FieldError] = []
        entries = []
        for i, entry in enumerate(self.entries):
            built = collect(f"entries[{i}].", entry.to_model, errors)
            if built is not None:
                entries.append(built)
        price_list = collect(
            "",
            lambda: PriceList(
                rule_id,
                self.name,
                self.currency,
                tuple(entries),
                _ids(self.channel_ids),
                _ids(self.customer_groups),
                self.starts_at,
                self.ends_at,
                self.priority,
            ),
            errors,
        )
        if errors or price_list is None:
            raise ValidationFailed("The price list is not valid", errors=_unique(errors))
        return price_list


class PriceListOut(PriceListIn, RuleMeta):
    @classmethod
    def of(cls, rule: RuleRow) -> PriceListOut:
        return cls.model_validate(RuleMeta.fields(rule))


class SalePriceIn(StrictModel):
    """A scheduled sale: applies only when lower than the price it would replace."""

    offer_id: Id
    price: MoneyModel
    starts_at: Moment | None = None
    ends_at: Moment | None = None
    label: Label = "Sale"

    def to_model(self, rule_id: str) -> SalePrice:
        """The pure sale price (which has no id of its own: ``rule_id`` is the row's)."""
        return SalePrice(
            self.offer_id, self.price.to_money(), self.starts_at, self.ends_at, self.label
        )


class SalePriceOut(SalePriceIn, RuleMeta):
    @classmethod
    def of(cls, rule: RuleRow) -> SalePriceOut:
        return cls.model_validate(RuleMeta.fields(rule))


# --- promotions ------------------------------------------------------------------------------


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
            _ids(self.customer_groups),
            _ids(self.channel_ids),
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


# --- coupons ---------------------------------------------------------------------------------


class CouponLimits(StrictModel):
    starts_at: Moment | None = None
    expires_at: Moment | None = Field(None, description="Works until just before this")
    usage_limit: StrictInt | None = Field(None, description="Uses over all customers")
    usage_limit_per_customer: StrictInt | None = None


class CouponIn(CouponLimits):
    code: Annotated[str, Field(min_length=1, max_length=100, examples=["WELCOME10"])]
    promotion_id: Id

    def to_model(self) -> Coupon:
        """The pure coupon, its code normalised (upper case, no spaces or hyphens)."""
        return Coupon(
            self.code,
            self.promotion_id,
            self.starts_at,
            self.expires_at,
            self.usage_limit,
            self.usage_limit_per_customer,
        )


class CouponBatchIn(CouponLimits):
    """``count`` random codes of ``prefix`` + ``length`` unambiguous characters, each with
    these limits."""

    promotion_id: Id
    count: StrictInt = Field(examples=[500])
    prefix: Annotated[str, Field(max_length=40)] = ""
    length: StrictInt = 10

    def to_coupon(self, code: str, batch_id: str) -> Coupon:
        return Coupon(
            code,
            self.promotion_id,
            self.starts_at,
            self.expires_at,
            self.usage_limit,
            self.usage_limit_per_customer,
            batch_id,
        )


class CouponOut(BaseModel):
    code: str
    promotion_id: str
    batch_id: str | None
    starts_at: datetime | None
    expires_at: datetime | None
    usage_limit: int | None
    usage_limit_per_customer: int | None
    uses: int
    created_at: datetime


class CouponPage(BaseModel):
    items: list[CouponOut]
    next_cursor: str | None = None


class CouponBatchOut(BaseModel):
    batch_id: str
    promotion_id: str
    count: int
    codes: list[str]


# --- customer groups -------------------------------------------------------------------------


class CustomerGroupIn(StrictModel):
    code: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$", examples=["business"])]
    name: Label


class CustomerGroupOut(BaseModel):
    code: str
    name: str
    members: int
    created_at: datetime


class GroupAssignmentIn(StrictModel):
    group: Code | None = Field(description="A customer group's code; null: no group")


class GroupAssignmentOut(BaseModel):
    customer_id: str
    group: str | None


# --- experiments -----------------------------------------------------------------------------


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
            _ids(self.product_ids),
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


# --- simulation ------------------------------------------------------------------------------


class SimulationLineIn(StrictModel):
    offer_id: Id
    quantity: StrictInt = Field(1, examples=[12])


class SimulationIn(StrictModel):
    """A cart to price as a shopper would see it; nothing is recorded."""

    lines: Annotated[list[SimulationLineIn], Field(min_length=1, max_length=100)]
    currency: Currency | None = Field(None, description="Default: the store's currency")
    channel_id: Id = "web"
    customer_group: Code | None = Field(None, description="Null: a shopper in no group")
    customer_id: Id | None = Field(None, description="Assigns experiment variants")
    cart_id: Id | None = Field(None, description="Assigns experiment variants of a guest")
    at: Moment | None = Field(None, description="Price as of this moment; default now")
    coupon_codes: Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=10)] = []
    first_order: StrictBool = False


def _unique(errors: list[FieldError]) -> list[FieldError]:
    """Each problem once: an entry's currency shows up in the entry and in the list."""
    return list(dict.fromkeys(errors))
