"""Helpers for tests that read what Bazaar published to the real NATS JetStream server."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import nats
from nats.js.errors import NotFoundError


@dataclass(frozen=True)
class Message:
    subject: str
    body: bytes
    msg_id: str | None


async def delete_stream(url: str, stream: str) -> None:
    """Remove a test's stream (a missing one is fine)."""
    nc = await nats.connect(url)
    try:
        with contextlib.suppress(NotFoundError):
            await nc.jetstream().delete_stream(stream)
    finally:
        await nc.close()
