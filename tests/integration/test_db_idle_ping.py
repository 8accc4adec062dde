"""PostgreSQL connections are checked after sitting idle, not at every checkout."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from bazaar.infra import db
from tests.conftest import POSTGRES_URL, require_service

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine() -> Iterator[sa.Engine]:
    require_service("PostgreSQL", POSTGRES_URL)
    engine = db.create_db_engine(POSTGRES_URL, pool_size=1)
    yield engine
    engine.dispose()


def _backend_pid(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(pid: int) -> None:
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        admin.dispose()


def test_a_connection_that_died_while_idle_is_replaced(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a pooled connection the server closed while it sat idle past the threshold
    monkeypatch.setattr(db, "IDLE_PING_S", 0.0)
    first = _backend_pid(engine)
    _terminate(first)

    # When it is checked out again, then the ping finds it dead and another one serves
    assert _backend_pid(engine) != first


def test_a_connection_used_moments_ago_is_not_pinged(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a connection just returned to the pool, and a count of pings
    _backend_pid(engine)
    pings: list[object] = []
    ping = engine.dialect.do_ping

    def counted_ping(dbapi_connection: Any) -> bool:
        pings.append(dbapi_connection)
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted_ping)

    # When it is checked out again at once, then no ping goes out before the work
    _backend_pid(engine)
    assert pings == []

    # And once it sat idle past the threshold, the next checkout pings it
    monkeypatch.setattr(db, "IDLE_PING_S", 0.0)
    _backend_pid(engine)
    assert len(pings) == 1
