"""Fixtures shared by every test size: where the real services are, and how to demand them.

PostgreSQL, Redis and NATS are real servers at their standard local ports (override with
``BAZAAR_TEST_POSTGRES_URL``, ``BAZAAR_TEST_REDIS_URL``, ``BAZAAR_TEST_NATS_URL``). Outside CI a
missing server skips the tests that need it; under ``CI=true`` it fails them, so a green CI run
always means the real servers were exercised.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from bazaar import migrate
from bazaar.bootstrap import Container, build
from bazaar.http.app import create_app
from bazaar.identity.model import Role
from bazaar.infra.db import create_db_engine
from bazaar.kernel.clock import FixedClock
from bazaar.schema import metadata
from tests.support.factories import T0, Account, make_account, test_settings

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


# --- databases ---------------------------------------------------------------------------------
# Every test that takes ``db_url`` (directly or through ``container``/``client``) runs twice: on
# SQLite and on the real PostgreSQL server. SQLite tests get a fresh copy of a database file
# migrated once per session; PostgreSQL tests share one migrated database per session, emptied
# with TRUNCATE before each test.


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = create_db_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


def _admin_engine() -> sa.Engine:
    return sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A PostgreSQL database of this test session, migrated; dropped at the end."""

    def probe() -> None:
        engine = _admin_engine()
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        finally:
            engine.dispose()

    require_service("PostgreSQL", POSTGRES_URL, probe)
    name = f"bazaar_test_{uuid.uuid4().hex[:10]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    engine = create_db_engine(url, pool_size=2)
    migrate.upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _truncate_all(url: str) -> None:
    engine = create_db_engine(url, pool_size=1)
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            # reference rows the migrations seed, as a freshly migrated database has them
            conn.execute(
                sa.text(
                    "INSERT INTO fulfillers (id, name, rating, updated_at) "
                    "VALUES ('retailer', 'Retailer', NULL, now())"
                )
            )
    finally:
        engine.dispose()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "bazaar.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_server_url")
    _truncate_all(url)
    return url


@pytest.fixture
def clock() -> FixedClock:
    """A clock that moves only when a test says so."""
    return FixedClock(T0)


@pytest.fixture
def container(db_url: str, tmp_path: Path) -> Iterator[Container]:
    """A container on the test database with the system clock."""
    c = build(test_settings(db_url, tmp_path))
    yield c
    c.close()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    """The HTTP app over ``container``, dispatcher not started (tests drain it explicitly)."""
    with TestClient(create_app(container, run_dispatcher=False)) as test_client:
        yield test_client


@pytest.fixture
def operator(container: Container) -> Account:
    return make_account(container, Role.OPERATOR)


@pytest.fixture
def customer(container: Container) -> Account:
    return make_account(container, Role.CUSTOMER)
