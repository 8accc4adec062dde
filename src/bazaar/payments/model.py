"""Payment rules: what a gateway answered, and the life of one payment.

Pure Python: no database, no web framework, no network. The gateway port is
:mod:`bazaar.payments.gateway`; this module only interprets its answers.

A payment's life::

    pending ─┬─> authorized ─────┬─> captured ─┬─> partially_refunded ─> refunded
             │                   └─> voided    └─> refunded
             ├─> requires_action ─┬─> authorized / declined / failed
             │                    └─> voided
             └─> declined / failed

One capture per authorization, as most card gateways allow: capturing less than authorized
releases the rest. Refunds may be partial and repeated until the captured amount is refunded.
A declined or failed payment is final; paying again (another card) is a new payment with a new
idempotency key.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from bazaar.kernel.errors import Conflict, ValidationFailed
from bazaar.kernel.money import Money


class GatewayStatus(StrEnum):
    """The outcome a gateway reports for one request."""

    AUTHORIZED = "authorized"
    REQUIRES_ACTION = "requires_action"  # the customer must authenticate (3-D Secure) first
    DECLINED = "declined"  # the issuer said no; decline_code says why
    CAPTURED = "captured"
    VOIDED = "voided"
    REFUNDED = "refunded"
    FAILED = "failed"  # the gateway refused the request itself (bad state, bad amount, ...)


@dataclass(frozen=True)
class RequiredAction:
    """What the customer must do before an authorization completes: open ``url``."""

    token: str
    url: str


_NEEDS_AMOUNT = frozenset(
    {GatewayStatus.AUTHORIZED, GatewayStatus.CAPTURED, GatewayStatus.REFUNDED}
)
_UNSUCCESSFUL = frozenset({GatewayStatus.DECLINED, GatewayStatus.FAILED})


@dataclass(frozen=True)
class GatewayResult:
    """A gateway's definite answer to one request (an unknown outcome is an exception instead).

    ``reference`` is the gateway's id of what the request created or changed: the
    authorization for authorize, confirm and void; the capture for capture; the refund for
    refund. It may be ``None`` only for a declined or failed request that created nothing.
    Guaranteed on construction: ``amount`` is set for authorized, captured and refunded;
    ``decline_code`` (a machine code; ``decline_message`` is safe to show the customer) is set
    exactly for declined and failed; ``action`` is set exactly for requires_action.
    """

    status: GatewayStatus
    reference: str | None
    amount: Money | None = None
    decline_code: str | None = None
    decline_message: str | None = None
    action: RequiredAction | None = None

    def __post_init__(self) -> None:
        unsuccessful = self.status in _UNSUCCESSFUL
        if unsuccessful != (self.decline_code is not None):
            raise ValueError(f"decline_code is required exactly for declined/failed: {self!r}")
        if (self.status is GatewayStatus.REQUIRES_ACTION) != (self.action is not None):
            raise ValueError(f"action is required exactly for requires_action: {self!r}")
        if self.status in _NEEDS_AMOUNT and self.amount is None:
            raise ValueError(f"a {self.status} result needs an amount")
        if not unsuccessful and not self.reference:
            raise ValueError(f"a {self.status} result needs a gateway reference")

    @property
    def succeeded(self) -> bool:
        """True unless declined, failed, or waiting for the customer."""
        return self.status not in _UNSUCCESSFUL and self.status is not GatewayStatus.REQUIRES_ACTION


class PaymentStatus(StrEnum):
    PENDING = "pending"  # recorded before calling the gateway; the reconciler looks these up
    REQUIRES_ACTION = "requires_action"
    AUTHORIZED = "authorized"
    DECLINED = "declined"
    FAILED = "failed"
    CAPTURED = "captured"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"


_S = PaymentStatus
TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    _S.PENDING: frozenset({_S.REQUIRES_ACTION, _S.AUTHORIZED, _S.DECLINED, _S.FAILED}),
    _S.REQUIRES_ACTION: frozenset({_S.AUTHORIZED, _S.DECLINED, _S.FAILED, _S.VOIDED}),
    _S.AUTHORIZED: frozenset({_S.CAPTURED, _S.VOIDED}),
    _S.CAPTURED: frozenset({_S.PARTIALLY_REFUNDED, _S.REFUNDED}),
    _S.PARTIALLY_REFUNDED: frozenset({_S.PARTIALLY_REFUNDED, _S.REFUNDED}),
    _S.DECLINED: frozenset(),
    _S.FAILED: frozenset(),
    _S.REFUNDED: frozenset(),
    _S.VOIDED: frozenset(),
}
_FROM_AUTHORIZE = {
    GatewayStatus.AUTHORIZED: _S.AUTHORIZED,
    GatewayStatus.REQUIRES_ACTION: _S.REQUIRES_ACTION,
    GatewayStatus.DECLINED: _S.DECLINED,
    GatewayStatus.FAILED: _S.FAILED,
}


class IllegalPaymentTransition(Conflict):
    """The payment's current status does not allow the requested step (409)."""

    code = "illegal_payment_transition"
    title = "The payment cannot do that now"


def _positive(amount: Money, what: str) -> None:
    if amount.amount <= 0:
        raise ValidationFailed.on("amount", f"The {what} amount must be positive", "not_positive")


