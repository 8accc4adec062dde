"""Stock feeds: deciding each item of an inbound WMS/OMS batch. Pure Python.

A feed item carries an absolute count or a delta, and the source's sequence number or an
idempotency key; :func:`decide_sync_batch` says which items apply, which are stale or repeated,
and which would break a stock invariant.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from bazaar.inventory.model import StockLevel, check_sku
from bazaar.kernel.errors import FieldError, ValidationFailed

MAX_BATCH = 1000  # items per feed request: bounded work per transaction


class SyncOutcome(StrEnum):
    APPLIED = "applied"
    STALE = "stale"  # the source already sent a newer count for this sku and warehouse
    DUPLICATE = "duplicate"  # this idempotency key was applied before
    REJECTED = "rejected"  # applying it would break a stock invariant


@dataclass(frozen=True)
class SyncItem:
    """One line of an inbound stock feed.

    Exactly one of ``on_hand`` (an absolute count) and ``delta`` (a change) is set, and exactly
    one of ``sequence`` (the source's increasing counter for this SKU and warehouse) and
    ``idempotency_key`` (a unique name of this change). Violations raise ``ValidationFailed``.
    """

    sku: str
    warehouse_id: str
    on_hand: int | None = None
    delta: int | None = None
    sequence: int | None = None
    idempotency_key: str | None = None

    def __post_init__(self) -> None:
        if (self.on_hand is None) == (self.delta is None):
            raise ValidationFailed.on("on_hand", "Send exactly one of on_hand and delta")
        if (self.sequence is None) == (self.idempotency_key is None):
            raise ValidationFailed.on(
                "sequence", "Send exactly one of sequence and idempotency_key"
            )
        if self.on_hand is not None and type(self.on_hand) is not int:
            raise ValidationFailed.on("on_hand", "Must be a whole number", "not_an_integer")
        if self.delta is not None and type(self.delta) is not int:
            raise ValidationFailed.on("delta", "Must be a whole number", "not_an_integer")
        if self.sequence is not None and type(self.sequence) is not int:
            raise ValidationFailed.on("sequence", "Must be a whole number", "not_an_integer")
        if self.idempotency_key == "":
            raise ValidationFailed.on("idempotency_key", "Must not be blank", "required")


@dataclass(frozen=True)
class SyncDecision:
    """What to do with one feed item; ``on_hand`` is the new count when applied.

    ``reason`` is a machine-readable code when the item is not applied: ``duplicate_key``,
    ``stale_sequence``, ``negative_on_hand`` or ``below_committed``.
    """

    item: SyncItem
    outcome: SyncOutcome
    on_hand: int | None = None
    reason: str | None = None


def decide_sync(
    item: SyncItem,
    level: StockLevel | None,
    *,
    last_sequence: int | None,
    key_seen: bool = False,
) -> SyncDecision:
    """Decide one feed item against the current stock level.

    ``level`` is ``None`` for a SKU the warehouse has no record of yet (counted from zero).
    ``last_sequence`` is the last sequence applied for (source, SKU, warehouse) and
    ``key_seen`` whether ``item.idempotency_key`` was applied before. Order of checks: a
    repeated key is ``duplicate``; a sequence not above the last is ``stale``; a result below
    zero or below the units already reserved and allocated is ``rejected``; otherwise
    ``applied`` with the new ``on_hand``. The caller records the sequence or key of applied
    items only, so a rejected change can be corrected and sent again.
    """
    if item.idempotency_key is not None and key_seen:
        return SyncDecision(item, SyncOutcome.DUPLICATE, reason="duplicate_key")
    if item.sequence is not None and last_sequence is not None and item.sequence <= last_sequence:
        return SyncDecision(item, SyncOutcome.STALE, reason="stale_sequence")
    current = level.on_hand if level is not None else 0
    committed = level.committed if level is not None else 0
    new_on_hand = item.on_hand if item.on_hand is not None else current + (item.delta or 0)
    if new_on_hand < 0:
        return SyncDecision(item, SyncOutcome.REJECTED, reason="negative_on_hand")
    # A count below what is promised would oversell silently; an operator must resolve it.
    if new_on_hand < committed:
        return SyncDecision(item, SyncOutcome.REJECTED, reason="below_committed")
    return SyncDecision(item, SyncOutcome.APPLIED, on_hand=new_on_hand)


def decide_sync_batch(
    items: Sequence[SyncItem],
    levels: Mapping[tuple[str, str], StockLevel],
    last_sequences: Mapping[tuple[str, str], int],
    seen_keys: Container[str],
) -> list[SyncDecision]:
    """Decide a batch from one source in order, as if each applied item were saved at once.

    ``levels`` and ``last_sequences`` are keyed by ``(sku, warehouse_id)``; ``seen_keys`` are
    the idempotency keys this source had applied before the batch. So two items for the same
    SKU and warehouse see each other's effect, and a key repeated within the batch is a
    duplicate. Returns one decision per item, in order; the inputs are not modified.
    """
    current = dict(levels)
    sequences = dict(last_sequences)
    applied_keys: set[str] = set()
    decisions: list[SyncDecision] = []
    for item in items:
        key = (item.sku, item.warehouse_id)
        idem = item.idempotency_key
        seen = idem is not None and (idem in applied_keys or idem in seen_keys)
        decision = decide_sync(
            item, current.get(key), last_sequence=sequences.get(key), key_seen=seen
        )
        if decision.outcome is SyncOutcome.APPLIED and decision.on_hand is not None:
            level = current.get(key) or StockLevel(item.sku, item.warehouse_id, 0)
            current[key] = replace(level, on_hand=decision.on_hand)
            if item.sequence is not None:
                sequences[key] = item.sequence
            if idem is not None:
                applied_keys.add(idem)
        decisions.append(decision)
    return decisions


def build_items(raw: Iterable[Mapping[str, Any]]) -> list[SyncItem]:
    """Feed items from their fields, or one ``ValidationFailed`` naming every bad field.

    Fields are named by position, ``items[3].on_hand``, as the HTTP edge names them.
    """
    items: list[SyncItem] = []
    errors: list[FieldError] = []
    for i, fields in enumerate(raw):
        prefix = f"items[{i}]."
        try:
            check_sku(fields.get("sku"), "sku")
            items.append(SyncItem(**fields))
        except ValidationFailed as exc:
            errors += [replace(e, field=prefix + e.field) for e in exc.errors]
    if errors:
        raise ValidationFailed("Some feed items are invalid", errors=errors)
    if len(items) > MAX_BATCH:
        raise ValidationFailed.on("items", f"At most {MAX_BATCH} items per batch", "too_many")
    return items
