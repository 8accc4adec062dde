"""Identity tables and queries."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from bazaar.identity.model import ApiKey, Principal, Role, User
from bazaar.infra.db import IdColumn, Json, UtcDateTime, metadata

users = sa.Table(
    "users",
    metadata,
    IdColumn(),
    sa.Column("email", sa.String(254), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("org_id", sa.String(40)),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Index(None, "org_id"),
)

auth_tokens = sa.Table(
    "auth_tokens",
    metadata,
    IdColumn(),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column(
        "user_id", sa.String(40), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False, index=True),
    sa.Column("revoked_at", UtcDateTime()),
    sa.Index(None, "user_id"),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    IdColumn(),
    sa.Column("prefix", sa.String(16), nullable=False, unique=True),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("owner_type", sa.String(20), nullable=False),
    sa.Column("owner_id", sa.String(40), nullable=False),
    sa.Column("scopes", Json, nullable=False),
    sa.Column("created_by", sa.String(40)),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime()),
    sa.Column("revoked_at", UtcDateTime()),
    sa.Index(None, "owner_type", "owner_id"),
)


def _user(row: RowMapping) -> User:
    return User(
        id=row["id"],
        email=row["email"],
        role=Role(row["role"]),
        org_id=row["org_id"],
        created_at=row["created_at"],
        disabled=row["disabled"],
    )


def _api_key(row: RowMapping) -> ApiKey:
    return ApiKey(
        id=row["id"],
        prefix=row["prefix"],
        name=row["name"],
        owner_type=Role(row["owner_type"]),
        owner_id=row["owner_id"],
        scopes=frozenset(row["scopes"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
    )


def insert_user(conn: Connection, user: User, password_hash: str) -> None:
    conn.execute(
        users.insert().values(
            id=user.id,
            email=user.email,
            password_hash=password_hash,
            role=user.role.value,
            org_id=user.org_id,
            disabled=user.disabled,
            created_at=user.created_at,
        )
    )


def get_user(conn: Connection, user_id: str) -> User | None:
    row = conn.execute(sa.select(users).where(users.c.id == user_id)).mappings().first()
    return _user(row) if row else None


def get_user_with_hash(conn: Connection, email: str) -> tuple[User, str] | None:
    row = conn.execute(sa.select(users).where(users.c.email == email)).mappings().first()
    return (_user(row), row["password_hash"]) if row else None


def update_password_hash(conn: Connection, user_id: str, password_hash: str) -> None:
    conn.execute(users.update().where(users.c.id == user_id).values(password_hash=password_hash))


def insert_token(
    conn: Connection,
    token_id: str,
    token_hash: str,
    user_id: str,
    created_at: datetime,
    expires_at: datetime,
) -> None:
    conn.execute(
        auth_tokens.insert().values(
            id=token_id,
            token_hash=token_hash,
            user_id=user_id,
            created_at=created_at,
            expires_at=expires_at,
        )
    )


def principal_for_token(conn: Connection, token_hash: str, now: datetime) -> Principal | None:
    """The user behind a live token, in one query (this runs on every authenticated request)."""
    row = conn.execute(
        sa.select(auth_tokens.c.id.label("token_id"), users.c.id, users.c.role, users.c.org_id)
        .join(users, users.c.id == auth_tokens.c.user_id)
        .where(
            auth_tokens.c.token_hash == token_hash,
            auth_tokens.c.revoked_at.is_(None),
            auth_tokens.c.expires_at > now,
            users.c.disabled.is_(sa.false()),
        )
    ).first()
    if row is None:
        return None
    return Principal(
        kind="user", id=row.id, role=Role(row.role), org_id=row.org_id, token_id=row.token_id
    )


def revoke_token(conn: Connection, token_id: str, now: datetime) -> bool:
    result = conn.execute(
        auth_tokens.update()
        .where(auth_tokens.c.id == token_id, auth_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount == 1


def delete_expired_tokens(conn: Connection, now: datetime) -> int:
    return int(conn.execute(auth_tokens.delete().where(auth_tokens.c.expires_at < now)).rowcount)


def insert_api_key(conn: Connection, key: ApiKey, secret_hash: str, created_by: str | None) -> None:
    conn.execute(
        api_keys.insert().values(
            id=key.id,
            prefix=key.prefix,
            secret_hash=secret_hash,
            name=key.name,
            owner_type=key.owner_type.value,
            owner_id=key.owner_id,
            scopes=sorted(key.scopes),
            created_by=created_by,
            created_at=key.created_at,
            expires_at=key.expires_at,
            revoked_at=key.revoked_at,
        )
    )


def get_api_key_by_prefix(conn: Connection, prefix: str) -> tuple[ApiKey, str] | None:
    row = conn.execute(sa.select(api_keys).where(api_keys.c.prefix == prefix)).mappings().first()
    return (_api_key(row), row["secret_hash"]) if row else None


def get_api_key(conn: Connection, key_id: str) -> ApiKey | None:
    row = conn.execute(sa.select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
    return _api_key(row) if row else None


def list_api_keys(
    conn: Connection, owner: tuple[str, str] | None, after_id: str | None, limit: int
) -> list[ApiKey]:
    query = sa.select(api_keys).order_by(api_keys.c.id).limit(limit)
    if owner is not None:
        query = query.where(api_keys.c.owner_type == owner[0], api_keys.c.owner_id == owner[1])
    if after_id is not None:
        query = query.where(api_keys.c.id > after_id)
    return [_api_key(row) for row in conn.execute(query).mappings()]


def revoke_api_key(conn: Connection, key_id: str, now: datetime) -> bool:
    result = conn.execute(
        api_keys.update()
        .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount == 1
