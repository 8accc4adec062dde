"""The table of sellers' feed imports, and the queries workers use to claim and advance them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from bazaar.catalog.import_runs import RowError
from bazaar.infra.db import IdColumn, Json, UtcDateTime, metadata
from bazaar.infra.leases import claim_next_id
from bazaar.listings.feed_runs import FeedFormat, FeedRun, FeedStatus

listing_feeds = sa.Table(
    "listing_feeds",
    metadata,
    IdColumn(),
    sa.Column("seller_id", sa.String(40), nullable=False),
    sa.Column("owner_type", sa.String(20), nullable=False),
    sa.Column("owner_id", sa.String(64), nullable=False),
    sa.Column("format", sa.String(8), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("input_key", sa.String(512), nullable=False),
    sa.Column("lines_done", sa.Integer, nullable=False),
    sa.Column("listings", sa.Integer, nullable=False),
    sa.Column("failed", sa.Integer, nullable=False),
    sa.Column("error_count", sa.Integer, nullable=False),
    sa.Column("errors", Json, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("lease_token", sa.String(40), nullable=True),
    sa.Column("lease_until", UtcDateTime(), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("started_at", UtcDateTime(), nullable=True),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    sa.CheckConstraint(
        "status IN ('queued', 'running', 'succeeded', 'failed')", name="status_known"
    ),
    sa.Index(None, "status", "id"),
    sa.Index(None, "seller_id", "id"),
)


def _run(row: RowMapping) -> FeedRun:
    return FeedRun(
        id=row["id"],
        seller_id=row["seller_id"],
        owner_type=row["owner_type"],
        owner_id=row["owner_id"],
        format=FeedFormat(row["format"]),
        status=FeedStatus(row["status"]),
        input_key=row["input_key"],
        lines_done=row["lines_done"],
        listings=row["listings"],
        failed=row["failed"],
        error_count=row["error_count"],
        errors=tuple(RowError(**e) for e in row["errors"]),
        attempts=row["attempts"],
        error=row["error"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        lease_token=row["lease_token"],
    )


def insert_feed(conn: Connection, run: FeedRun) -> None:
    conn.execute(
        listing_feeds.insert().values(
            id=run.id,
            seller_id=run.seller_id,
            owner_type=run.owner_type,
            owner_id=run.owner_id,
            format=run.format.value,
            status=run.status.value,
            input_key=run.input_key,
            lines_done=0,
            listings=0,
            failed=0,
            error_count=0,
            errors=[],
            attempts=0,
            created_at=run.created_at,
            updated_at=run.updated_at,
        )
    )


def get_feed(conn: Connection, feed_id: str) -> FeedRun | None:
    row = (
        conn.execute(sa.select(listing_feeds).where(listing_feeds.c.id == feed_id))
        .mappings()
        .first()
    )
    return _run(row) if row else None


def claim_next(
    conn: Connection, *, now: datetime, lease_s: float, token: str, skip_locked: bool
) -> FeedRun | None:
    """Lease the oldest queued feed, or a running one whose worker stopped (lease expired).

    See :mod:`bazaar.infra.leases` for how concurrent workers claim different feeds.
    """
    claimed = claim_next_id(
        conn,
        listing_feeds,
        queued=FeedStatus.QUEUED.value,
        running=FeedStatus.RUNNING.value,
        now=now,
        lease_s=lease_s,
        token=token,
        skip_locked=skip_locked,
    )
    return get_feed(conn, claimed) if claimed is not None else None


def advance(
    conn: Connection, run: FeedRun, *, expected_lines_done: int, token: str, lease_until: datetime
) -> bool:
    """Move the checkpoint and counts, extending the lease, if this worker still holds the
    run and nobody moved the checkpoint meanwhile; False otherwise (the batch must roll back)."""
    f = listing_feeds
    result = conn.execute(
        f.update()
        .where(
            f.c.id == run.id,
            f.c.lease_token == token,
            f.c.status == FeedStatus.RUNNING.value,
            f.c.lines_done == expected_lines_done,
        )
        .values(
            lines_done=run.lines_done,
            listings=run.listings,
            failed=run.failed,
            error_count=run.error_count,
            errors=[e.to_dict() for e in run.errors],
            lease_until=lease_until,
            updated_at=run.updated_at,
        )
    )
    return result.rowcount == 1


def finish(
    conn: Connection,
    feed_id: str,
    token: str,
    *,
    status: FeedStatus,
    now: datetime,
    error: str | None = None,
    attempts: int | None = None,
) -> bool:
    """End a run (succeeded, failed) or put it back in the queue; False if the lease was lost."""
    f = listing_feeds
    ended = status in (FeedStatus.SUCCEEDED, FeedStatus.FAILED)
    values: dict[str, Any] = {
        "status": status.value,
        "lease_token": None,
        "lease_until": None,
        "updated_at": now,
        "finished_at": now if ended else None,
        "error": error,
    }
    if attempts is not None:
        values["attempts"] = attempts
    result = conn.execute(
        f.update()
        .where(f.c.id == feed_id, f.c.lease_token == token, f.c.status == FeedStatus.RUNNING.value)
        .values(**values)
    )
    return result.rowcount == 1
