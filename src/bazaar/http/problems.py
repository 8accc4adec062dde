"""Every error leaves as ``application/problem+json`` (RFC 9457), with field-level ``errors``."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from bazaar.infra.logging import current_request_id
from bazaar.kernel.errors import (
    Conflict,
    DomainError,
    FieldError,
    NotFound,
    PaymentRequired,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)

log = logging.getLogger("bazaar.http")

PROBLEM_JSON = "application/problem+json"

_STATUS: list[tuple[type[DomainError], int]] = [
    (ValidationFailed, 422),
    (NotFound, 404),
    (Conflict, 409),
    (PaymentRequired, 402),
    (Unauthenticated, 401),
    (PermissionDenied, 403),
    (RateLimited, 429),
]

_HTTP_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    402: "Payment required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    402: "payment_required",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def problem_body(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    *,
    instance: str | None = None,
    errors: Sequence[FieldError] = (),
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"urn:bazaar:problem:{code}",
        "title": title,
        "status": status,
        "code": code,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message, "code": e.code} for e in errors]
    return body


def problem_response(
    status: int,
    code: str | None = None,
    title: str | None = None,
    detail: str | None = None,
    *,
    instance: str | None = None,
    errors: Sequence[FieldError] = (),
    headers: dict[str, str] | None = None,
) -> Response:
    body = problem_body(
        status,
        code or _HTTP_CODES.get(status, "error"),
        title or _HTTP_TITLES.get(status, "Error"),
        detail,
        instance=instance,
        errors=errors,
    )
    return Response(
        json.dumps(body, separators=(",", ":")).encode(),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def status_for(exc: DomainError) -> int:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 400


_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})


def _field_name(loc: Sequence[int | str]) -> str:
    """Name a field as services do: its JSON path or parameter name, without the location.

    ``("body", "price", "amount")`` -> ``price.amount``; ``("query", "limit")`` -> ``limit``;
    list items are indexed like ``offers[0].price``; a problem with the body as a whole is
    ``body``.
    """
    parts = list(loc)
    if parts and parts[0] in _LOCATIONS and len(parts) > 1:
        parts = parts[1:]
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or "body"


def _validation_errors(exc: RequestValidationError) -> tuple[int, list[FieldError], str]:
    errors: list[FieldError] = []
    malformed = False
    for err in exc.errors():
        kind = str(err.get("type", "invalid"))
        if kind == "json_invalid":
            malformed = True
            errors.append(FieldError("body", "Malformed JSON: " + str(err.get("msg", "")), kind))
            continue
        message = str(err.get("msg", "Invalid value"))
        if kind == "extra_forbidden":
            message = "Unknown field"
        errors.append(FieldError(_field_name(err.get("loc", ())), message, kind))
    if malformed:
        return 400, errors, "The request body is not valid JSON"
    return 422, errors, "The request has invalid fields"


def _is_busy(exc: Exception) -> bool:
    """A database that is busy, not broken: SQLite's lock or the connection pool."""
    if isinstance(exc, sa_exc.TimeoutError):
        return True
    return isinstance(exc, sa_exc.OperationalError) and "database is locked" in str(exc.orig)


def install_problem_handlers(app: FastAPI) -> None:
    """Map domain errors, validation errors and HTTP errors to problem+json responses."""

    async def on_domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        status = status_for(exc)
        headers: dict[str, str] = {}
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(max(1, exc.retry_after_s))
        if isinstance(exc, Unauthenticated):
            headers["WWW-Authenticate"] = 'Bearer realm="bazaar"'
        response = problem_response(
            status,
            exc.code,
            exc.title,
            exc.detail,
            instance=request.url.path,
            errors=exc.errors,
            headers=headers or None,
        )
        if exc.extensions:
            body = {**json.loads(bytes(response.body)), **exc.extensions}
            response = Response(
                json.dumps(body, separators=(",", ":")).encode(),
                status_code=status,
                media_type=PROBLEM_JSON,
                headers=headers or None,
            )
        return response

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        status, errors, detail = _validation_errors(exc)
        return problem_response(
            status,
            "malformed_json" if status == 400 else "validation_failed",
            "Malformed JSON" if status == 400 else "Validation failed",
            detail,
            instance=request.url.path,
            errors=errors,
        )

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers) if exc.headers else None
        detail: str | None = exc.detail if isinstance(exc.detail, str) else None
        if detail == _HTTP_TITLES.get(exc.status_code) or detail in {
            "Not Found",
            "Method Not Allowed",
        }:
            detail = None
        return problem_response(
            exc.status_code, detail=detail, instance=request.url.path, headers=headers
        )

    async def on_database_busy(request: Request, exc: Exception) -> Response:
        # SQLite's write lock held past the busy timeout, or no pooled connection free in
        # time: the request changed nothing and can be retried, so say so instead of a 500.
        if not _is_busy(exc):
            raise exc
        return problem_response(
            503,
            "database_busy",
            "Service busy",
            "The store is handling too many changes at once; retry shortly",
            instance=request.url.path,
            headers={"Retry-After": "1"},
        )

    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(sa_exc.OperationalError, on_database_busy)
    app.add_exception_handler(sa_exc.TimeoutError, on_database_busy)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
