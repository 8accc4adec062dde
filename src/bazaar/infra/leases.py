"""Leasing the next row of a work table (jobs, feeds) to one worker at a time.

A work table has ``id``, ``status``, ``attempts``, ``lease_token``, ``lease_until``,
``started_at`` and ``updated_at``. A row is claimable while it is queued, or running with an
expired lease (its worker stopped heartbeating). On PostgreSQL ``FOR UPDATE SKIP LOCKED``
lets workers claim different rows without waiting; on SQLite the write transaction
(``BEGIN IMMEDIATE``) serialises claimers; either way the conditional UPDATE makes a claim
that lost a race take nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def claim_next_id(
    conn: Connection,
    table: sa.Table,
    *,
    queued: str,
    running: str,
    now: datetime,
    lease_s: float,
    token: str,
    skip_locked: bool,
) -> str | None:
    """Lease the oldest claimable row of ``table`` to ``token``; its id, or None."""
    t = table
    claimable = sa.or_(t.c.status == queued, sa.and_(t.c.status == running, t.c.lease_until <= now))
    query = sa.select(t.c.id).where(claimable).order_by(t.c.id).limit(1)
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    row_id = conn.execute(query).scalar()
    if row_id is None:
        return None
    claimed = conn.execute(
        t.update()
        .where(t.c.id == row_id, claimable)
        .values(
            status=running,
            attempts=t.c.attempts + 1,
            lease_token=token,
            lease_until=now + timedelta(seconds=lease_s),
            started_at=sa.func.coalesce(t.c.started_at, now),
            updated_at=now,
        )
    ).rowcount
    return str(row_id) if claimed == 1 else None