@dataclass(frozen=True)
class Payment:
    """One attempt to pay for an order, and everything that happened to it since.

    Immutable: each ``record_*`` method returns the next state. Guarantees, whatever order the
    methods are called in: only the transitions in :data:`TRANSITIONS` happen (others raise
    ``IllegalPaymentTransition``); ``captured <= amount``; ``refunded <= captured``. Recording
    the same gateway result twice returns the payment unchanged, so event handlers and the
    reconciler may replay. Amounts in another currency raise ``CurrencyMismatch``.
    """

    id: str
    order_id: str
    amount: Money  # what the order asked to authorize
    idempotency_key: str  # of the authorize request: what a reconciler asks the gateway about
    status: PaymentStatus
    captured: Money
    refunded: Money
    authorization_id: str | None = None
    capture_id: str | None = None
    refund_ids: tuple[str, ...] = ()
    action: RequiredAction | None = None
    decline_code: str | None = None

    @classmethod
    def start(cls, id: str, order_id: str, amount: Money, idempotency_key: str) -> Payment:
        """A pending payment, to save before the gateway is called."""
        _positive(amount, "payment")
        if not idempotency_key:
            raise ValidationFailed.on("idempotency_key", "Must not be blank", "required")
        zero = Money.zero(amount.currency)
        return cls(id, order_id, amount, idempotency_key, _S.PENDING, zero, zero)

    @property
    def capturable(self) -> Money:
        """What a capture may take now: the authorized amount, or zero."""
        return self.amount if self.status is _S.AUTHORIZED else Money.zero(self.amount.currency)

    @property
    def refundable(self) -> Money:
        """What refunds may still return: captured minus refunded (zero before a capture)."""
        return self.captured - self.refunded

    @property
    def is_final(self) -> bool:
        """True when no further transition is possible."""
        return not TRANSITIONS[self.status]

    def _move(self, to: PaymentStatus) -> None:
        if to not in TRANSITIONS[self.status]:
            raise IllegalPaymentTransition(f"A {self.status} payment cannot become {to}")

    def record_authorization(self, result: GatewayResult) -> Payment:
        """Apply the answer to authorize, or to confirm after a required action.

        From pending: authorized, requires_action, declined or failed. From requires_action:
        authorized, declined or failed. A partial authorization is refused (``ValueError``):
        Bazaar always asks for the full amount.
        """
        to = _FROM_AUTHORIZE.get(result.status)
        if to is None:
            raise ValueError(f"{result.status} is not an answer to authorize")
        if to is self.status and result.reference == self.authorization_id:
            return self
        self._move(to)
        if result.amount is not None and result.amount != self.amount:
            raise ValueError(f"Gateway authorized {result.amount}, asked for {self.amount}")
        return replace(
            self,
            status=to,
            authorization_id=result.reference or self.authorization_id,
            action=result.action,
            decline_code=result.decline_code,
        )

    def check_capture(self, amount: Money) -> None:
        """Raise unless ``amount`` may be captured now; call before asking the gateway."""
        self._move(_S.CAPTURED)
        _positive(amount, "capture")
        if amount > self.amount:
            raise ValidationFailed.on(
                "amount", f"Cannot capture {amount}: {self.amount} authorized", "exceeds_authorized"
            )

    def record_capture(self, result: GatewayResult) -> Payment:
        """Apply the answer to capture; a declined or failed capture changes nothing."""
        if result.status in _UNSUCCESSFUL:
            return self
        if result.status is not GatewayStatus.CAPTURED or result.amount is None:
            raise ValueError(f"{result.status} is not an answer to capture")
        if self.capture_id is not None and result.reference == self.capture_id:
            return self
        self.check_capture(result.amount)
        return replace(
            self, status=_S.CAPTURED, captured=result.amount, capture_id=result.reference
        )

    def check_void(self) -> None:
        """Raise unless the authorization may be voided now (authorized or requires_action)."""
        self._move(_S.VOIDED)

    def record_void(self, result: GatewayResult) -> Payment:
        """Apply the answer to void; a declined or failed void changes nothing."""
        if result.status in _UNSUCCESSFUL:
            return self
        if result.status is not GatewayStatus.VOIDED:
            raise ValueError(f"{result.status} is not an answer to void")
        if self.status is _S.VOIDED:
            return self
        self._move(_S.VOIDED)
        return replace(self, status=_S.VOIDED, action=None)

    def check_refund(self, amount: Money) -> None:
        """Raise unless ``amount`` may be refunded now; call before asking the gateway."""
        if self.status not in (_S.CAPTURED, _S.PARTIALLY_REFUNDED):
            raise IllegalPaymentTransition(f"A {self.status} payment cannot be refunded")
        _positive(amount, "refund")
        if amount > self.refundable:
            raise ValidationFailed.on(
                "amount",
                f"Cannot refund {amount}: {self.refundable} left to refund",
                "exceeds_refundable",
            )

    def record_refund(self, result: GatewayResult) -> Payment:
        """Apply the answer to refund; a declined or failed refund changes nothing."""
        if result.status in _UNSUCCESSFUL:
            return self
        if result.status is not GatewayStatus.REFUNDED or result.amount is None:
            raise ValueError(f"{result.status} is not an answer to refund")
        if result.reference in self.refund_ids:
            return self
        self.check_refund(result.amount)
        refunded = self.refunded + result.amount
        to = _S.REFUNDED if refunded == self.captured else _S.PARTIALLY_REFUNDED
        assert result.reference is not None  # guaranteed for a refunded result
        return replace(
            self, status=to, refunded=refunded, refund_ids=(*self.refund_ids, result.reference)
        )
