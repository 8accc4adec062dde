"""The listings table and its queries (the validation runner's claims are in ``claims``).

A listing row holds the whole :class:`ListingValidation` (drafts, fixes and check results
as JSON) plus what the runner and the publisher need: ``due_at`` (when its next step may
run; NULL once decided), a lease (``lease_token``, ``lease_until``) so two runners never
work on one listing at once, and a ``version`` for optimistic concurrency.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from bazaar.infra.bulk_insert import insert_rows
from bazaar.infra.db import IdColumn, Json, UtcDateTime, metadata
from bazaar.listings import serialise
from bazaar.listings.records import ListingRecord
from bazaar.listings.workflow import ListingState, ListingValidation, Step

_STATES = ", ".join(f"'{s.value}'" for s in ListingState)
_RUNNING = (ListingState.SUBMITTED.value, ListingState.VALIDATING.value)

listings = sa.Table(
    "listings",
    metadata,
    IdColumn(),
    sa.Column("seller_id", sa.String(40), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("step", sa.String(16), nullable=True),
    sa.Column("category_id", sa.String(40), nullable=False),
    sa.Column("submitted", Json, nullable=False),
    sa.Column("draft", Json, nullable=False),
    sa.Column("product_match", Json, nullable=True),
    sa.Column("fixes", Json, nullable=False),
    sa.Column("results", Json, nullable=False),
    sa.Column("reasons", Json, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("due_at", UtcDateTime(), nullable=True),
    sa.Column("lease_token", sa.String(40), nullable=True),
    sa.Column("lease_until", UtcDateTime(), nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("feed_id", sa.String(40), nullable=True),
    sa.Column("feed_line", sa.Integer, nullable=True),
    sa.Column("product_id", sa.String(40), nullable=True),
    sa.Column("offer_id", sa.String(40), nullable=True),
    sa.Column("published_revision", sa.Integer, nullable=True),
    sa.Column("published_at", UtcDateTime(), nullable=True),
    sa.Column("publish_error", sa.Text, nullable=True),
    sa.Column("submitted_at", UtcDateTime(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint(f"state IN ({_STATES})", name="state_known"),
    # One listing per feed row, whatever happens to the feed's workers (NULLs are distinct).
    sa.UniqueConstraint("feed_id", "feed_line"),
    sa.Index(None, "seller_id", "id"),
    sa.Index(None, "state", "submitted_at", "id"),
    sa.Index(None, "due_at"),
)


def due_at(v: ListingValidation, now: datetime) -> datetime | None:
    """When the runner may next take ``v``: its retry time, now, or never (decided)."""
    if v.state.value in _RUNNING and v.step is not None:
        return v.next_attempt_at or now
    return None


def step_values(v: ListingValidation, now: datetime) -> dict[str, Any]:
    """What validation steps change. A runner writes only these: the submission itself is
    fixed for a revision, and writing less JSON is most of what its save costs on PostgreSQL."""
    return {
        "state": v.state.value,
        "step": v.step.value if v.step is not None else None,
        "draft": serialise.draft_json(v.draft),
        "product_match": serialise.match_json(v.match),
        "fixes": serialise.fixes_json(v.fixes),
        "results": serialise.results_json(v.results),
        "reasons": list(v.reasons),
        "attempts": v.attempts,
        "next_attempt_at": v.next_attempt_at,
        "last_error": v.last_error,
        "due_at": due_at(v, now),
        "updated_at": now,
    }


def _validation_values(v: ListingValidation, now: datetime) -> dict[str, Any]:
    return {
        **step_values(v, now),
        "revision": v.revision,
        "category_id": v.draft.category_id,
        "submitted": serialise.draft_json(v.submitted),
        "submitted_at": v.submitted_at,
    }


def record_of(row: RowMapping) -> ListingRecord:
    validation = ListingValidation(
        id=row["id"],
        submitted=serialise.draft_of(row["submitted"]),
        submitted_at=row["submitted_at"],
        draft=serialise.draft_of(row["draft"]),
        state=ListingState(row["state"]),
        revision=row["revision"],
        step=Step(row["step"]) if row["step"] is not None else None,
        match=serialise.match_of(row["product_match"]),
        fixes=serialise.fixes_of(row["fixes"]),
        results=serialise.results_of(row["results"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
        reasons=tuple(row["reasons"]),
    )
    return ListingRecord(
        validation=validation,
        version=row["version"],
        updated_at=row["updated_at"],
        feed_id=row["feed_id"],
        feed_line=row["feed_line"],
        product_id=row["product_id"],
        offer_id=row["offer_id"],
        published_revision=row["published_revision"],
        published_at=row["published_at"],
        publish_error=row["publish_error"],
    )


def insert_listings(
    conn: Connection,
    validations: Sequence[ListingValidation],
    now: datetime,
    *,
    feed_id: str | None = None,
    feed_lines: Sequence[int] | None = None,
) -> None:
    """Insert new listings in one statement; ``feed_lines`` pairs each with its feed row."""
    lines = list(feed_lines) if feed_lines is not None else [None] * len(validations)
    rows = [
        {
            "id": v.id,
            "seller_id": v.seller_id,
            **_validation_values(v, now),
            "lease_token": None,
            "lease_until": None,
            "version": 1,
            "feed_id": feed_id,
            "feed_line": line,
            "product_id": None,
            "offer_id": None,
            "published_revision": None,
            "published_at": None,
            "publish_error": None,
            "created_at": now,
        }
        for v, line in zip(validations, lines, strict=True)
    ]
    if rows:
        insert_rows(conn, listings, rows)


def get_listing(conn: Connection, listing_id: str) -> ListingRecord | None:
    row = conn.execute(sa.select(listings).where(listings.c.id == listing_id)).mappings().first()
    return record_of(row) if row else None


def save_listing(
    conn: Connection,
    record: ListingRecord,
    validation: ListingValidation,
    now: datetime,
    *,
    lease_token: str | None = None,
) -> bool:
    """Write ``validation`` over ``record`` if the row is still at ``record.version`` (and,
    for a runner, still leased with ``lease_token``); release any lease. False otherwise."""
    condition = sa.and_(listings.c.id == record.id, listings.c.version == record.version)
    if lease_token is not None:
        condition = sa.and_(condition, listings.c.lease_token == lease_token)
    result = conn.execute(
        listings.update()
        .where(condition)
        .values(
            **_validation_values(validation, now),
            version=listings.c.version + 1,
            lease_token=None,
            lease_until=None,
        )
    )
    return result.rowcount == 1


def mark_published(
    conn: Connection,
    listing_id: str,
    revision: int,
    *,
    product_id: str,
    offer_id: str,
    now: datetime,
) -> bool:
    """Record that ``revision`` went live as ``offer_id``; False if it was replaced."""
    result = conn.execute(
        listings.update()
        .where(listings.c.id == listing_id, listings.c.revision == revision)
        .values(
            product_id=product_id,
            offer_id=offer_id,
            published_revision=revision,
            published_at=now,
            publish_error=None,
            version=listings.c.version + 1,
            updated_at=now,
        )
    )
    return result.rowcount == 1


def record_publish_error(
    conn: Connection, listing_id: str, revision: int, error: str, now: datetime
) -> None:
    """Say why ``revision`` could not go live (shown to the seller and operators)."""
    conn.execute(
        listings.update()
        .where(listings.c.id == listing_id, listings.c.revision == revision)
        .values(publish_error=error[:2000], version=listings.c.version + 1, updated_at=now)
    )


def seller_listings(
    conn: Connection,
    seller_id: str,
    *,
    states: Sequence[ListingState] | None,
    before_id: str | None,
    limit: int,
) -> list[ListingRecord]:
    """A seller's listings, newest first."""
    query = sa.select(listings).where(listings.c.seller_id == seller_id)
    if states:
        query = query.where(listings.c.state.in_([s.value for s in states]))
    if before_id is not None:
        query = query.where(listings.c.id < before_id)
    rows = conn.execute(query.order_by(listings.c.id.desc()).limit(limit)).mappings()
    return [record_of(row) for row in rows]


