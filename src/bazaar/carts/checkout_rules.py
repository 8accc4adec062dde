"""Operator settings the cart quote applies: fulfillers' shipping rules, categories' VAT classes.

Both are reference data keyed by another context's ids (a catalog fulfiller, a catalog
category), checked through that context's service when set. Every change is recorded as an
event, so the audit log says who changed a price rule and when.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bazaar.carts import rules_store
from bazaar.carts.events import ShippingRulesSet, TaxClassSet
from bazaar.carts.shipping_rules import RuleInput, build_rules, rule_kind
from bazaar.checkout.shipping import ShippingRule
from bazaar.checkout.tax import RateClass
from bazaar.identity.model import Principal, Role
from bazaar.infra.db import Database
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import NotFound
from bazaar.kernel.events import Actor
from bazaar.kernel.ids import new_id

UowFactory = Callable[[Actor], SqlUnitOfWork]


@dataclass(frozen=True)
class FulfillerShipping:
    """A fulfiller's rules; ``is_default``: it has none of its own and ships by the
    store's default rule."""

    fulfiller_id: str
    rules: Sequence[ShippingRule]
    is_default: bool


@dataclass(frozen=True)
class CategoryTaxClass:
    category_id: str
    rate_class: RateClass
    updated_at: datetime


class CheckoutRulesService:
    def __init__(
        self,
        db: Database,
        uow: UowFactory,
        clock: Clock,
        *,
        currency: str,
        default_shipping: Sequence[ShippingRule],
        fulfiller_exists: Callable[[str], bool],
        category_id_of: Callable[[str], str],
    ) -> None:
        self._db = db
        self._uow = uow
        self._clock = clock
        self._currency = currency
        self._default = tuple(default_shipping)
        self._fulfiller_exists = fulfiller_exists
        self._category_id_of = category_id_of  # raises NotFound for an unknown category

    def set_shipping_rules(
        self, principal: Principal, fulfiller_id: str, rules: Sequence[RuleInput]
    ) -> FulfillerShipping:
        """Replace a fulfiller's rules with ``rules``, in order (the first that ships to the
        destination and carries the weight applies); none: back to the store's default.

        422 names every bad field as ``rules[i].<field>``; 404 for an unknown fulfiller.
        """
        principal.require_role(Role.OPERATOR)
        built = build_rules(rules, [new_id("shr") for _ in rules], self._currency)
        if not self._fulfiller_exists(fulfiller_id):
            raise NotFound("No such fulfiller")
        with self._uow(principal.actor) as uow:
            rules_store.replace_shipping_rules(
                uow.conn, fulfiller_id, built, self._clock.now(), self._currency
            )
            uow.record(
                ShippingRulesSet(
                    fulfiller_id=fulfiller_id,
                    rule_ids=tuple(r.id for r in built),
                    kinds=tuple(rule_kind(r).value for r in built),
                )
            )
            uow.commit()
        return FulfillerShipping(fulfiller_id, built or self._default, not built)

    def shipping_rules(self, principal: Principal, fulfiller_id: str) -> FulfillerShipping:
        """The rules a fulfiller's parcels are priced with (its own, or the default)."""
        principal.require_role(Role.OPERATOR)
        if not self._fulfiller_exists(fulfiller_id):
            raise NotFound("No such fulfiller")
        with self._db.read() as conn:
            own = rules_store.shipping_rules_for(conn, [fulfiller_id]).get(fulfiller_id, [])
        return FulfillerShipping(fulfiller_id, own or self._default, not own)

    def set_tax_class(
        self, principal: Principal, category_ref: str, rate_class: RateClass | None
    ) -> str:
        """Give a category its own VAT rate class (subcategories without their own inherit
        it), or with None remove it so the category inherits again. Returns the category id.
        """
        principal.require_role(Role.OPERATOR)
        category_id = self._category_id_of(category_ref)
        with self._uow(principal.actor) as uow:
            rules_store.set_tax_class(uow.conn, category_id, rate_class, self._clock.now())
            uow.record(
                TaxClassSet(
                    category_id=category_id,
                    rate_class=rate_class.value if rate_class is not None else None,
                )
            )
            uow.commit()
        return category_id

    def tax_classes(self, principal: Principal) -> list[CategoryTaxClass]:
        """Every category that has a rate class of its own; the rest inherit or are standard."""
        principal.require_role(Role.OPERATOR)
        with self._db.read() as conn:
            return [CategoryTaxClass(*row) for row in rules_store.all_tax_classes(conn)]
