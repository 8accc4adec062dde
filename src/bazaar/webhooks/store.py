"""Webhook subscription table and queries."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from bazaar.infra.db import IdColumn, Json, UtcDateTime, metadata
from bazaar.webhooks.model import Subscription

subscriptions = sa.Table(
    "webhook_subscriptions",
    metadata,
    IdColumn(),
    sa.Column("owner_type", sa.String(20), nullable=False),
    sa.Column("owner_id", sa.String(40), nullable=False),
    sa.Column("url", sa.String(2048), nullable=False),
    # The secret signs deliveries, so it must be readable (unlike passwords and API keys).
    sa.Column("secret", sa.String(128), nullable=False),
    sa.Column("event_types", Json, nullable=False),
    sa.Column("description", sa.String(200), nullable=False, server_default=""),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Index(None, "owner_type", "owner_id"),
    sa.Index(None, "active"),
)


def _subscription(row: RowMapping) -> Subscription:
    return Subscription(
        id=row["id"],
        owner_type=row["owner_type"],
        owner_id=row["owner_id"],
        url=row["url"],
        secret=row["secret"],
        event_types=tuple(row["event_types"]),
        description=row["description"],
        active=row["active"],
        created_at=row["created_at"],
    )


def insert(conn: Connection, sub: Subscription) -> None:
    conn.execute(
        subscriptions.insert().values(
            id=sub.id,
            owner_type=sub.owner_type,
            owner_id=sub.owner_id,
            url=sub.url,
            secret=sub.secret,
            event_types=list(sub.event_types),
            description=sub.description,
            active=sub.active,
            created_at=sub.created_at,
        )
    )


def get(conn: Connection, sub_id: str) -> Subscription | None:
    row = (
        conn.execute(sa.select(subscriptions).where(subscriptions.c.id == sub_id))
        .mappings()
        .first()
    )
    return _subscription(row) if row else None


def list_for(
    conn: Connection, owner: tuple[str, str] | None, after_id: str | None, limit: int
) -> list[Subscription]:
    query = sa.select(subscriptions).order_by(subscriptions.c.id).limit(limit)
    if owner is not None:
        query = query.where(
            subscriptions.c.owner_type == owner[0], subscriptions.c.owner_id == owner[1]
        )
    if after_id is not None:
        query = query.where(subscriptions.c.id > after_id)
    return [_subscription(row) for row in conn.execute(query).mappings()]


_ACTIVE = sa.select(subscriptions).where(subscriptions.c.active.is_(sa.true()))


def active(conn: Connection) -> list[Subscription]:
    """Every active subscription (the resolver filters them per event)."""
    return [_subscription(row) for row in conn.execute(_ACTIVE).mappings()]


def deactivate(conn: Connection, sub_id: str) -> bool:
    result = conn.execute(
        subscriptions.update()
        .where(subscriptions.c.id == sub_id, subscriptions.c.active.is_(sa.true()))
        .values(active=False)
    )
    return result.rowcount == 1
