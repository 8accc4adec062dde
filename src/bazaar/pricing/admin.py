"""Staff use cases of pricing rules: price lists, sale prices and promotions (with their
budgets), customer groups, and price simulation. Coupons and experiments have services of
their own, reached as :attr:`PricingAdmin.coupons` and :attr:`PricingAdmin.experiments`.

Every change is one unit of work that records an event (the audit log and webhooks see it).
A change to a rule also bumps ``pricing_rules_version`` in its transaction and drops this
process's compiled rules after the commit; other processes pick it up within
``BAZAAR_PRICING_RULES_REFRESH_S`` (see :mod:`bazaar.pricing.rules`). Ids of other
contexts (offers, products, categories, brands, fulfillers) are checked through their
services (:class:`bazaar.pricing.ports.CatalogLookups`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from bazaar.identity.model import Principal, Role
from bazaar.infra.db import Database
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from bazaar.kernel.events import Actor, Event
from bazaar.kernel.ids import is_valid_id, new_id
from bazaar.kernel.money import Money
from bazaar.kernel.pagination import CursorCodec, Page, after_from, page_after, scope_for
from bazaar.pricing import admin_store, events, store
from bazaar.pricing.admin_store import BudgetRow, RuleKind, RuleRow
from bazaar.pricing.coupon_admin import CouponAdmin
from bazaar.pricing.experiment_admin import ExperimentAdmin
from bazaar.pricing.ports import CatalogLookups, unknown_ids
from bazaar.pricing.rules import RulesCache
from bazaar.pricing.schemas import (
    CustomerGroupIn,
    PriceListIn,
    PromotionIn,
    SalePriceIn,
    SimulationIn,
    collect,
)
from bazaar.pricing.simulation import Simulation, input_errors, simulate

log = logging.getLogger("bazaar.pricing")

UowFactory = Callable[[Actor], SqlUnitOfWork]
RuleIn = PriceListIn | SalePriceIn | PromotionIn

_PREFIX = {"price_list": "prl", "sale_price": "sal", "promotion": "prm", "experiment": "exp"}
_TITLE = {kind: kind.replace("_", " ") for kind in _PREFIX}


@dataclass(frozen=True)
class PromotionView:
    rule: RuleRow
    budget: BudgetRow | None


class PricingAdmin:
    """Staff pricing: operators change, operators and reviewers read.

    ``on_rules_changed`` runs after each change of a price list, sale price or promotion
    commits (the search index's guest prices follow the rules).
    """

    def __init__(
        self,
        db: Database,
        uow: UowFactory,
        clock: Clock,
        cursors: CursorCodec,
        rules: RulesCache,
        catalog: CatalogLookups,
        *,
        currency: str,
        on_rules_changed: Callable[[], object] = lambda: None,
    ) -> None:
        self._db = db
        self._uow = uow
        self._clock = clock
        self._cursors = cursors
        self._rules = rules
        self._catalog = catalog
        self._currency = currency
        self._on_rules_changed = on_rules_changed
        self.coupons = CouponAdmin(db, uow, clock, cursors)
        self.experiments = ExperimentAdmin(db, uow, clock, rules, catalog, currency=currency)

    # --- rules of every kind -----------------------------------------------------------------

    def create_rule(self, principal: Principal, kind: RuleKind, body: RuleIn) -> RuleRow:
        """Validate and save a price list, sale price or promotion; it applies at once.

        422 names every bad field in the body's terms (``entries[0].tiers[1].min_quantity``,
        ``scope.include.category_ids[0]``). A promotion's budget starts with nothing spent.
        """
        principal.require_role(Role.OPERATOR)
        rule_id = new_id(_PREFIX[kind])
        self._validate(kind, body, rule_id)
        definition = body.model_dump(mode="json")
        with self._uow(principal.actor) as uow:
            admin_store.insert_rule(uow.conn, rule_id, kind, definition, self._clock.now())
            if isinstance(body, PromotionIn):
                self._save_budget(uow.conn, rule_id, body)
            store.bump_rules_version(uow.conn)
            uow.record(_changed("created", rule_id, body))
            uow.commit()
        self._changed()
        return self._rule(kind, rule_id)

    def update_rule(
        self, principal: Principal, kind: RuleKind, rule_id: str, body: RuleIn
    ) -> RuleRow:
        """Replace a rule's definition. A promotion's budget keeps what it spent: lowering
        it below that is a 409 on ``budget.amount``. A deleted rule cannot change (409)."""
        principal.require_role(Role.OPERATOR)
        existing = self._rule(kind, rule_id)
        self._validate(kind, body, rule_id)
        definition = body.model_dump(mode="json")
        with self._uow(principal.actor) as uow:
            if not admin_store.update_rule(uow.conn, rule_id, definition, self._clock.now()):
                raise Conflict(f"This {_TITLE[kind]} was deleted and cannot change")
            if isinstance(body, PromotionIn):
                self._save_budget(uow.conn, rule_id, body)
            store.bump_rules_version(uow.conn)
            uow.record(_changed("updated", existing.id, body))
            uow.commit()
        self._changed()
        return self._rule(kind, rule_id)

    def delete_rule(self, principal: Principal, kind: RuleKind, rule_id: str) -> None:
        """Stop a rule from applying; it stays readable (``active`` false) for the record.
        Deleting it again changes nothing."""
        principal.require_role(Role.OPERATOR)
        existing = self._rule(kind, rule_id)
        with self._uow(principal.actor) as uow:
            if admin_store.set_rule_active(uow.conn, rule_id, False, self._clock.now()):
                store.bump_rules_version(uow.conn)
                body = _body(kind, existing.definition)
                uow.record(_changed("deleted", rule_id, body))
            uow.commit()
        self._changed()

    def _changed(self) -> None:
        """After a rule change commits: recompile the rules, then let the search index's
        guest prices follow. A failure there is logged, not the caller's: the rule is saved,
        and workers retry the sync with every rules refresh."""
        self._rules.invalidate()
        try:
            self._on_rules_changed()
        except Exception:
            log.exception("syncing prices after a rule change failed")

    def get_rule(self, principal: Principal, kind: RuleKind, rule_id: str) -> RuleRow:
        principal.require_role(Role.OPERATOR, Role.REVIEWER)
        return self._rule(kind, rule_id)

    def list_rules(
        self,
        principal: Principal,
        kind: RuleKind,
        *,
        include_deleted: bool,
        limit: int,
        cursor: str | None,
    ) -> Page[RuleRow]:
        """Rules of ``kind``, oldest first, in keyset pages."""
        principal.require_role(Role.OPERATOR, Role.REVIEWER)
        scope = scope_for(f"pricing-{kind}", include_deleted=include_deleted)
        after_id = after_from(self._cursors, cursor, scope)
        with self._db.read() as conn:
            rows = admin_store.list_rules(
                conn, kind, active_only=not include_deleted, after_id=after_id, limit=limit + 1
            )
        return page_after(self._cursors, rows, limit, scope, key=lambda r: r.id)

    def promotion_views(self, rules: Sequence[RuleRow]) -> list[PromotionView]:
        """Promotions with their budgets (spent and remaining), one query for all."""
        with self._db.read() as conn:
            found = admin_store.budgets(conn, [r.id for r in rules])
        return [PromotionView(rule, found.get(rule.id)) for rule in rules]

    def _rule(self, kind: RuleKind, rule_id: str) -> RuleRow:
        with self._db.read() as conn:
            found = admin_store.get_rule(conn, kind, rule_id)
        if found is None:
            raise NotFound(f"No such {_TITLE[kind]}")
        return found

    def _save_budget(self, conn: Connection, promotion_id: str, body: PromotionIn) -> None:
        if body.budget is None:
            admin_store.remove_budget(conn, promotion_id)
            return
        amount, currency = body.budget.amount, body.budget.currency
        if admin_store.set_budget(conn, promotion_id, currency, amount):
            return
        spent = admin_store.budgets(conn, [promotion_id])[promotion_id]
        if spent.currency != currency:
            field, message = "budget.currency", f"Already spending in {spent.currency}"
        else:
            field, message = "budget.amount", f"{Money(spent.spent, currency)} already spent"
        raise Conflict(
            "The budget cannot go below what is spent",
            errors=[FieldError(field, message, "below_spent")],
        )

    # --- validation --------------------------------------------------------------------------

    def _validate(self, kind: RuleKind, body: RuleIn, rule_id: str) -> None:
        """Build the pure rule and check every id it names; one 422 listing every field."""
        errors: list[FieldError] = []
        collect("", lambda: body.to_model(rule_id), errors)
        if isinstance(body, PriceListIn):
            offers = self._catalog.offers([e.offer_id for e in body.entries])
            errors += [
                FieldError(f"entries[{i}].offer_id", "No such offer", "unknown_offer")
                for i, entry in enumerate(body.entries)
                if entry.offer_id not in offers
            ]
            errors += self._unknown_groups("customer_groups", body.customer_groups)
        elif isinstance(body, SalePriceIn):
            if body.offer_id not in self._catalog.offers([body.offer_id]):
                errors.append(FieldError("offer_id", "No such offer", "unknown_offer"))
        else:
            errors += self._unknown_scope(body)
            errors += self._unknown_groups(
                "conditions.customer_groups", body.conditions.customer_groups
            )
        if errors:
            raise ValidationFailed(f"The {_TITLE[kind]} is not valid", errors=errors)

    def _unknown_scope(self, body: PromotionIn) -> list[FieldError]:
        errors: list[FieldError] = []
        catalog = self._catalog
        for side, ids in (("include", body.scope.include), ("exclude", body.scope.exclude)):
            at = f"scope.{side}."
            errors += unknown_ids(at + "product_ids", ids.product_ids, catalog.product_exists)
            errors += unknown_ids(at + "category_ids", ids.category_ids, catalog.category_exists)
            errors += unknown_ids(at + "brand_ids", ids.brand_ids, catalog.brand_exists)
            errors += unknown_ids(at + "seller_ids", ids.seller_ids, catalog.fulfiller_exists)
        return errors

    def _unknown_groups(self, field: str, codes: Sequence[str] | None) -> list[FieldError]:
        if not codes:
            return []
        with self._db.read() as conn:
            known = {code for code in set(codes) if admin_store.group_exists(conn, code)}
        return [
            FieldError(f"{field}[{i}]", "No such customer group", "unknown_group")
            for i, code in enumerate(codes)
            if code not in known
        ]

    # --- customer groups ---------------------------------------------------------------------

    def create_group(
        self, principal: Principal, body: CustomerGroupIn
    ) -> tuple[str, str, datetime, int]:
        """A new customer group (price lists and promotions can name it); 409 on ``code``."""
        principal.require_role(Role.OPERATOR)
        now = self._clock.now()
        with self._uow(principal.actor) as uow:
            if not admin_store.insert_group(uow.conn, body.code, body.name, now):
                raise Conflict(
                    "A customer group has this code",
                    errors=[FieldError("code", "Taken", "taken")],
                )
            uow.record(events.CustomerGroupCreated(group_code=body.code, name=body.name))
            uow.commit()
        return body.code, body.name, now, 0

    def list_groups(self, principal: Principal) -> list[tuple[str, str, datetime, int]]:
        """Every group with its member count, by code."""
        principal.require_role(Role.OPERATOR, Role.REVIEWER)
        with self._db.read() as conn:
            return admin_store.all_groups(conn)

    def assign_group(self, principal: Principal, customer_id: str, group: str | None) -> None:
        """Put a customer in a group (one at most), or with None in none; 422 on ``group``
        for an unknown group. Takes effect on the customer's next quote."""
        principal.require_role(Role.OPERATOR)
        if not is_valid_id(customer_id, "usr"):
            raise NotFound("No such customer")
        with self._uow(principal.actor) as uow:
            if group is not None and not admin_store.group_exists(uow.conn, group):
                raise ValidationFailed.on("group", "No such customer group", "unknown_group")
            admin_store.set_member(uow.conn, customer_id, group, self._clock.now())
            uow.record(events.CustomerGroupAssigned(customer_id=customer_id, group_code=group))
            uow.commit()

    def group_of(self, principal: Principal, customer_id: str) -> str | None:
        principal.require_role(Role.OPERATOR, Role.REVIEWER)
        with self._db.read() as conn:
            return store.group_of(conn, customer_id)

    # --- simulation --------------------------------------------------------------------------

    def simulate(self, principal: Principal, body: SimulationIn) -> Simulation:
        """Price ``body.lines`` as the described shopper would see them, with the rules in
        force (see :mod:`bazaar.pricing.simulation`); nothing is recorded. 422 on
        ``lines[i].offer_id`` for an unknown offer, ``coupon_codes[i]`` for a malformed code.
        """
        principal.require_role(Role.OPERATOR)
        offers = self._catalog.offers([line.offer_id for line in body.lines])
        errors = input_errors(body, offers)
        if errors:
            raise ValidationFailed("The simulation is not valid", errors=errors)
        rules = self._rules.get()
        with self._db.read() as conn:
            return simulate(
                conn,
                rules,
                offers,
                body,
                currency=body.currency or self._currency,
                now=self._clock.now(),
            )


