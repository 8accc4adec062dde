"""Domain errors.

Services raise these; the HTTP edge maps each class to a status code and an
``application/problem+json`` body. Nothing here knows about HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field; ``field`` is a dotted path like ``body.price.amount``."""

    field: str
    message: str
    code: str = "invalid"


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    code: str = "domain_error"
    title: str = "Request could not be processed"

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors: list[FieldError] = errors or []
        self.extensions: dict[str, object] = {}  # extra problem members, e.g. an order id


class ValidationFailed(DomainError):
    """Input is well-formed but breaks a rule (422)."""

    code = "validation_failed"
    title = "Validation failed"

    @classmethod
    def on(cls, field_name: str, message: str, code: str = "invalid") -> ValidationFailed:
        return cls(message, errors=[FieldError(field_name, message, code)])


class NotFound(DomainError):
    code = "not_found"
    title = "Not found"


class Conflict(DomainError):
    """The request conflicts with current state, e.g. a duplicate key (409)."""

    code = "conflict"
    title = "Conflict"


class PaymentRequired(DomainError):
    """A payment was refused (402); ``extensions`` may name what was created (the order)."""

    code = "payment_required"
    title = "Payment required"


class Unauthenticated(DomainError):
    code = "unauthenticated"
    title = "Authentication required"


class PermissionDenied(DomainError):
    code = "forbidden"
    title = "Forbidden"


class RateLimited(DomainError):
    """Too many requests; ``retry_after_s`` tells the caller when to try again (429)."""

    code = "rate_limited"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after_s: int = 1) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class CurrencyMismatch(ValidationFailed):
    code = "currency_mismatch"
    title = "Currencies do not match"
