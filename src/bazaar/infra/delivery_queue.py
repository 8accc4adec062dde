"""The dispatcher's side of the outbox: leasing due deliveries and recording attempts.

A dispatcher claims a batch in one short write transaction (:func:`claim_due`), calls the
subscribers with no transaction open, and records the whole batch's outcomes in another
(:func:`record_attempts`): a fixed number of statements per batch, whatever its size. The
statements are built once, at import, since every pass of every dispatcher runs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.infra.db import UtcDateTime
from bazaar.infra.outbox import (
    DELIVERED,
    IN_FLIGHT,
    PENDING,
    Claim,
    deliveries_table,
    delivery_attempts_table,
    events_table,
    row_to_event,
)
from bazaar.kernel.ids import new_id, new_ids

_d = deliveries_table
_NOW = sa.bindparam("now", type_=UtcDateTime())
_DUE = (
    sa.select(_d.c.id)
    .where(
        sa.or_(
            sa.and_(_d.c.status == PENDING, _d.c.next_attempt_at <= _NOW),
            sa.and_(_d.c.status == IN_FLIGHT, _d.c.lease_expires_at <= _NOW),
        )
    )
    .order_by(_d.c.next_attempt_at, _d.c.id)
    .limit(sa.bindparam("limit", type_=sa.Integer))
)
_DUE_FOR_UPDATE = _DUE.with_for_update(skip_locked=True)
_LEASE = (
    _d.update()
    .where(_d.c.id.in_(sa.bindparam("ids", expanding=True)))
    .values(
        status=IN_FLIGHT,
        attempts=_d.c.attempts + 1,
        lease_token=sa.bindparam("lease"),
        lease_expires_at=sa.bindparam("until", type_=UtcDateTime()),
        updated_at=_NOW,
    )
)
_CLAIMED = (
    sa.select(_d.c.id.label("delivery_id"), _d.c.subscriber, _d.c.attempts, events_table)
    .join(events_table, events_table.c.id == _d.c.event_id)
    .where(_d.c.id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(_d.c.next_attempt_at, _d.c.id)
)


def claim_due(
    conn: Connection,
    *,
    now: datetime,
    lease_s: float,
    limit: int,
    skip_locked: bool,
) -> list[Claim]:
    """Lease up to ``limit`` due deliveries to the caller, in the caller's transaction.

    Due means pending with ``next_attempt_at`` reached, or in flight with an expired lease (the
    dispatcher that held it died). On PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets concurrent
    dispatchers take disjoint batches without waiting; on SQLite the write transaction
    (``BEGIN IMMEDIATE``) already serialises claimers.
    """
    query = _DUE_FOR_UPDATE if skip_locked else _DUE
    ids: list[str] = list(conn.execute(query, {"now": now, "limit": limit}).scalars())
    if not ids:
        return []
    token = new_id("lse")
    conn.execute(
        _LEASE,
        {
            "ids": ids,
            "lease": token,
            "until": now + timedelta(seconds=lease_s),
            "now": now,
        },
    )
    rows = conn.execute(_CLAIMED, {"ids": ids}).mappings()
    return [
        Claim(
            delivery_id=row["delivery_id"],
            subscriber=row["subscriber"],
            attempt=row["attempts"],
            lease_token=token,
            event=row_to_event(row),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class Attempt:
    """What became of one claimed delivery: recorded by :func:`record_attempts`."""

    claim: Claim
    started_at: datetime
    duration_ms: int
    ok: bool
    status_code: int | None
    error: str | None
    response_excerpt: str | None
    new_status: str
    next_attempt_at: datetime | None


# One statement each for any number of attempts (executemany). Every column is set, so the
# statement is the same for every outcome: a delivered row gets ``delivered_at``, a retried
# one its new ``next_attempt_at``, and the others keep theirs (COALESCE).
_MOVE_ON = (
    deliveries_table.update()
    .where(
        deliveries_table.c.id == sa.bindparam("delivery_id"),
        deliveries_table.c.lease_token == sa.bindparam("lease"),
        deliveries_table.c.status == IN_FLIGHT,
    )
    .values(
        status=sa.bindparam("new_status"),
        lease_token=None,
        lease_expires_at=None,
        last_error=sa.bindparam("last_error"),
        updated_at=sa.bindparam("now"),
        next_attempt_at=sa.func.coalesce(
            sa.bindparam("next_at", type_=UtcDateTime()), deliveries_table.c.next_attempt_at
        ),
        delivered_at=sa.bindparam("delivered_at", type_=UtcDateTime()),
    )
)
_INSERT_ATTEMPT = delivery_attempts_table.insert()


def record_attempts(conn: Connection, attempts: Sequence[Attempt], now: datetime) -> int:
    """Store a batch of attempts and move their deliveries on, in two statements.

    Returns how many deliveries moved on; a delivery whose lease was lost meanwhile (another
    dispatcher reclaimed it) is left as that dispatcher has it, but its attempt is kept.
    """
    if not attempts:
        return 0
    moved = conn.execute(
        _MOVE_ON,
        [
            {
                "delivery_id": a.claim.delivery_id,
                "lease": a.claim.lease_token,
                "new_status": a.new_status,
                "last_error": None if a.ok else (a.error or "")[:2000],
                "now": now,
                "next_at": a.next_attempt_at,
                "delivered_at": now if a.new_status == DELIVERED else None,
            }
            for a in attempts
        ],
    )
    ids = new_ids("att", len(attempts))
    conn.execute(
        _INSERT_ATTEMPT,
        [
            {
                "id": attempt_id,
                "delivery_id": a.claim.delivery_id,
                "attempt": a.claim.attempt,
                "started_at": a.started_at,
                "duration_ms": a.duration_ms,
                "ok": a.ok,
                "status_code": a.status_code,
                "error": (a.error or None) and a.error[:2000],
                "response_excerpt": (a.response_excerpt or None) and a.response_excerpt[:500],
            }
            for attempt_id, a in zip(ids, attempts, strict=True)
        ],
    )
    return int(moved.rowcount)


def record_attempt(
    conn: Connection,
    claim: Claim,
    *,
    started_at: datetime,
    duration_ms: int,
    ok: bool,
    status_code: int | None,
    error: str | None,
    response_excerpt: str | None,
    new_status: str,
    next_attempt_at: datetime | None,
    now: datetime,
) -> bool:
    """Store one attempt and move the delivery on; False if the lease was lost meanwhile."""
    attempt = Attempt(
        claim,
        started_at,
        duration_ms,
        ok,
        status_code,
        error,
        response_excerpt,
        new_status,
        next_attempt_at,
    )
    return record_attempts(conn, [attempt], now) == 1