def listings_in_state(
    conn: Connection,
    state: ListingState,
    *,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[ListingRecord]:
    """Listings in ``state``, oldest submission first (the review queue, dead letters)."""
    query = sa.select(listings).where(listings.c.state == state.value)
    if after is not None:
        at, listing_id = after
        query = query.where(
            sa.or_(
                listings.c.submitted_at > at,
                sa.and_(listings.c.submitted_at == at, listings.c.id > listing_id),
            )
        )
    query = query.order_by(listings.c.submitted_at, listings.c.id).limit(limit)
    return [record_of(row) for row in conn.execute(query).mappings()]


def feed_listings(
    conn: Connection, feed_id: str, *, after_line: int, limit: int
) -> list[ListingRecord]:
    """The listings a feed created, in file order, after line ``after_line``."""
    query = (
        sa.select(listings)
        .where(listings.c.feed_id == feed_id, listings.c.feed_line > after_line)
        .order_by(listings.c.feed_line)
        .limit(limit)
    )
    return [record_of(row) for row in conn.execute(query).mappings()]


def feed_states(conn: Connection, feed_id: str) -> dict[str, int]:
    """How many of a feed's listings are in each state."""
    rows = conn.execute(
        sa.select(listings.c.state, sa.func.count().label("n"))
        .where(listings.c.feed_id == feed_id)
        .group_by(listings.c.state)
    )
    return {row.state: row.n for row in rows}
