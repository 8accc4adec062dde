"""A real loopback HTTP server that plays a webhook receiver in tests.

It listens on 127.0.0.1 with an ephemeral port, records every request (headers and the exact
body bytes) and answers with a scripted sequence of replies, then with a default reply::

    with WebhookReceiver([500, Reply(429, retry_after="120"), 200]) as receiver:
        subscribe(receiver.url)
        ...
        assert [r.body for r in receiver.requests] == [...]

A reply may be delayed to make the sender's read timeout fire; the delay is cut short when
the receiver closes, so a test never waits for it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self

import httpx


@dataclass(frozen=True)
class Reply:
    """One scripted answer."""

    status: int = 200
    body: bytes = b"ok"
    retry_after: str | None = None
    location: str | None = None
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: httpx.Headers  # case-insensitive, like the real header block
    body: bytes


def _as_reply(value: int | Reply) -> Reply:
    return value if isinstance(value, Reply) else Reply(value)


class WebhookReceiver:
    """Context manager running a ``ThreadingHTTPServer`` in a daemon thread."""

    def __init__(
        self, replies: Iterable[int | Reply] = (), *, otherwise: int | Reply = 200
    ) -> None:
        self._lock = threading.Lock()
        self._replies: deque[Reply] = deque(_as_reply(r) for r in replies)
        self._otherwise = _as_reply(otherwise)
        self._requests: list[ReceivedRequest] = []
        self._arrived = threading.Condition(self._lock)
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        # A short poll interval keeps close() (which waits for the serve loop) quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="webhook-receiver",
            daemon=True,
        )

    # --- what tests use -----------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/bazaar"

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._requests)

    def script(self, *replies: int | Reply, otherwise: int | Reply | None = None) -> None:
        """Replace the replies still to come (and optionally the default reply)."""
        with self._lock:
            self._replies = deque(_as_reply(r) for r in replies)
            if otherwise is not None:
                self._otherwise = _as_reply(otherwise)

    def wait_for(self, count: int, timeout_s: float = 5.0) -> list[ReceivedRequest]:
        """Block until ``count`` requests arrived (bounded); return them all."""
        deadline = time.monotonic() + timeout_s
        with self._arrived:
            while len(self._requests) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"expected {count} requests within {timeout_s}s, got {len(self._requests)}"
                    )
                self._arrived.wait(remaining)
            return list(self._requests)

    # --- lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._closing.set()  # releases any delayed reply at once
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()

    # --- server side --------------------------------------------------------------------------

    def _record(self, request: ReceivedRequest) -> Reply:
        with self._arrived:
            self._requests.append(request)
            self._arrived.notify_all()
            return self._replies.popleft() if self._replies else self._otherwise

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                reply = receiver._record(
                    ReceivedRequest(
                        method=self.command,
                        path=self.path,
                        headers=httpx.Headers(list(self.headers.items())),
                        body=body,
                    )
                )
                if reply.delay_s and receiver._closing.wait(reply.delay_s):
                    return
                try:
                    self.send_response(reply.status)
                    if reply.retry_after is not None:
                        self.send_header("Retry-After", reply.retry_after)
                    if reply.location is not None:
                        self.send_header("Location", reply.location)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up (its read timeout): expected in timeout tests

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output quiet

        return Handler


def closed_port_url() -> str:
    """A loopback URL on which nothing listens (connection refused)."""
    with WebhookReceiver() as receiver:
        return receiver.url  # closed on the way out
