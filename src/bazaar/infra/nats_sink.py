"""Publish Bazaar events to a NATS JetStream stream.

nats-py is asyncio-only while the rest of Bazaar is synchronous, so :class:`NatsJetStreamSink`
owns a private event loop running in a daemon thread and hands each publish to it, blocking the
caller until JetStream acknowledges. Delivery is at least once from the caller's side (the
outbox retries); each message carries ``Nats-Msg-Id`` so JetStream drops the repeats that arrive
within the stream's duplicate window.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib.util
import logging
import re
import threading
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

# nats-py is an optional extra (``bazaar[nats]``): a store that does not publish to NATS must
# start without it, so the client is imported only when a sink first connects.
if TYPE_CHECKING:
    from nats.aio.client import Client
    from nats.js import JetStreamContext

_logger = logging.getLogger(__name__)

T = TypeVar("T")

MSG_ID_HEADER = "Nats-Msg-Id"
# Long enough to cover an outbox retry burst; JetStream keeps one id per message this long.
DUPLICATE_WINDOW_S = 120.0
# Time allowed for draining in-flight messages when the sink closes.
_CLOSE_TIMEOUT_S = 5.0
# An event type becomes subject tokens: dotted words, no wildcards or whitespace.
_EVENT_TYPE = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*")


class SinkError(Exception):
    """An event could not be handed to the sink; the caller should retry later."""


class EventSink(Protocol):
    """Where published domain events go after the outbox has committed them."""

    def publish(self, event_type: str, body: bytes, *, msg_id: str, timeout_s: float = 5.0) -> None:
        """Store the event durably or raise SinkError; ``msg_id`` makes redelivery harmless."""
        ...

    def close(self) -> None:
        """Flush what is in flight and release connections."""
        ...


class NatsJetStreamSink:
    """An :class:`EventSink` publishing to ``<subject_prefix>.<event_type>`` on JetStream.

    Thread-safe. Connects on the first publish and reuses the connection; the stream is created
    if missing, covering ``<subject_prefix>.>``.
    """

    def __init__(
        self,
        url: str,
        *,
        stream: str = "BAZAAR_EVENTS",
        subject_prefix: str = "bazaar.events",
        connect_timeout_s: float = 5.0,
    ) -> None:
        if importlib.util.find_spec("nats") is None:
            raise RuntimeError(
                "BAZAAR_NATS_URL is set but nats-py is not installed: pip install 'bazaar[nats]'"
            )
        self._url = url
        self._stream = stream
        self._subject_prefix = subject_prefix.rstrip(".")
        self._connect_timeout_s = connect_timeout_s
        self._lock = threading.Lock()  # guards loop start/stop against concurrent callers
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        # Touched only from the loop thread.
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._connect_lock: asyncio.Lock | None = None

    # -- synchronous API -------------------------------------------------------------------

    def publish(self, event_type: str, body: bytes, *, msg_id: str, timeout_s: float = 5.0) -> None:
        """Publish ``body`` and wait until JetStream has stored it (or reports a duplicate).

        Raises SinkError if the server cannot be reached, does not acknowledge within
        ``timeout_s``, or the sink is closed; ValueError for an event type that is not a valid
        subject suffix.
        """
        if not _EVENT_TYPE.fullmatch(event_type):
            raise ValueError(f"event type {event_type!r} is not a valid subject suffix")
        if not msg_id:
            raise ValueError("msg_id must not be empty")
        subject = f"{self._subject_prefix}.{event_type}"

        async def send() -> None:
            js = await self._connected()
            ack = await js.publish(
                subject,
                body,
                timeout=timeout_s,
                stream=self._stream,
                headers={MSG_ID_HEADER: msg_id},
            )
            if ack.duplicate:
                _logger.debug("JetStream dropped duplicate message %s on %s", msg_id, subject)

        # The margin lets the inner timeouts fire first and give the more precise error.
        self._run(send, timeout_s + self._connect_timeout_s + 1.0, f"publish to {subject!r}")

    def ping(self) -> bool:
        """Tell whether the server is reachable now (connecting if needed); never raises."""

        async def round_trip() -> None:
            nc = await self._connected_client()
            await nc.flush(timeout=max(1, round(self._connect_timeout_s)))

        try:
            self._run(round_trip, 2 * self._connect_timeout_s + 1.0, "ping")
        except SinkError:
            return False
        return True

    def close(self) -> None:
        """Drain the connection and stop the loop thread. Idempotent; later publishes fail."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._disconnect(), loop)
        try:
            future.result(_CLOSE_TIMEOUT_S + 1.0)
        except Exception:  # closing must not fail the caller; the loop is stopped regardless
            _logger.warning("NATS connection did not close cleanly", exc_info=True)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(_CLOSE_TIMEOUT_S)

    # -- loop thread -----------------------------------------------------------------------

    def _run(self, make: Callable[[], Coroutine[Any, Any, T]], timeout_s: float, what: str) -> T:
        with self._lock:
            if self._closed:
                raise SinkError(f"NATS sink is closed; cannot {what}")
            loop = self._ensure_loop()
            # The coroutine is created only once the loop is known to be running, so it is
            # always awaited (an orphaned coroutine would warn).
            future = asyncio.run_coroutine_threadsafe(make(), loop)
        try:
            return future.result(timeout_s)
        except concurrent.futures.TimeoutError as exc:
            future.cancel()
            raise SinkError(f"NATS did not answer within {timeout_s:.1f}s ({what})") from exc
        except SinkError:
            raise
        except Exception as exc:
            raise SinkError(f"NATS failed to {what}: {exc!r}") from exc

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=_run_loop_forever, args=(loop,), name="bazaar-nats-sink", daemon=True
            )
            thread.start()
            self._loop, self._thread = loop, thread
        return self._loop

    async def _connected(self) -> JetStreamContext:
        await self._connected_client()
        assert self._js is not None
        return self._js

    async def _connected_client(self) -> Client:
        if self._connect_lock is None:
            self._connect_lock = asyncio.Lock()
        # One connection attempt at a time; concurrent publishers wait for it and share it.
        async with self._connect_lock:
            if self._nc is None or self._nc.is_closed:
                self._nc, self._js = await self._connect()
            return self._nc

    async def _connect(self) -> tuple[Client, JetStreamContext]:
        from nats.aio.client import Client

        nc = Client()
        try:
            # The client itself retries forever (also after a later disconnect, buffering
            # publishes meanwhile); the first connection is bounded here instead.
            await asyncio.wait_for(
                nc.connect(
                    servers=[self._url],
                    name="bazaar-event-sink",
                    connect_timeout=max(1, round(self._connect_timeout_s)),
                    reconnect_time_wait=1,
                    max_reconnect_attempts=-1,
                    error_cb=_log_error,
                ),
                self._connect_timeout_s,
            )
            js = nc.jetstream(timeout=self._connect_timeout_s)
            await self._ensure_stream(js)
        except BaseException:
            await _close_quietly(nc)
            raise
        return nc, js

    async def _ensure_stream(self, js: JetStreamContext) -> None:
        from nats.js.api import StreamConfig
        from nats.js.errors import NotFoundError

        try:
            await js.stream_info(self._stream)
            return
        except NotFoundError:
            pass
        config = StreamConfig(
            name=self._stream,
            subjects=[f"{self._subject_prefix}.>"],
            duplicate_window=DUPLICATE_WINDOW_S,
        )
        try:
            await js.add_stream(config)
        except Exception:
            # Another process may have created it in between; only that case is fine.
            await js.stream_info(self._stream)

    async def _disconnect(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        if nc is None or nc.is_closed:
            return
        try:
            await asyncio.wait_for(nc.drain(), _CLOSE_TIMEOUT_S)
        finally:
            await _close_quietly(nc)


def _run_loop_forever(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        # Cancel leftovers (e.g. a publish abandoned after a timeout) so none is destroyed
        # while pending, then close the loop so no unclosed-loop warning is left behind.
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()


async def _close_quietly(nc: Client) -> None:
    if nc.is_closed:
        return
    try:
        await nc.close()
    except Exception:
        _logger.debug("ignoring error while closing NATS connection", exc_info=True)


async def _log_error(exc: Exception) -> None:
    _logger.warning("NATS connection error: %r", exc)
