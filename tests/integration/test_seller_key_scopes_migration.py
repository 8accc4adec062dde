"""Migration 0016: seller keys made before ``statements:read`` existed keep reading
statements; other keys are left alone; downgrading takes the scope back out."""

from __future__ import annotations

import json

import sqlalchemy as sa

from bazaar import migrate
from bazaar.infra.db import create_db_engine

INSERT = sa.text(
    "INSERT INTO api_keys (id, prefix, secret_hash, name, owner_type, owner_id, scopes, "
    "created_at) VALUES (:id, :id, 'h', 'k', :owner_type, 'org', :scopes, "
    "'2026-11-01 00:00:00')"
)


def _scopes(engine: sa.Engine) -> dict[str, list[str]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, scopes FROM api_keys ORDER BY id")).all()
    return {
        row.id: json.loads(row.scopes) if isinstance(row.scopes, str) else row.scopes
        for row in rows
    }


def test_seller_keys_gain_statements_read_once(db_url: str) -> None:
    # Given a database before 0016 with a seller key, a seller key that has the scope and a
    # partner key
    engine = create_db_engine(db_url, pool_size=1)
    try:
        migrate.downgrade(engine, "0015")
        with engine.begin() as conn:
            for key_id, owner_type, scopes in [
                ("k1", "seller", ["orders:read"]),
                ("k2", "seller", ["statements:read"]),
                ("k3", "partner", ["stock:write"]),
            ]:
                conn.execute(
                    INSERT, {"id": key_id, "owner_type": owner_type, "scopes": json.dumps(scopes)}
                )

        # When it is upgraded
        migrate.upgrade(engine)

        # Then every seller key reads statements, and nothing else changed
        assert _scopes(engine) == {
            "k1": ["orders:read", "statements:read"],
            "k2": ["statements:read"],
            "k3": ["stock:write"],
        }

        # And a downgrade takes the scope back out of seller keys
        migrate.downgrade(engine, "0015")
        assert _scopes(engine) == {"k1": ["orders:read"], "k2": [], "k3": ["stock:write"]}
        migrate.upgrade(engine)
    finally:
        engine.dispose()
