"""The payment gateway port: what checkout, refunds and the reconciler need from a gateway.

Adapters (the built-in :mod:`bazaar.payments.test_gateway`, a card processor's client)
implement :class:`PaymentGateway`; ``bootstrap.build`` chooses one. Every request carries an
idempotency key: the same key with the same request returns the first answer and never moves
money twice, which is what makes retrying after :class:`GatewayUnavailable` safe. Keys are
one namespace across all operations, as at common processors.
"""

from __future__ import annotations

from typing import Protocol

from bazaar.kernel.money import Money
from bazaar.payments.model import GatewayResult


class GatewayError(Exception):
    """Base of the errors a gateway adapter raises instead of returning a result."""


class GatewayUnavailable(GatewayError):
    """The gateway could not be reached or did not answer in time.

    The outcome is UNKNOWN: the request may or may not have taken effect. The caller must not
    assume either; it retries with the SAME idempotency key, or leaves the payment pending for
    the reconciler, which asks :meth:`PaymentGateway.find_by_idempotency_key`.
    """


class IdempotencyKeyReused(GatewayError):
    """The idempotency key was already used for a different request.

    Always a bug in the caller: a key names one request. Nothing was done.
    """


class PaymentGateway(Protocol):
    """A card gateway. Every method returns a definite :class:`GatewayResult` or raises
    :class:`GatewayUnavailable` (outcome unknown) or :class:`IdempotencyKeyReused`."""

    def authorize(
        self, amount: Money, token: str, idempotency_key: str, *, order_id: str | None = None
    ) -> GatewayResult:
        """Hold ``amount`` on the card behind ``token``: authorized, requires_action (see
        ``result.action``), declined or failed. ``order_id`` is shown in the gateway's records."""
        ...

    def confirm(self, authorization_id: str, idempotency_key: str) -> GatewayResult:
        """Complete an authorization after the customer's action: authorized, declined or
        failed."""
        ...

    def capture(self, authorization_id: str, amount: Money, idempotency_key: str) -> GatewayResult:
        """Take up to the authorized amount; the rest of the hold is released."""
        ...

    def void(self, authorization_id: str, idempotency_key: str) -> GatewayResult:
        """Release an authorization that was not captured."""
        ...

    def refund(self, capture_id: str, amount: Money, idempotency_key: str) -> GatewayResult:
        """Return part or all of a capture; refunds of one capture never exceed it."""
        ...

    def find_by_idempotency_key(self, idempotency_key: str) -> GatewayResult | None:
        """The result of the request made with this key, or ``None`` if none took effect.

        A request still in flight may take effect later: reconcile only keys older than the
        request timeout, and settle them by retrying with the same key, which is always safe.
        """
        ...
