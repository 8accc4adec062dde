"""The data layer's promises: concurrent writers queue instead of failing; times stay UTC."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from bazaar.bootstrap import Container
from bazaar.catalog.listing import ListingParams
from bazaar.identity.model import Role
from bazaar.infra.outbox import events_table
from bazaar.kernel.errors import Conflict
from tests.support.factories import ensure_category, make_account, make_product


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

    threads = [threading.Thread(target=create, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
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