# --- helpers -----------------------------------------------------------------------------------


def _body(kind: RuleKind, definition: Mapping[str, Any]) -> RuleIn:
    if kind == RuleKind.PRICE_LIST:
        return PriceListIn.model_validate(definition)
    if kind == RuleKind.SALE_PRICE:
        return SalePriceIn.model_validate(definition)
    if kind == RuleKind.PROMOTION:
        return PromotionIn.model_validate(definition)
    raise ValueError(f"{kind} rules are not changed here")  # experiments: ExperimentAdmin


def _changed(change: str, rule_id: str, body: RuleIn) -> Event:
    """The event of a rule change: ``PriceListCreated``, ``PromotionDeleted``, ..."""
    if isinstance(body, PriceListIn):
        if change == "deleted":
            return events.PriceListDeleted(price_list_id=rule_id, name=body.name)
        cls = events.PriceListCreated if change == "created" else events.PriceListUpdated
        return cls(
            price_list_id=rule_id,
            name=body.name,
            currency=body.currency,
            priority=body.priority,
            offer_count=len(body.entries),
        )
    if isinstance(body, SalePriceIn):
        if change == "deleted":
            return events.SalePriceDeleted(sale_price_id=rule_id, offer_id=body.offer_id)
        sale = events.SalePriceCreated if change == "created" else events.SalePriceUpdated
        return sale(
            sale_price_id=rule_id,
            offer_id=body.offer_id,
            price=body.price.to_money(),
            starts_at=body.starts_at,
            ends_at=body.ends_at,
        )
    if change == "deleted":
        return events.PromotionDeleted(promotion_id=rule_id, label=body.label)
    promo = events.PromotionCreated if change == "created" else events.PromotionUpdated
    return promo(promotion_id=rule_id, label=body.label, definition=body.model_dump(mode="json"))
