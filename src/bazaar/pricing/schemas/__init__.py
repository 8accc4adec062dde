"""What staff send and read for pricing rules, coupons, customer groups and experiments.

One module per resource; this package is where the rest of pricing imports them from.

Each rule's ``*In`` is also its stored form: a ``pricing_rules`` row holds
``XIn.model_dump(mode="json")`` as its definition and is loaded with
``XIn.model_validate(definition).to_model(rule_id)``. Money is ``{amount, currency}`` in
integer minor units; percentages are decimals (JSON numbers or strings, stored as strings),
never floats. Pydantic checks shapes and types; the pure constructors check the rules
(overlapping tiers, percent over 100, end before start) and ``to_model`` renames their
fields to the request body's paths (``tiers[1].min_quantity`` in an entry becomes
``entries[0].tiers[1].min_quantity``).
"""

from __future__ import annotations

from bazaar.pricing.schemas.coupons import (
    CouponBatchIn,
    CouponBatchOut,
    CouponIn,
    CouponOut,
    CouponPage,
)
from bazaar.pricing.schemas.customer_groups import (
    CustomerGroupIn,
    CustomerGroupOut,
    GroupAssignmentIn,
    GroupAssignmentOut,
)
from bazaar.pricing.schemas.experiments import ExperimentIn, ExperimentOut
from bazaar.pricing.schemas.fields import collect
from bazaar.pricing.schemas.price_lists import PriceListIn, PriceListOut, SalePriceIn, SalePriceOut
from bazaar.pricing.schemas.promotions import ACTION_TYPES, PromotionIn, PromotionOut
from bazaar.pricing.schemas.simulation import SimulationIn

__all__ = [
    "ACTION_TYPES",
    "CouponBatchIn",
    "CouponBatchOut",
    "CouponIn",
    "CouponOut",
    "CouponPage",
    "CustomerGroupIn",
    "CustomerGroupOut",
    "ExperimentIn",
    "ExperimentOut",
    "GroupAssignmentIn",
    "GroupAssignmentOut",
    "PriceListIn",
    "PriceListOut",
    "PromotionIn",
    "PromotionOut",
    "SalePriceIn",
    "SalePriceOut",
    "SimulationIn",
    "collect",
]
