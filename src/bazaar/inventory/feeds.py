"""Applying one stock feed batch inside a unit of work (the rules are in ``sync.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy.engine import Connection

from bazaar.inventory import feed_store, store
from bazaar.inventory.sync import SyncDecision, SyncItem, SyncOutcome, decide_sync_batch


def apply_batch(
    conn: Connection,
    source: str,
    items: Sequence[SyncItem],
    allowed_warehouses: set[str],
    now: datetime,
) -> list[SyncDecision]:
    """Decide and apply ``items`` from ``source``; one decision per item, in order.

    Items for a warehouse outside ``allowed_warehouses`` (unknown, or owned by someone else)
    are rejected as ``unknown_warehouse``. The source's row is locked first, so the sequences
    and keys read next cannot change under the batch; the stock counts can (orders keep
    reserving), so every write is conditional and a count that no longer covers the units
    promised to orders is rejected as ``below_committed`` instead of being stored.
    """
    feed_store.lock_source(conn, source, now)
    known = [item for item in items if item.warehouse_id in allowed_warehouses]
    pairs = {(item.sku, item.warehouse_id) for item in known}
    levels = {
        (level.sku, level.warehouse_id): level
        for level in store.levels(conn, {sku for sku, _ in pairs}, {wh for _, wh in pairs})
        if (level.sku, level.warehouse_id) in pairs
    }
    decided = iter(
        decide_sync_batch(
            known,
            levels,
            feed_store.last_sequences(conn, source, pairs),
            feed_store.seen_keys(
                conn, source, [i.idempotency_key for i in known if i.idempotency_key]
            ),
        )
    )
    exists = set(levels)
    decisions: list[SyncDecision] = []
    for item in items:
        if item.warehouse_id not in allowed_warehouses:
            decisions.append(SyncDecision(item, SyncOutcome.REJECTED, reason="unknown_warehouse"))
            continue
        decision = next(decided)
        if decision.outcome is SyncOutcome.APPLIED:
            decision = _apply(conn, source, decision, exists, now)
        decisions.append(decision)
    return decisions


def _apply(
    conn: Connection,
    source: str,
    decision: SyncDecision,
    exists: set[tuple[str, str]],
    now: datetime,
) -> SyncDecision:
    item = decision.item
    key = (item.sku, item.warehouse_id)
    assert decision.on_hand is not None
    written = False
    if key not in exists:
        # False when a concurrent writer created the level after the batch read: update it
        written = store.insert_level(conn, item.sku, item.warehouse_id, decision.on_hand, now)
        exists.add(key)
    if written:
        pass
    elif item.delta is not None:
        # relative to the stored count, not to what the batch read: a concurrent count wins
        written = store.add_on_hand(conn, item.sku, item.warehouse_id, item.delta, now)
    else:
        written = store.set_on_hand(conn, item.sku, item.warehouse_id, decision.on_hand, now)
    if not written:
        return replace(
            decision, outcome=SyncOutcome.REJECTED, on_hand=None, reason="below_committed"
        )
    # Only applied items are remembered, so a rejected change can be corrected and resent.
    if item.sequence is not None:
        feed_store.save_sequence(conn, source, item.sku, item.warehouse_id, item.sequence, now)
    if item.idempotency_key is not None:
        feed_store.save_key(conn, source, item.idempotency_key, now)
    return decision
