"""The seller aggregate: its status machine from application to closure.

Pure Python. :class:`Seller` holds a valid application, as submitted or as kept on file (see
:mod:`bazaar.sellers.application`); each transition returns a :class:`Changed` with the new
state and its past-tense events (:mod:`bazaar.sellers.events`), or raises
:class:`IllegalTransition` (a ``Conflict``, 409). Approval takes the screening findings of
:mod:`bazaar.sellers.screening` and refuses while one blocks it.

Transitions (:data:`SELLER_TRANSITIONS`), with the action that makes each::

    applied           -> active (approve), changes_requested (request_changes),
                         closed (reject; or close: the applicant withdraws)
    changes_requested -> applied (resubmit), closed (reject, close)
    active            -> suspended (suspend), closed (close)
    suspended         -> active (reinstate), closed (close)
    closed            -> nothing: final

A suspended seller's offers are hidden and its payouts held (:attr:`Seller.offers_visible`,
:attr:`Seller.payouts_held`); the catalog and the ledger act on ``SellerSuspended`` and
``SellerReinstated``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Generic, TypeVar

from bazaar.kernel.errors import Conflict, FieldError, ValidationFailed
from bazaar.kernel.events import Event
from bazaar.sellers.application import Application
from bazaar.sellers.events import (
    ChangesRequested,
    SellerApplicationResubmitted,
    SellerApplied,
    SellerApproved,
    SellerClosed,
    SellerReinstated,
    SellerRejected,
    SellerSuspended,
)
from bazaar.sellers.screening import Finding

T = TypeVar("T")

MAX_REASON = 2000


@dataclass(frozen=True)
class Changed(Generic[T]):
    """The new state of an aggregate and the events recording the change."""

    value: T
    events: tuple[Event, ...] = ()


class IllegalTransition(Conflict):
    """The seller's current status does not allow this change (409)."""

    code = "illegal_transition"
    title = "Not allowed in the current state"


class ApprovalBlocked(Conflict):
    """Screening found something that must be resolved before approval (409)."""

    code = "approval_blocked"
    title = "Approval blocked"


class SellerStatus(StrEnum):
    APPLIED = "applied"
    CHANGES_REQUESTED = "changes_requested"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


_S = SellerStatus
SELLER_TRANSITIONS: Mapping[SellerStatus, frozenset[SellerStatus]] = {
    _S.APPLIED: frozenset({_S.ACTIVE, _S.CHANGES_REQUESTED, _S.CLOSED}),
    _S.CHANGES_REQUESTED: frozenset({_S.APPLIED, _S.CLOSED}),
    _S.ACTIVE: frozenset({_S.SUSPENDED, _S.CLOSED}),
    _S.SUSPENDED: frozenset({_S.ACTIVE, _S.CLOSED}),
    _S.CLOSED: frozenset(),
}


def _require_text(value: str, field: str) -> str:
    text = value.strip()
    if not text:
        raise ValidationFailed.on(field, "Must not be blank", "required")
    if len(text) > MAX_REASON:
        raise ValidationFailed.on(field, f"At most {MAX_REASON} characters", "too_long")
    return text


