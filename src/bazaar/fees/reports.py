"""What the ledger reports back: the check's result, and who may read which statement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bazaar.fees.ledger import Problem
from bazaar.identity.model import Principal, Role
from bazaar.kernel.errors import PermissionDenied, ValidationFailed
from bazaar.kernel.money import Money

MAX_STATEMENT_DAYS = 366


@dataclass(frozen=True)
class LedgerReport:
    """What ``bazaar ledger check`` prints: size, problems, every account's balance."""

    transactions: int
    entries: int
    problems: list[Problem]
    account_balances: dict[tuple[str, str], Money]  # (account code, currency) -> balance

    @property
    def ok(self) -> bool:
        return not self.problems


def seller_of_principal(principal: Principal) -> str:
    """The seller a seller account belongs to; anyone else is refused (operators read a
    seller's statement on the operator route, naming the seller)."""
    if principal.role is not Role.SELLER or not principal.org_id:
        raise PermissionDenied("Only seller accounts have a seller statement")
    return principal.org_id


def check_period(start: date, end: date) -> None:
    """Raise ``ValidationFailed`` on ``to`` for a backwards or over-long period."""
    if end < start:
        raise ValidationFailed.on("to", "Must not be before from", "out_of_range")
    if (end - start).days >= MAX_STATEMENT_DAYS:
        raise ValidationFailed.on("to", f"At most {MAX_STATEMENT_DAYS} days", "out_of_range")
