"""The built-in test gateway: an in-memory, thread-safe :class:`PaymentGateway`.

It moves no money. Development setups and tests use it; the card "token" decides the outcome:

==========================  ====================================================================
token                       what ``authorize`` does
==========================  ====================================================================
``tok_success``             authorized
``tok_decline``             declined, ``card_declined``
``tok_insufficient_funds``  declined, ``insufficient_funds``
``tok_3ds``                 requires_action; ``confirm`` then authorizes it
``tok_3ds_fail``            requires_action; ``confirm`` then declines it,
                            ``authentication_failed``
``tok_network_error``       raises ``GatewayUnavailable``; nothing is recorded
any other token             failed, ``invalid_token``; nothing is recorded
==========================  ====================================================================

Requests the gateway refuses come back failed with one of these codes: ``invalid_amount``,
``currency_mismatch``, ``amount_too_large``, ``unknown_authorization``, ``unknown_capture``,
``not_capturable``, ``not_voidable``, ``not_awaiting_action``.

Idempotency works as at real processors: a key seen before with the same request returns the
stored result without doing anything again (also for concurrent calls: one lock serialises
every request); a key seen before with a different request raises ``IdempotencyKeyReused``.

Switches for tests, settable at any time: ``unavailable`` (every call raises
``GatewayUnavailable`` before doing anything), ``fail_after_authorize`` and
``fail_after_capture`` (a new authorize or capture request takes effect and its result is
stored, then ``GatewayUnavailable`` is raised, as when a connection drops after the processor
acted: what a reconciler repairs; replays of a stored result are not affected).
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from dataclasses import dataclass, replace

from bazaar.kernel.money import Money
from bazaar.payments.gateway import GatewayUnavailable, IdempotencyKeyReused
from bazaar.payments.model import GatewayResult, GatewayStatus, RequiredAction

SUCCESS = "tok_success"
DECLINE = "tok_decline"
INSUFFICIENT_FUNDS = "tok_insufficient_funds"
THREE_DS = "tok_3ds"
THREE_DS_FAIL = "tok_3ds_fail"
NETWORK_ERROR = "tok_network_error"

_DECLINES = {
    DECLINE: ("card_declined", "Your card was declined."),
    INSUFFICIENT_FUNDS: ("insufficient_funds", "Your card has insufficient funds."),
}
ACTION_URL = "https://gateway.test/3ds/"


@dataclass(frozen=True)
class AuthorizationRecord:
    """An authorization as the gateway holds it; ``status`` follows captures and voids."""

    id: str
    amount: Money
    token: str
    status: GatewayStatus
    idempotency_key: str
    order_id: str | None


@dataclass(frozen=True)
class CaptureRecord:
    id: str
    authorization_id: str
    amount: Money
    idempotency_key: str


@dataclass(frozen=True)
class RefundRecord:
    id: str
    capture_id: str
    amount: Money
    idempotency_key: str


def _failed(code: str, message: str) -> GatewayResult:
    return GatewayResult(GatewayStatus.FAILED, None, decline_code=code, decline_message=message)


def _check_amount(amount: Money, limit: Money | None = None) -> GatewayResult | None:
    if limit is not None and amount.currency != limit.currency:
        return _failed("currency_mismatch", f"Expected an amount in {limit.currency}")
    if amount.amount <= 0:
        return _failed("invalid_amount", "The amount must be positive")
    if limit is not None and amount > limit:
        return _failed("amount_too_large", f"At most {limit}")
    return None


class TestGateway:
    """The built-in test gateway (see the module docstring for tokens and switches)."""

    __test__ = False  # a product class, not a pytest test class

    def __init__(
        self,
        *,
        unavailable: bool = False,
        fail_after_authorize: bool = False,
        fail_after_capture: bool = False,
    ) -> None:
        self.unavailable = unavailable
        self.fail_after_authorize = fail_after_authorize
        self.fail_after_capture = fail_after_capture
        # One lock for everything: requests are microseconds long, and serialising them is what
        # makes "check the key, then act, then store the result" atomic.
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._results: dict[str, tuple[tuple[object, ...], GatewayResult]] = {}
        self._authorizations: dict[str, AuthorizationRecord] = {}
        self._captures: dict[str, CaptureRecord] = {}
        self._refunds: dict[str, RefundRecord] = {}
        self._calls: Counter[str] = Counter()

    # --- the PaymentGateway protocol ----------------------------------------------------------

    def authorize(
        self, amount: Money, token: str, idempotency_key: str, *, order_id: str | None = None
    ) -> GatewayResult:
        """Authorize per the token table; replays a known key (see module docstring)."""
        request = ("authorize", amount, token, order_id)
        with self._lock:
            replay = self._begin("authorize", idempotency_key, request)
            if replay is not None:
                return replay
            if token == NETWORK_ERROR:
                raise GatewayUnavailable("Simulated network error (tok_network_error)")
            result = self._authorize(amount, token, idempotency_key, order_id)
            self._results[idempotency_key] = (request, result)
            if self.fail_after_authorize:
                raise GatewayUnavailable("Simulated connection loss after authorizing")
            return result

    def confirm(self, authorization_id: str, idempotency_key: str) -> GatewayResult:
        """Finish a requires_action authorization: ``tok_3ds`` authorizes, ``tok_3ds_fail``
        declines."""
        request = ("confirm", authorization_id)
        with self._lock:
            replay = self._begin("confirm", idempotency_key, request)
            if replay is not None:
                return replay
            result = self._confirm(authorization_id)
            self._results[idempotency_key] = (request, result)
            return result

    def capture(self, authorization_id: str, amount: Money, idempotency_key: str) -> GatewayResult:
        """Capture up to the authorized amount, once per authorization."""
        request = ("capture", authorization_id, amount)
        with self._lock:
            replay = self._begin("capture", idempotency_key, request)
            if replay is not None:
                return replay
            result = self._capture(authorization_id, amount, idempotency_key)
            self._results[idempotency_key] = (request, result)
            if self.fail_after_capture:
                raise GatewayUnavailable("Simulated connection loss after capturing")
            return result

    def void(self, authorization_id: str, idempotency_key: str) -> GatewayResult:
        """Void an authorization that is authorized or waiting for the customer's action."""
        request = ("void", authorization_id)
        with self._lock:
            replay = self._begin("void", idempotency_key, request)
            if replay is not None:
                return replay
            auth = self._authorizations.get(authorization_id)
            if auth is None:
                result = _failed("unknown_authorization", "No such authorization")
            elif auth.status not in (GatewayStatus.AUTHORIZED, GatewayStatus.REQUIRES_ACTION):
                result = _failed("not_voidable", f"The authorization is {auth.status}")
            else:
                self._authorizations[auth.id] = replace(auth, status=GatewayStatus.VOIDED)
                result = GatewayResult(GatewayStatus.VOIDED, auth.id, auth.amount)
            self._results[idempotency_key] = (request, result)
            return result

    def refund(self, capture_id: str, amount: Money, idempotency_key: str) -> GatewayResult:
        """Refund part or all of what is left of a capture."""
        request = ("refund", capture_id, amount)
        with self._lock:
            replay = self._begin("refund", idempotency_key, request)
            if replay is not None:
                return replay
            result = self._refund(capture_id, amount, idempotency_key)
            self._results[idempotency_key] = (request, result)
            return result

    def find_by_idempotency_key(self, idempotency_key: str) -> GatewayResult | None:
        """The stored result of the request made with this key, or ``None``."""
        with self._lock:
            self._calls["find"] += 1
            if self.unavailable:
                raise GatewayUnavailable("The test gateway is switched to unavailable")
            stored = self._results.get(idempotency_key)
            return stored[1] if stored is not None else None

    # --- introspection for tests --------------------------------------------------------------

    def authorizations(self) -> list[AuthorizationRecord]:
        """Every authorization attempt that reached an issuer (declines included), oldest
        first."""
        with self._lock:
            return list(self._authorizations.values())

    def captures(self) -> list[CaptureRecord]:
        with self._lock:
            return list(self._captures.values())

    def refunds(self) -> list[RefundRecord]:
        with self._lock:
            return list(self._refunds.values())

    def call_count(self, operation: str) -> int:
        """Calls made to ``operation`` (``"authorize"``, ``"capture"``, ``"find"``, ...),
        replays and failures included."""
        with self._lock:
            return self._calls[operation]

    # --- internals (called with the lock held) ------------------------------------------------

    def _begin(
        self, operation: str, idempotency_key: str, request: tuple[object, ...]
    ) -> GatewayResult | None:
        self._calls[operation] += 1
        if not idempotency_key:
            raise ValueError("An idempotency key is required")
        if self.unavailable:
            raise GatewayUnavailable("The test gateway is switched to unavailable")
        stored = self._results.get(idempotency_key)
        if stored is None:
            return None
        if stored[0] != request:
            raise IdempotencyKeyReused("This idempotency key was used for a different request")
        return stored[1]

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):06d}"

    def _authorize(
        self, amount: Money, token: str, idempotency_key: str, order_id: str | None
    ) -> GatewayResult:
        refused = _check_amount(amount)
        if refused is not None:
            return refused
        if token in _DECLINES:
            status = GatewayStatus.DECLINED
        elif token in (THREE_DS, THREE_DS_FAIL):
            status = GatewayStatus.REQUIRES_ACTION
        elif token == SUCCESS:
            status = GatewayStatus.AUTHORIZED
        else:
            return _failed("invalid_token", "Unknown card token")
        auth_id = self._new_id("tauth")
        self._authorizations[auth_id] = AuthorizationRecord(
            auth_id, amount, token, status, idempotency_key, order_id
        )
        if status is GatewayStatus.DECLINED:
            code, message = _DECLINES[token]
            return GatewayResult(
                status, auth_id, amount, decline_code=code, decline_message=message
            )
        if status is GatewayStatus.REQUIRES_ACTION:
            action = RequiredAction(f"act_{auth_id}", ACTION_URL + auth_id)
            return GatewayResult(status, auth_id, amount, action=action)
        return GatewayResult(status, auth_id, amount)

    def _confirm(self, authorization_id: str) -> GatewayResult:
        auth = self._authorizations.get(authorization_id)
        if auth is None:
            return _failed("unknown_authorization", "No such authorization")
        if auth.status is not GatewayStatus.REQUIRES_ACTION:
            return _failed("not_awaiting_action", f"The authorization is {auth.status}")
        if auth.token == THREE_DS_FAIL:
            self._authorizations[auth.id] = replace(auth, status=GatewayStatus.DECLINED)
            return GatewayResult(
                GatewayStatus.DECLINED,
                auth.id,
                auth.amount,
                decline_code="authentication_failed",
                decline_message="The card could not be authenticated.",
            )
        self._authorizations[auth.id] = replace(auth, status=GatewayStatus.AUTHORIZED)
        return GatewayResult(GatewayStatus.AUTHORIZED, auth.id, auth.amount)

    def _capture(self, authorization_id: str, amount: Money, idempotency_key: str) -> GatewayResult:
        auth = self._authorizations.get(authorization_id)
        if auth is None:
            return _failed("unknown_authorization", "No such authorization")
        if auth.status is not GatewayStatus.AUTHORIZED:
            return _failed("not_capturable", f"The authorization is {auth.status}")
        refused = _check_amount(amount, auth.amount)
        if refused is not None:
            return refused
        capture_id = self._new_id("tcap")
        self._captures[capture_id] = CaptureRecord(capture_id, auth.id, amount, idempotency_key)
        self._authorizations[auth.id] = replace(auth, status=GatewayStatus.CAPTURED)
        return GatewayResult(GatewayStatus.CAPTURED, capture_id, amount)

    def _refund(self, capture_id: str, amount: Money, idempotency_key: str) -> GatewayResult:
        capture = self._captures.get(capture_id)
        if capture is None:
            return _failed("unknown_capture", "No such capture")
        refunded = sum(
            (r.amount.amount for r in self._refunds.values() if r.capture_id == capture_id), 0
        )
        left = Money(capture.amount.amount - refunded, capture.amount.currency)
        refused = _check_amount(amount, left)
        if refused is not None:
            return refused
        refund_id = self._new_id("tref")
        self._refunds[refund_id] = RefundRecord(refund_id, capture_id, amount, idempotency_key)
        return GatewayResult(GatewayStatus.REFUNDED, refund_id, amount)
