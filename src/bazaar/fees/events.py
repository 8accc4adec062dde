"""Fee and payout events: past-tense facts for the audit log and sellers' webhooks.

Ledger postings themselves record no event: the ledger is its own append-only record, and
an event per posting would double every order's outbox traffic.
"""

from __future__ import annotations

from dataclasses import dataclass

from bazaar.kernel.events import Event
from bazaar.kernel.money import Money


@dataclass(frozen=True, kw_only=True)
class FeeScheduleChanged(Event):
    """An operator saved a new fee schedule; it applies to orders paid from now on."""

    subject_type = "fee_schedule"
    subject_field = "schedule_id"
    schedule_id: str


@dataclass(frozen=True, kw_only=True)
class ListingFeesCharged(Event):
    """A seller was charged its listing fees for ``month`` (``YYYY-MM``)."""

    subject_type = "seller"
    subject_field = "seller_id"
    seller_id: str
    month: str
    amount: Money
    listings: int

    def audience(self) -> tuple[str, ...]:
        return (f"seller:{self.seller_id}",)


@dataclass(frozen=True, kw_only=True)
class PayoutRunConfirmed(Event):
    """An operator confirmed a payout run; each of its payouts is now on its way."""

    subject_type = "payout_run"
    subject_field = "run_id"
    run_id: str
    payouts: int
    total: Money


@dataclass(frozen=True, kw_only=True)
class PayoutEvent(Event, abstract=True):
    """One payout to one seller; that seller's subscriptions see it."""

    subject_type = "payout"
    subject_field = "payout_id"
    payout_id: str
    seller_id: str
    amount: Money

    def audience(self) -> tuple[str, ...]:
        return (f"seller:{self.seller_id}",)


@dataclass(frozen=True, kw_only=True)
class PayoutConfirmed(PayoutEvent):
    idempotency_key: str


@dataclass(frozen=True, kw_only=True)
class PayoutPaid(PayoutEvent):
    bank_reference: str


@dataclass(frozen=True, kw_only=True)
class PayoutFailed(PayoutEvent):
    """The bank refused it; its amount is back on the seller's payable for the next run."""

    reason: str
