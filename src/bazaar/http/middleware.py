"""The edge middleware: one pure-ASGI layer, because each extra layer costs every request.

In order: request id, rate limit, body size limit, then the app; on the way out: security
headers, a default ``Cache-Control: no-store``, the latency metric by route template, and a
500 problem (never a traceback) for anything unexpected.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Sequence
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bazaar.http.problems import problem_response
from bazaar.infra.logging import reset_request_id, set_request_id
from bazaar.infra.metrics import Metrics
from bazaar.infra.ratelimit import RateLimiter
from bazaar.kernel.ids import new_id

log = logging.getLogger("bazaar.http")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_UNLIMITED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_DOCS_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})

API_CSP = "default-src 'none'; frame-ancestors 'none'"
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
# FastAPI's interactive docs load Swagger UI / ReDoc from a CDN.
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data: https://fastapi.tiangolo.com; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; frame-ancestors 'none'"
)

_STATIC_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class BodyTooLarge(HTTPException):
    # An HTTPException because FastAPI turns any other error raised while reading the body
    # into a 400; this one it re-raises, and the problem handlers answer 413.
    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=f"The request body exceeds {limit} bytes")


class EdgeMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        limiter: RateLimiter | None,
        rate_limit_per_minute: int,
        max_body_bytes: int,
        body_limits: Sequence[tuple[re.Pattern[str], int]] = (),
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.limiter = limiter if rate_limit_per_minute > 0 else None
        self.rate_limit = rate_limit_per_minute
        self.max_body_bytes = max_body_bytes
        # Paths (full match) allowed a body of another size than max_body_bytes, e.g. uploads.
        self.body_limits = tuple(body_limits)
        # (method, route template, status) -> its latency histogram: labelling a metric costs
        # more than observing it, and the set of keys is bounded by the routes
        self._durations: dict[tuple[str, str, int], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        incoming = headers.get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else new_id("req")
        token = set_request_id(request_id)
        started = time.perf_counter()
        path: str = scope["path"]
        status_holder = [500]
        response_started = [False]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_started[0] = True
                status_holder[0] = message["status"]
                out = list(message.get("headers", []))
                names = {name.lower() for name, _ in out}
                out.append((b"x-request-id", request_id.encode()))
                out.extend(h for h in _STATIC_HEADERS if h[0] not in names)
                if b"content-security-policy" not in names:
                    out.append((b"content-security-policy", _csp_for(path, out)))
                if b"cache-control" not in names:
                    out.append((b"cache-control", b"no-store"))
                message = {**message, "headers": out}
            await send(message)

        body_limit = self._body_limit(path)
        try:
            refusal = self._check_limits(scope, headers, path, body_limit)
            if refusal is not None:
                await refusal(scope, receive, send_wrapper)
                return
            await self.app(scope, self._limited_receive(receive, body_limit), send_wrapper)
        except BodyTooLarge:
            if not response_started[0]:
                await self._too_large(body_limit)(scope, receive, send_wrapper)
        except Exception:
            log.exception("unhandled error", extra={"path": path, "method": scope["method"]})
            if not response_started[0]:
                await problem_response(
                    500, detail="An unexpected error occurred; quote the request id."
                )(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = (
                getattr(route, "path", None) or scope.get("bazaar.route_template") or "unmatched"
            )
            self._duration(scope["method"], template, status_holder[0]).observe(
                time.perf_counter() - started
            )
            reset_request_id(token)

    def _duration(self, method: str, template: str, status: int) -> Any:
        key = (method, template, status)
        histogram = self._durations.get(key)
        if histogram is None:
            histogram = self.metrics.request_duration.labels(method, template, str(status))
            self._durations[key] = histogram
        return histogram

    def _body_limit(self, path: str) -> int:
        for pattern, limit in self.body_limits:
            if pattern.fullmatch(path):
                return limit
        return self.max_body_bytes

    def _check_limits(
        self, scope: Scope, headers: dict[str, str], path: str, body_limit: int
    ) -> Any:
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > body_limit):
            return self._too_large(body_limit)
        if self.limiter is None or path in _UNLIMITED_PATHS:
            return None
        credential = headers.get("authorization")
        if credential:
            key = "rl:cred:" + hashlib.sha256(credential.encode()).hexdigest()[:24]
        else:
            client = scope.get("client")
            key = "rl:ip:" + (client[0] if client else "unknown")
        decision = self.limiter.hit(key, self.rate_limit, 60)
        if decision.allowed:
            return None
        self.metrics.rate_limited.inc()
        return problem_response(
            429,
            detail="Rate limit exceeded",
            headers={
                "Retry-After": str(max(1, decision.retry_after_s)),
                "RateLimit-Limit": str(decision.limit),
                "RateLimit-Remaining": "0",
            },
        )

    def _too_large(self, limit: int) -> Any:
        return problem_response(413, detail=f"The request body exceeds {limit} bytes")

    def _limited_receive(self, receive: Receive, limit: int) -> Receive:
        received = 0

        async def wrapped() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        return wrapped


def _headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}


_API_CSP, _PAGE_CSP, _DOCS_CSP = (csp.encode() for csp in (API_CSP, PAGE_CSP, DOCS_CSP))


def _csp_for(path: str, headers: list[tuple[bytes, bytes]]) -> bytes:
    if path in _DOCS_PATHS:
        return _DOCS_CSP
    for name, value in headers:
        if name.lower() == b"content-type" and value.startswith(b"text/html"):
            return _PAGE_CSP
    return _API_CSP
