"""The validation runner's hold on listings: claim a batch of due ones, keep holding them,
save the batch.

A claim is a lease (``lease_token``, ``lease_until`` on the listing row): while it lasts no
other runner takes the listing, and a runner saves only the listings it still holds, so a
runner presumed dead that wakes up late writes nothing. Each of these is one statement for
the whole batch (saving, two), whatever its size: the number of statements a pass costs
does not grow with the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.listings.records import ListingRecord
from bazaar.listings.store import listings, record_of, step_values
from bazaar.listings.workflow import ListingValidation


def claim_due(
    conn: Connection,
    *,
    now: datetime,
    lease_s: float,
    limit: int,
    token: str,
    skip_locked: bool,
) -> list[ListingRecord]:
    """Lease up to ``limit`` listings whose next step is due and that nobody holds, oldest
    due first, in one statement.

    The UPDATE re-checks the due condition, so a listing another runner claimed meanwhile
    is not taken twice; on PostgreSQL ``FOR UPDATE SKIP LOCKED`` in the subquery lets
    runners take disjoint batches without waiting, on SQLite the write transaction
    (``BEGIN IMMEDIATE``) serialises claimers.
    """
    claimable = sa.and_(
        listings.c.due_at <= now,
        sa.or_(listings.c.lease_until.is_(None), listings.c.lease_until <= now),
    )
    due = (
        sa.select(listings.c.id)
        .where(claimable)
        .order_by(listings.c.due_at, listings.c.id)
        .limit(limit)
    )
    if skip_locked:
        due = due.with_for_update(skip_locked=True)
    rows = conn.execute(
        listings.update()
        .where(listings.c.id.in_(due.scalar_subquery()), claimable)
        .values(lease_token=token, lease_until=now + timedelta(seconds=lease_s))
        .returning(*listings.c)
    ).mappings()
    # RETURNING promises no order: the batch runs in due order, as the subquery chose it
    return [record_of(row) for row in sorted(rows, key=lambda row: (row["due_at"], row["id"]))]


def extend_lease(conn: Connection, listing_ids: Sequence[str], token: str, until: datetime) -> int:
    """Keep holding the listings leased with ``token`` until ``until``; how many still were."""
    result = conn.execute(
        listings.update()
        .where(listings.c.id.in_(listing_ids), listings.c.lease_token == token)
        .values(lease_until=until)
    )
    return int(result.rowcount)


def save_claimed(
    conn: Connection,
    saves: Sequence[tuple[ListingRecord, ListingValidation]],
    now: datetime,
    lease_token: str,
) -> list[str]:
    """Write each validation over its listing if the listing is still at the record's
    version and still leased with ``lease_token``, releasing the lease; return the ids
    written (a listing another runner took over is not). Two statements for the batch.

    The listings still held are read first, locked on PostgreSQL (on SQLite the write
    transaction already excludes other writers), so none can be taken over before the
    executemany UPDATE that follows. (One UPDATE joined to the batch as arrays was tried
    on PostgreSQL: slower, client and server.)
    """
    if not saves:
        return []
    query = sa.select(listings.c.id).where(
        listings.c.id.in_([record.id for record, _ in saves]),
        listings.c.lease_token == lease_token,
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    held: set[str] = set(conn.execute(query).scalars())
    rows = [
        {"b_id": record.id, "b_version": record.version, **step_values(validation, now)}
        for record, validation in saves
        if record.id in held
    ]
    if rows:
        conn.execute(_SAVE_ONE, rows)
    return [row["b_id"] for row in rows]


_SAVE_ONE = (
    listings.update()
    .where(listings.c.id == sa.bindparam("b_id"), listings.c.version == sa.bindparam("b_version"))
    .values(version=listings.c.version + 1, lease_token=None, lease_until=None)
)
