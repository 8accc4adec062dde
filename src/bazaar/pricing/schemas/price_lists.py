"""Price lists with quantity tiers, and scheduled sale prices: what staff send and read."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictInt

from bazaar.http.schemas import MoneyModel, StrictModel
from bazaar.kernel.errors import FieldError, ValidationFailed
from bazaar.pricing.admin_store import RuleRow
from bazaar.pricing.price_lists import PriceList, PriceListEntry, SalePrice, Tier
from bazaar.pricing.schemas.fields import (
    MAX_ENTRIES,
    MAX_TIERS,
    Code,
    Currency,
    Id,
    Ids,
    Label,
    Moment,
    RuleMeta,
    collect,
    id_set,
)


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
                id_set(self.channel_ids),
                id_set(self.customer_groups),
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


def _unique(errors: list[FieldError]) -> list[FieldError]:
    """Each problem once: an entry's currency shows up in the entry and in the list."""
    return list(dict.fromkeys(errors))