@dataclass(frozen=True)
class Seller:
    """A marketplace seller from application to closure. ``status_reason`` says why it was
    rejected, suspended or closed; ``changes_requested`` what the operator asked for."""

    id: str
    application: Application
    status: SellerStatus = SellerStatus.APPLIED
    status_reason: str | None = None
    changes_requested: tuple[str, ...] = ()

    @property
    def offers_visible(self) -> bool:
        """Shoppers see this seller's offers only while it is active."""
        return self.status is SellerStatus.ACTIVE

    @property
    def payouts_held(self) -> bool:
        """Money owed to a suspended seller stays in the ledger until reinstatement."""
        return self.status is SellerStatus.SUSPENDED

    @classmethod
    def apply(cls, seller_id: str, application: Application) -> Changed[Seller]:
        """A new seller in ``applied``, awaiting screening and an operator decision."""
        seller = cls(seller_id, application)
        event = SellerApplied(
            seller_id=seller_id,
            trading_name=application.trading_name,
            country=application.country,
            categories=application.categories,
        )
        return Changed(seller, (event,))

    def _move(
        self,
        sources: Collection[SellerStatus],
        target: SellerStatus,
        verb: str,
        **changes: object,
    ) -> Seller:
        # Each action names the statuses it starts from; the table is the overall guard.
        if self.status not in sources or target not in SELLER_TRANSITIONS[self.status]:
            raise IllegalTransition(f"Seller {self.id} is {self.status}: cannot {verb}")
        return replace(self, status=target, **changes)  # type: ignore[arg-type]

    def approve(self, findings: Sequence[Finding] = ()) -> Changed[Seller]:
        """``applied`` -> ``active``. Raises :class:`ApprovalBlocked` while any finding
        blocks approval (the screening of the application as it now stands)."""
        blocking = [f for f in findings if f.blocks_approval]
        seller = self._move((_S.APPLIED,), _S.ACTIVE, "approve", status_reason=None)
        if blocking:
            raise ApprovalBlocked(
                f"Seller {self.id} cannot be approved yet",
                errors=[FieldError(f.field, f.message, f.code.value) for f in blocking],
            )
        event = SellerApproved(seller_id=self.id, categories=self.application.categories)
        return Changed(seller, (event,))

    def reject(self, reason: str) -> Changed[Seller]:
        """``applied`` or ``changes_requested`` -> ``closed``, with a reason for the applicant."""
        reason = _require_text(reason, "reason")
        sources = (_S.APPLIED, _S.CHANGES_REQUESTED)
        seller = self._move(sources, _S.CLOSED, "reject", status_reason=reason)
        return Changed(seller, (SellerRejected(seller_id=self.id, reason=reason),))

    def request_changes(self, changes: Sequence[str]) -> Changed[Seller]:
        """``applied`` -> ``changes_requested``; ``changes`` lists what to fix, one per item."""
        items = tuple(_require_text(c, f"changes[{i}]") for i, c in enumerate(changes))
        if not items:
            raise ValidationFailed.on("changes", "Say what should change", "required")
        seller = self._move(
            (_S.APPLIED,), _S.CHANGES_REQUESTED, "request changes", changes_requested=items
        )
        return Changed(seller, (ChangesRequested(seller_id=self.id, changes=items),))

    def resubmit(self, application: Application) -> Changed[Seller]:
        """``changes_requested`` -> ``applied`` with the corrected application."""
        seller = self._move(
            (_S.CHANGES_REQUESTED,),
            _S.APPLIED,
            "resubmit",
            application=application,
            changes_requested=(),
        )
        event = SellerApplicationResubmitted(seller_id=self.id, categories=application.categories)
        return Changed(seller, (event,))

    def suspend(self, reason: str) -> Changed[Seller]:
        """``active`` -> ``suspended``: offers hidden, payouts held."""
        reason = _require_text(reason, "reason")
        seller = self._move((_S.ACTIVE,), _S.SUSPENDED, "suspend", status_reason=reason)
        return Changed(seller, (SellerSuspended(seller_id=self.id, reason=reason),))

    def reinstate(self) -> Changed[Seller]:
        """``suspended`` -> ``active``: offers shown again, held payouts released."""
        seller = self._move((_S.SUSPENDED,), _S.ACTIVE, "reinstate", status_reason=None)
        return Changed(seller, (SellerReinstated(seller_id=self.id),))

    def close(self, reason: str) -> Changed[Seller]:
        """Any status but ``closed`` -> ``closed`` (an applicant withdrawing, or the end of
        trading). Final."""
        reason = _require_text(reason, "reason")
        open_statuses = [status for status in SellerStatus if status is not _S.CLOSED]
        seller = self._move(open_statuses, _S.CLOSED, "close", status_reason=reason)
        return Changed(seller, (SellerClosed(seller_id=self.id, reason=reason),))
