"""Fixtures shared by every test size: where the real services are, and how to demand them.

PostgreSQL, Redis and NATS are real servers at their standard local ports (override with
``BAZAAR_TEST_POSTGRES_URL``, ``BAZAAR_TEST_REDIS_URL``, ``BAZAAR_TEST_NATS_URL``). Outside CI a
missing server skips the tests that need it; under ``CI=true`` it fails them, so a green CI run
always means the real servers were exercised.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

POSTGRES_URL = os.environ.get(
    "BAZAAR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BAZAAR_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
NATS_URL = os.environ.get("BAZAAR_TEST_NATS_URL", "nats://127.0.0.1:4222")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_service(name: str, url: str, probe: Callable[[], object] | None = None) -> None:
    """Skip (locally) or fail (under CI) when ``url`` does not answer."""
    parts = urlsplit(url)
    try:
        if probe is not None:
            probe()
        else:
            with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), 2):
                pass
    except Exception as exc:
        message = f"{name} is not reachable at {url}: {exc}"
        if in_ci():
            pytest.fail(message + " (CI=true: a missing service is a failure)")
        pytest.skip(message)


@pytest.fixture(scope="session")
def redis_url() -> str:
    require_service("Redis", REDIS_URL)
    return REDIS_URL


@pytest.fixture(scope="session")
def nats_url() -> str:
    require_service("NATS", NATS_URL)
    return NATS_URL
