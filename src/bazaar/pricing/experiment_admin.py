"""Staff use cases of A/B price experiments: draft, start, stop, and read the results.

An experiment is a ``pricing_rules`` row (its definition) plus its run (draft, running,
stopped). Only a running experiment is active, so only it is compiled into the rules that
price carts; starting and stopping bump the rules version like any rule change.

Results: an exposure is a unit (customer, or guest cart) first shown a variant; a
conversion is an order of an exposed unit, counted for the variant of its exposure. Per
variant, converted units over exposed units is the conversion rate and revenue over exposed
units the revenue per visitor; :func:`bazaar.pricing.experiment_stats.experiment_results` adds
intervals and the tests against the control.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bazaar.identity.model import Principal, Role
from bazaar.infra.db import Database
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from bazaar.kernel.events import Actor
from bazaar.kernel.ids import new_id
from bazaar.kernel.money import Money
from bazaar.pricing import admin_store, events, experiment_store, store
from bazaar.pricing.admin_store import RuleKind, RuleRow
from bazaar.pricing.experiment_stats import VariantResult, VariantStats, experiment_results
from bazaar.pricing.experiment_store import RunRow
from bazaar.pricing.ports import CatalogLookups, unknown_ids
from bazaar.pricing.rules import RulesCache
from bazaar.pricing.schemas import ExperimentIn, collect

UowFactory = Callable[[Actor], SqlUnitOfWork]


@dataclass(frozen=True)
class ExperimentView:
    rule: RuleRow
    run: RunRow


@dataclass(frozen=True)
class ExperimentResults:
    experiment: ExperimentView
    currency: str
    confidence: float
    variants: tuple[VariantResult, ...]  # the control first


class ExperimentAdmin:
    """Operators run experiments; operators and reviewers read them."""

    def __init__(
        self,
        db: Database,
        uow: UowFactory,
        clock: Clock,
        rules: RulesCache,
        catalog: CatalogLookups,
        *,
        currency: str,
    ) -> None:
        self._db = db
        self._uow = uow
        self._clock = clock
        self._rules = rules
        self._catalog = catalog
        self._currency = currency

    def create(self, principal: Principal, body: ExperimentIn) -> ExperimentView:
        """A draft experiment: nothing changes for shoppers until it is started.

        422 names every bad field: ``variants[1].price_change_percent``, ``product_ids[0]``
        (no such product), ``variants[1].promotions_off[0]`` (no such promotion).
        """
        principal.require_role(Role.OPERATOR)
        experiment_id = new_id("exp")
        self._validate(body, experiment_id)
        definition = body.model_dump(mode="json")
        with self._uow(principal.actor) as uow:
            now = self._clock.now()
            admin_store.insert_rule(
                uow.conn, experiment_id, RuleKind.EXPERIMENT, definition, now, active=False
            )
            experiment_store.insert_run(uow.conn, experiment_id)
            uow.record(
                events.ExperimentCreated(
                    experiment_id=experiment_id, name=body.name, definition=definition
                )
            )
            uow.commit()
        return self.get(principal, experiment_id)

    def get(self, principal: Principal, experiment_id: str) -> ExperimentView:
        principal.require_role(Role.OPERATOR, Role.REVIEWER)
        with self._db.read() as conn:
            rule = admin_store.get_rule(conn, RuleKind.EXPERIMENT, experiment_id)
            run = experiment_store.runs(conn, [experiment_id]).get(experiment_id)
        if rule is None or run is None:
            raise NotFound("No such experiment")
        return ExperimentView(rule, run)

    def views(self, rules: Sequence[RuleRow]) -> list[ExperimentView]:
        """Experiments with their runs, one query for all."""
        with self._db.read() as conn:
            found = experiment_store.runs(conn, [r.id for r in rules])
        return [ExperimentView(rule, found[rule.id]) for rule in rules]

    def start(self, principal: Principal, experiment_id: str) -> ExperimentView:
        """Draft -> running: shoppers are assigned variants from now on (within its dates).
        409 unless it is a draft."""
        return self._move(principal, experiment_id, "draft", "running")

    def stop(self, principal: Principal, experiment_id: str) -> ExperimentView:
        """Running -> stopped: everyone sees control prices again; results stay readable.
        409 unless it is running."""
        return self._move(principal, experiment_id, "running", "stopped")

    def _move(
        self, principal: Principal, experiment_id: str, from_status: str, to_status: str
    ) -> ExperimentView:
        principal.require_role(Role.OPERATOR)
        self.get(principal, experiment_id)
        now = self._clock.now()
        running = to_status == "running"
        with self._uow(principal.actor) as uow:
            if not experiment_store.move_run(
                uow.conn, experiment_id, from_status=from_status, to_status=to_status, now=now
            ):
                raise Conflict(f"Only a {from_status} experiment can be {to_status}")
            admin_store.set_rule_active(uow.conn, experiment_id, running, now)
            store.bump_rules_version(uow.conn)
            uow.record(
                events.ExperimentStarted(experiment_id=experiment_id)
                if running
                else events.ExperimentStopped(experiment_id=experiment_id)
            )
            uow.commit()
        self._rules.invalidate()
        return self.get(principal, experiment_id)

    def results(
        self,
        principal: Principal,
        experiment_id: str,
        *,
        confidence: float = 0.95,
        currency: str | None = None,
    ) -> ExperimentResults:
        """Per variant: exposed units, converted units, revenue of orders in ``currency``
        (the store's by default), rates with intervals, and tests against the control.
        Two queries whatever the traffic."""
        view = self.get(principal, experiment_id)
        experiment = ExperimentIn.model_validate(view.rule.definition).to_model(experiment_id)
        currency = currency or self._currency
        Money.zero(currency)  # 422 on ``currency`` when unknown
        with self._db.read() as conn:
            counts = experiment_store.variant_counts(conn, experiment_id, currency)
        known = {v.id for v in experiment.variants}
        stats = [
            VariantStats(
                c.variant_id,
                c.exposures,
                c.conversions,
                Money(c.revenue, currency),
                c.revenue_squares,
            )
            for c in counts
            if c.variant_id in known  # a variant since removed from the definition
        ]
        stats = stats or [VariantStats(experiment.variants[0].id, 0, 0, Money.zero(currency), 0)]
        computed = experiment_results(experiment, stats, confidence)
        return ExperimentResults(view, currency, confidence, computed)

    def _validate(self, body: ExperimentIn, experiment_id: str) -> None:
        errors: list[FieldError] = []
        collect("", lambda: body.to_model(experiment_id), errors)
        errors += unknown_ids("product_ids", body.product_ids or [], self._catalog.product_exists)
        named = {p for v in body.variants for p in v.promotions_off}
        with self._db.read() as conn:
            known = admin_store.existing_rule_ids(conn, RuleKind.PROMOTION, named)
        errors += [
            FieldError(f"variants[{i}].promotions_off[{j}]", "No such promotion", "unknown")
            for i, variant in enumerate(body.variants)
            for j, promotion_id in enumerate(variant.promotions_off)
            if promotion_id not in known
        ]
        if errors:
            raise ValidationFailed("The experiment is not valid", errors=errors)
