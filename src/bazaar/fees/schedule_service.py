"""The fee schedule in force: what operators saved last, else the configured defaults."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from bazaar.fees import store
from bazaar.fees.events import FeeScheduleChanged
from bazaar.fees.model import CommissionSchedule, FeeSchedule
from bazaar.fees.schedule_json import schedule_from_json, schedule_to_json
from bazaar.identity.model import Principal, Role
from bazaar.infra.db import Database
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import CurrencyMismatch, FieldError
from bazaar.kernel.events import Actor
from bazaar.kernel.ids import new_id
from bazaar.kernel.money import Money


@dataclass(frozen=True)
class FeeDefaults:
    """The schedule used until an operator saves one (``BAZAAR_COMMISSION_RATE``...)."""

    currency: str
    commission_rate: Decimal
    commission_minimum: int
    order_fee: int
    monthly_listing_fee: int

    def schedule(self) -> FeeSchedule:
        minimum = Money(self.commission_minimum, self.currency)
        return FeeSchedule(
            commission=CommissionSchedule(
                self.currency,
                self.commission_rate,
                minimum_per_line=None if minimum.is_zero() else minimum,
            ),
            order_fee=Money(self.order_fee, self.currency),
            monthly_listing_fee=Money(self.monthly_listing_fee, self.currency),
        )


@dataclass(frozen=True)
class ScheduleView:
    schedule: FeeSchedule
    updated_at: datetime | None  # None: the configured defaults, never saved


class FeeScheduleService:
    def __init__(
        self,
        db: Database,
        uow: Callable[[Actor], SqlUnitOfWork],
        clock: Clock,
        defaults: FeeDefaults,
    ) -> None:
        self._db = db
        self._uow = uow
        self._clock = clock
        self._defaults = defaults
        self._default_schedule = defaults.schedule()
        # The last saved schedule parsed, by id: saved schedules are never changed, only
        # superseded, so the id read with every posting says whether this is still it.
        self._parsed: tuple[str, FeeSchedule] | None = None

    @property
    def currency(self) -> str:
        return self._defaults.currency

    def current(self) -> FeeSchedule:
        """The schedule postings use now."""
        return self._view().schedule

    def _view(self) -> ScheduleView:
        with self._db.read() as conn:
            saved = store.latest_fee_schedule(conn)
        if saved is None:
            return ScheduleView(self._default_schedule, None)
        schedule_id, data, saved_at = saved
        parsed = self._parsed
        if parsed is None or parsed[0] != schedule_id:
            parsed = self._parsed = (schedule_id, schedule_from_json(data))
        return ScheduleView(parsed[1], saved_at)

    def view(self, principal: Principal) -> ScheduleView:
        principal.require_role(Role.OPERATOR)
        return self._view()

    def replace(self, principal: Principal, data: Mapping[str, Any]) -> ScheduleView:
        """Save a new schedule (operators). It applies to orders paid from now on; orders
        already posted keep the fees they were charged.

        Raises ``ValidationFailed`` naming each bad field (see
        :func:`~bazaar.fees.schedule_json.schedule_from_json`), and ``CurrencyMismatch`` on
        ``currency`` unless it is the store's currency."""
        principal.require_role(Role.OPERATOR)
        if data.get("currency") != self.currency:
            message = f"Fees are charged in the store's currency, {self.currency}"
            raise CurrencyMismatch(message, errors=[FieldError("currency", message)])
        schedule = schedule_from_json(data)
        schedule_id = new_id("fsc")
        now = self._clock.now()
        with self._uow(principal.actor) as uow:
            store.insert_fee_schedule(
                uow.conn, schedule_id, schedule_to_json(schedule), principal.id, now
            )
            uow.record(FeeScheduleChanged(schedule_id=schedule_id))
            uow.commit()
        return ScheduleView(schedule, now)
