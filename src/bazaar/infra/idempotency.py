"""Idempotency keys for POSTs that move money or stock.

A client sends ``Idempotency-Key`` with such a request. The first request with a key claims
it in a transaction of its own (an INSERT the database makes unique), does the work, and
stores its response; then:

* the same key and the same body replays that response (for at least ``ttl``);
* the same key with a different body is a 422 (the key was reused by mistake);
* the same key while the first request is still running is a 409 (a concurrent duplicate).

The claim carries a lease. If the process dies mid-request the lease runs out and a retry
takes the key over; the work it finds already recorded under the key (``resource_id``, set in
the same transaction that created the resource) is resumed, never repeated.

A hot route can skip the claim's own transaction: it inserts the claim, already carrying the
resource id, as the first statement of the transaction that creates the resource
(:meth:`IdempotencyStore.claim_in`). A stored key, or a concurrent duplicate that commits
first (the insert waits on the key's primary key), makes it fail with :class:`KeyTaken`
before anything was written; the route then answers with :meth:`IdempotencyStore.claim` as
usual (replay, 409, 422, resume). A request that fails before that insert has claimed
nothing, exactly like a claimed one that released its key, but its error may stem from the
stored key's own work (a replay finds its cart already ordered): the route asks ``claim``
before answering such an error.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.infra.db import Database, Json, UtcDateTime, metadata
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import Conflict, ValidationFailed

MAX_KEY_LENGTH = 120

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("scope", sa.String(80), primary_key=True),
    sa.Column("key", sa.String(MAX_KEY_LENGTH), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("resource_id", sa.String(40), nullable=True),
    sa.Column("response_status", sa.Integer, nullable=True),
    sa.Column("response_body", Json, nullable=True),
    sa.Column("locked_until", UtcDateTime(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint("status IN ('running', 'done')", name="status_known"),
    sa.Index(None, "expires_at"),
)


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"
    title = "A request with this Idempotency-Key is still being processed"


# Every placement runs these; built once so each call skips building the expression.
_THIS_KEY = sa.and_(
    idempotency_keys.c.scope == sa.bindparam("scope_"),
    idempotency_keys.c.key == sa.bindparam("key_"),
)
_ATTACH = idempotency_keys.update().where(_THIS_KEY).values(resource_id=sa.bindparam("resource_id"))
_COMPLETE = (
    idempotency_keys.update()
    .where(_THIS_KEY)
    .values(
        status="done",
        response_status=sa.bindparam("response_status"),
        response_body=sa.bindparam("body", type_=Json),
    )
)
_INSERT = idempotency_keys.insert()
_STORED = sa.select(sa.literal(1)).where(_THIS_KEY)


def fingerprint(body: Any) -> str:
    """A hash of the request body that ignores key order and whitespace."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str | None) -> str:
    if key is None or not key.strip():
        raise ValidationFailed.on(
            "header.Idempotency-Key", "This request needs an Idempotency-Key header", "required"
        )
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed.on(
            "header.Idempotency-Key",
            f"At most {MAX_KEY_LENGTH} printable characters",
            "invalid",
        )
    return key


@dataclass(frozen=True)
class Claim:
    """The right to process a request; ``resource_id`` is what an earlier attempt created."""

    scope: str
    key: str
    resource_id: str | None


@dataclass(frozen=True)
class Replay:
    status: int
    body: Any


@dataclass(frozen=True)
class KeyToClaim:
    """A key not claimed yet: the transaction that creates the resource claims it."""

    scope: str
    key: str
    fingerprint: str


class KeyTaken(Exception):
    """The key was already stored (or stored meanwhile): answer it with ``claim``."""


