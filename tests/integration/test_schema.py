"""The migration chain and the table definitions agree, on both engines."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bazaar import migrate
from bazaar.infra.db import create_db_engine
from bazaar.schema import metadata

# Engine-specific full-text objects that migration 0003 creates outside the declared metadata
# (see its docstring): SQLite's FTS5 table "search_fts" and its shadow tables
# ("search_fts_data", ...), PostgreSQL's tsvector table "search_fts" and the pg_trgm index.
ENGINE_SPECIFIC_SEARCH_OBJECTS = ("search_fts", "ix_search_terms_term_trgm")


def _declared_or_portable(name: str | None, type_: str, parent_names: object) -> bool:
    return not (name or "").startswith(ENGINE_SPECIFIC_SEARCH_OBJECTS)


def test_migrations_produce_exactly_the_declared_schema(db_url: str) -> None:
    # given a database migrated to head (the fixture did it)
    engine = create_db_engine(db_url, pool_size=1)
    try:
        with engine.connect() as conn:
            # when alembic compares it with the declared tables
            diff = compare_metadata(
                MigrationContext.configure(
                    conn,
                    opts={"compare_type": True, "include_name": _declared_or_portable},
                ),
                metadata,
            )
    finally:
        engine.dispose()
    # then there is nothing to migrate: no model change was left without a migration
    assert diff == []


def test_chain_downgrades_to_base_and_upgrades_again(db_url: str) -> None:
    engine = create_db_engine(db_url, pool_size=1)
    try:
        migrate.downgrade(engine, "base")
        assert "events" not in sa.inspect(engine).get_table_names()
        migrate.upgrade(engine)
        assert "events" in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_events_are_append_only(db_url: str) -> None:
    # given one event in the audit log
    engine = create_db_engine(db_url, pool_size=1)
    insert = sa.text(
        "INSERT INTO events (id, type, subject_type, subject_id, actor_type, occurred_at, payload)"
        " VALUES ('evt_x', 'Test', 't', '1', 'system', '2026-01-01 00:00:00', '{}')"
    )
    try:
        with engine.begin() as conn:
            conn.execute(insert)
        # when someone tries to rewrite or erase it, then the database refuses
        for statement in ("UPDATE events SET type = 'Forged'", "DELETE FROM events"):
            with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
                conn.execute(sa.text(statement))
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT type FROM events")).scalar_one() == "Test"
    finally:
        engine.dispose()
