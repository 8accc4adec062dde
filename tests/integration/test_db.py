"""The data layer's promises: concurrent writers queue instead of failing; times stay UTC."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from bazaar.bootstrap import Container
from bazaar.catalog.listing import ListingParams
from bazaar.identity.model import Role
from bazaar.infra.db import Database, create_db_engine
from bazaar.infra.outbox import events_table
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import SystemClock
from bazaar.kernel.errors import Conflict
from bazaar.kernel.events import Actor
from tests.support.factories import ensure_category, make_account, make_product


def _in_threads(work: Callable[[int], None], count: int) -> None:
    """Run ``work(0)`` .. ``work(count - 1)`` in threads of their own; wait for them all."""
    threads = [threading.Thread(target=work, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)


def test_concurrent_writers_all_succeed(container: Container) -> None:
    # given eight threads creating products at the same moment (with their events)
    operator = make_account(container, Role.OPERATOR)
    ensure_category(container, operator, "misc")
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def create(worker: int) -> None:
        start.wait()
        for i in range(10):
            try:
                make_product(container, operator, sku=f"C-{worker}-{i}", category="misc")
            except BaseException as exc:
                errors.append(exc)

    _in_threads(create, 8)
    # then none failed with "database is locked", and every product has its event
    assert errors == []
    page = container.listing.search(ListingParams(category="misc", limit=100))
    assert page.total == 80
    with container.db.read() as conn:
        count = conn.execute(
            sa.select(sa.func.count())
            .select_from(events_table)
            .where(events_table.c.type == "ProductCreated")
        ).scalar()
    assert count == 80


def test_times_round_trip_as_aware_utc(container: Container) -> None:
    operator = make_account(container, Role.OPERATOR)
    created = make_product(container, operator, category="misc")
    fetched = container.catalog.get_product(created.id)
    assert fetched.created_at == created.created_at
    assert fetched.created_at.tzinfo is not None
    assert fetched.created_at.utcoffset() == timedelta(0)


def test_non_utc_times_are_stored_as_the_same_instant(container: Container) -> None:
    tz = timezone(timedelta(hours=5))
    moment = datetime(2026, 6, 1, 17, 0, tzinfo=tz)
    with container.db.write() as conn:
        conn.execute(
            events_table.insert().values(
                id="evt_tz",
                type="Test",
                subject_type="t",
                subject_id="1",
                actor_type="system",
                occurred_at=moment,
                payload={},
            )
        )
    with container.db.read() as conn:
        stored = conn.execute(sa.select(events_table.c.occurred_at)).scalar_one()
    assert stored == datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_concurrent_duplicates_get_a_conflict_not_a_crash(container: Container) -> None:
    # given six requests racing to create the same SKU and the same email
    operator = make_account(container, Role.OPERATOR)
    ensure_category(container, operator, "misc")
    outcomes: list[str] = []
    start = threading.Barrier(6)

    def create_product() -> None:
        start.wait()
        try:
            make_product(container, operator, sku="DUP-1", category="misc")
            outcomes.append("created")
        except Conflict as exc:
            outcomes.append(f"conflict on {exc.errors[0].field}")

    threads = [threading.Thread(target=create_product) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # then exactly one wins and every other one is told why (never an unexpected error)
    assert sorted(outcomes) == ["conflict on variants[0].sku"] * 5 + ["created"]


def test_a_duplicate_email_is_a_conflict_on_the_email_field(container: Container) -> None:
    container.identity.register_customer("dup@example.com", "long enough password")
    with pytest.raises(Conflict) as caught:
        container.identity.register_customer("DUP@example.com", "long enough password")
    assert caught.value.errors[0].field == "email"


def _impatient_sqlite(path: Path) -> Database:
    """A SQLite database whose own busy handler gives up at once (busy timeout 0), while
    writers of this process may queue on their turn for up to 30 s."""
    database = Database(create_db_engine(f"sqlite:///{path}", busy_timeout_ms=0), write_wait_s=30)
    with database.write() as conn:
        conn.exec_driver_sql("CREATE TABLE hits (worker INTEGER, n INTEGER)")
    return database


def test_sqlite_writers_of_one_process_queue_on_their_turn(tmp_path: Path) -> None:
    # Given SQLite whose busy handler never waits, and eight threads writing at once
    database = _impatient_sqlite(tmp_path / "queue.db")
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def write(worker: int) -> None:
        start.wait()
        for n in range(25):
            try:
                with database.write() as conn:
                    conn.exec_driver_sql("INSERT INTO hits VALUES (?, ?)", (worker, n))
                    conn.exec_driver_sql("SELECT count(*) FROM hits").scalar()
            except BaseException as exc:
                errors.append(exc)

    _in_threads(write, 8)

    # Then no writer met SQLite's lock: each waited for its turn in the process instead
    assert errors == []
    with database.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM hits").scalar() == 200
    database.dispose()


def _write_from_another_process(path: str, worker: int, writes: int) -> int:
    """Spawned: ``writes`` write transactions on an impatient SQLite; the errors it met."""
    database = Database(create_db_engine(f"sqlite:///{path}", busy_timeout_ms=0), write_wait_s=30)
    failures = 0
    for n in range(writes):
        try:
            with database.write() as conn:
                conn.exec_driver_sql("INSERT INTO hits VALUES (?, ?)", (worker, n))
                time.sleep(0.001)  # hold the lock long enough for the others to collide
        except sa.exc.OperationalError:
            failures += 1
    database.dispose()
    return failures


def test_sqlite_writers_of_several_processes_queue_on_their_turn(tmp_path: Path) -> None:
    # Given SQLite whose busy handler never waits, and three processes writing at once
    database = _impatient_sqlite(tmp_path / "processes.db")
    spawn = multiprocessing.get_context("spawn")
    with spawn.Pool(3) as pool:
        failures = pool.starmap(
            _write_from_another_process, [(str(tmp_path / "processes.db"), w, 40) for w in range(3)]
        )

    # Then none met SQLite's lock: each waited for the others on the file lock
    assert failures == [0, 0, 0]
    with database.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM hits").scalar() == 120
    database.dispose()


def test_a_failed_begin_gives_the_write_turn_back(tmp_path: Path) -> None:
    # Given another process (here a raw connection) holding SQLite's write lock
    database = _impatient_sqlite(tmp_path / "held.db")
    other = sqlite3.connect(tmp_path / "held.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")

    # When a unit of work cannot begin, and a plain write cannot either
    uow = SqlUnitOfWork(database, SystemClock(), [], actor=Actor.system())
    with pytest.raises(sa.exc.OperationalError, match="locked"):
        uow.__enter__()
    with pytest.raises(sa.exc.OperationalError, match="locked"), database.write():
        pass
    other.rollback()

    # Then the turn was given back both times: a writer in another thread gets it at once
    done = threading.Event()

    def write() -> None:
        with database.write() as conn:
            conn.exec_driver_sql("INSERT INTO hits VALUES (1, 1)")
        done.set()

    thread = threading.Thread(target=write)
    thread.start()
    thread.join(10)
    assert done.is_set()
    other.close()
    database.dispose()


def test_a_nested_write_in_one_thread_meets_sqlites_lock_not_a_deadlock(
    tmp_path: Path,
) -> None:
    database = _impatient_sqlite(tmp_path / "nested.db")
    with database.write() as outer:
        outer.exec_driver_sql("INSERT INTO hits VALUES (1, 1)")
        with pytest.raises(sa.exc.OperationalError, match="locked"), database.write():
            pass
    with database.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM hits").scalar() == 1
    database.dispose()