class IdempotencyStore:
    def __init__(self, db: Database, clock: Clock, *, ttl: timedelta, lease: timedelta) -> None:
        self._db = db
        self._clock = clock
        self._ttl = ttl
        self._lease = lease

    def claim(self, scope: str, key: str, body_fingerprint: str) -> Claim | Replay:
        """Claim ``key`` for this request, or the stored response of the first one.

        Raises 422 for a different body under the same key, 409 while another request holds
        the key's lease.
        """
        now = self._clock.now()
        row = {
            "scope": scope,
            "key": key,
            "fingerprint": body_fingerprint,
            "status": "running",
            "locked_until": now + self._lease,
            "created_at": now,
            "expires_at": now + self._ttl,
        }
        try:
            with self._db.write() as conn:
                conn.execute(_INSERT, row)
            return Claim(scope, key, None)
        except sa.exc.IntegrityError:
            pass  # the only constraint this INSERT can break is the (scope, key) primary key
        with self._db.write() as conn:
            found = self._row(conn, scope, key)
            if found is None:  # expired and purged between the two statements
                conn.execute(idempotency_keys.insert(), row)
                return Claim(scope, key, None)
            if found["fingerprint"] != body_fingerprint:
                raise ValidationFailed.on(
                    "header.Idempotency-Key",
                    "This Idempotency-Key was used with a different request body",
                    "key_reused",
                )
            if found["status"] == "done":
                return Replay(found["response_status"], found["response_body"])
            if found["locked_until"] > now:
                raise IdempotencyKeyInUse(
                    "A request with this Idempotency-Key is in progress; retry shortly"
                )
            # The first attempt died holding the lease: take the key over.
            taken = conn.execute(
                idempotency_keys.update()
                .where(
                    idempotency_keys.c.scope == scope,
                    idempotency_keys.c.key == key,
                    idempotency_keys.c.locked_until == found["locked_until"],
                )
                .values(locked_until=now + self._lease)
            ).rowcount
            if taken != 1:
                raise IdempotencyKeyInUse(
                    "A request with this Idempotency-Key is in progress; retry shortly"
                )
            return Claim(scope, key, found["resource_id"])

    def is_stored(self, scope: str, key: str) -> bool:
        with self._db.read() as conn:
            return conn.execute(_STORED, {"scope_": scope, "key_": key}).first() is not None

    def claim_in(self, conn: Connection, request: KeyToClaim, resource_id: str) -> Claim:
        """Claim an unknown key inside the transaction that creates ``resource_id``.

        Run it first in that transaction: a concurrent request with the key then waits here
        until this one commits. Raises :class:`KeyTaken` when the key exists; the caller's
        transaction must then roll back (PostgreSQL aborted it).
        """
        now = self._clock.now()
        row = {
            "scope": request.scope,
            "key": request.key,
            "fingerprint": request.fingerprint,
            "status": "running",
            "resource_id": resource_id,
            "locked_until": now + self._lease,
            "created_at": now,
            "expires_at": now + self._ttl,
        }
        try:
            conn.execute(_INSERT, row)
        except sa.exc.IntegrityError:
            raise KeyTaken(request.key) from None
        return Claim(request.scope, request.key, resource_id)

    @staticmethod
    def _row(conn: Connection, scope: str, key: str) -> Any:
        return (
            conn.execute(
                sa.select(idempotency_keys).where(
                    idempotency_keys.c.scope == scope, idempotency_keys.c.key == key
                )
            )
            .mappings()
            .first()
        )

    @staticmethod
    def attach(conn: Connection, claim: Claim, resource_id: str) -> None:
        """Record what this request created, inside the transaction that creates it."""
        conn.execute(
            _ATTACH, {"scope_": claim.scope, "key_": claim.key, "resource_id": resource_id}
        )

    def complete(self, claim: Claim, status: int, body: Any) -> None:
        """Store the response to replay for later requests with the same key."""
        with self._db.write() as conn:
            self.complete_in(conn, claim, status, body)

    @staticmethod
    def complete_in(conn: Connection, claim: Claim, status: int, body: Any) -> None:
        """Store the response inside the transaction that produced it, so the outcome and
        its replay commit together."""
        conn.execute(
            _COMPLETE,
            {"scope_": claim.scope, "key_": claim.key, "response_status": status, "body": body},
        )

    def release(self, claim: Claim) -> None:
        """Give the key back after a request that changed nothing (e.g. it was invalid)."""
        with self._db.write() as conn:
            conn.execute(
                idempotency_keys.delete().where(
                    idempotency_keys.c.scope == claim.scope,
                    idempotency_keys.c.key == claim.key,
                    idempotency_keys.c.resource_id.is_(None),
                )
            )

    def purge_expired(self, now: datetime | None = None) -> int:
        with self._db.write() as conn:
            result = conn.execute(
                idempotency_keys.delete().where(
                    idempotency_keys.c.expires_at < (now or self._clock.now())
                )
            )
        return result.rowcount
