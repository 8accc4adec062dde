"""Idempotency keys claimed inside the transaction that creates the resource.

Runs on SQLite and on PostgreSQL: a claim taken in a transaction is seen by ``claim`` exactly
like one taken in its own, and a key that is already stored refuses the transaction before it
wrote anything.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from bazaar.bootstrap import Container
from bazaar.infra.idempotency import (
    Claim,
    IdempotencyKeyInUse,
    IdempotencyStore,
    KeyTaken,
    KeyToClaim,
    Replay,
    idempotency_keys,
)
from bazaar.kernel.clock import FixedClock
from bazaar.kernel.errors import ValidationFailed
from tests.support.factories import T0

LEASE = timedelta(seconds=30)


def _store(container: Container, clock: FixedClock) -> IdempotencyStore:
    return IdempotencyStore(container.db, clock, ttl=timedelta(hours=24), lease=LEASE)


def _claim_in_transaction(store: IdempotencyStore, container: Container, key: KeyToClaim) -> Claim:
    with container.db.write() as conn:
        return store.claim_in(conn, key, "ord_1")


def test_a_key_claimed_in_a_transaction_answers_like_a_claimed_one(container: Container) -> None:
    # Given a key claimed by the transaction that created order ord_1
    clock = FixedClock(T0)
    store = _store(container, clock)
    key = KeyToClaim("cart:crt_1", "k-1", "f" * 64)
    claimed = _claim_in_transaction(store, container, key)
    assert claimed == Claim("cart:crt_1", "k-1", "ord_1")

    # When the same key comes again while the lease runs: 409; with another body: 422
    with pytest.raises(IdempotencyKeyInUse):
        store.claim(key.scope, key.key, key.fingerprint)
    with pytest.raises(ValidationFailed):
        store.claim(key.scope, key.key, "0" * 64)

    # Then after the lease ran out, a retry takes the key over and finds the order to resume
    clock.advance(LEASE.total_seconds() + 1)
    assert store.claim(key.scope, key.key, key.fingerprint) == Claim("cart:crt_1", "k-1", "ord_1")

    # And once the outcome is stored, the key replays it
    store.complete(claimed, 201, {"id": "ord_1"})
    assert store.claim(key.scope, key.key, key.fingerprint) == Replay(201, {"id": "ord_1"})


def test_a_stored_key_refuses_the_transaction_before_it_writes(container: Container) -> None:
    # Given a key already claimed (by the first of two duplicate requests)
    store = _store(container, FixedClock(T0))
    key = KeyToClaim("cart:crt_2", "k-2", "f" * 64)
    _claim_in_transaction(store, container, key)

    # When the duplicate's transaction claims it too, it fails with KeyTaken and rolls back
    with pytest.raises(KeyTaken), container.db.write() as conn:
        store.claim_in(conn, KeyToClaim(key.scope, key.key, key.fingerprint), "ord_2")

    # Then the stored key still names the first order only
    with container.db.read() as conn:
        rows: list[str | None] = list(
            conn.execute(sa.select(idempotency_keys.c.resource_id)).scalars()
        )
    assert rows == ["ord_1"]


def test_is_stored_sees_only_stored_keys(container: Container) -> None:
    store = _store(container, FixedClock(T0))
    key = KeyToClaim("user:usr_1", "k-3", "f" * 64)
    assert not store.is_stored(key.scope, key.key)
    _claim_in_transaction(store, container, key)
    assert store.is_stored(key.scope, key.key)
    assert not store.is_stored("user:usr_2", key.key)  # keys are per caller
