"""Stock events of one unit of work: one ``StockChanged`` per SKU, ``LowStock`` per crossing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bazaar.infra.uow import SqlUnitOfWork
from bazaar.inventory import store
from bazaar.inventory.events import LowStock, StockChanged
from bazaar.inventory.model import StockChange, became_low, coalesce_changes


def record_stock_changes(
    uow: SqlUnitOfWork,
    before: Mapping[str, int],
    owners: Mapping[str, Iterable[str]],
    *,
    default_threshold: int,
    after: Mapping[str, int] | None = None,
    thresholds: Mapping[str, int] | None = None,
) -> None:
    """Record one ``StockChanged`` per SKU whose available units moved, merged with any
    recorded earlier in this unit of work, and ``LowStock`` when the merged change crossed
    the SKU's threshold.

    ``before`` holds each SKU's available units read at the start of the caller's change;
    ``owners`` the fulfillers whose warehouses it touched. Merging keeps subscribers (caches,
    the catalog's offers, webhooks) at one event per SKU per commit, however many steps of
    one transaction touched it (checkout reserving several orders, a feed batch).

    ``after`` and ``thresholds``, when the caller already knows them (a reservation computes
    them from its snapshot), spare the two reads.
    """
    if not before:
        return
    if after is None:
        after = store.available_totals(uow.conn, before)
    limits = store.thresholds(uow.conn, before) if thresholds is None else thresholds
    earlier = {e.sku: e for e in uow.events if isinstance(e, StockChanged)}
    dropped = {id(e) for e in earlier.values() if e.sku in before}
    dropped |= {id(e) for e in uow.events if isinstance(e, LowStock) and e.sku in before}
    uow.events[:] = [e for e in uow.events if id(e) not in dropped]
    for sku, old in before.items():
        fulfillers = set(owners.get(sku, ()))
        changes = [StockChange(sku, old, after[sku])]
        if sku in earlier:
            prior = earlier[sku]
            changes.insert(0, StockChange(sku, prior.old_available, prior.new_available))
            fulfillers |= set(prior.fulfiller_ids)
        change = coalesce_changes(changes)[0]
        if change.old_available == change.new_available:
            continue
        ids = tuple(sorted(fulfillers))
        uow.record(
            StockChanged(
                sku=sku,
                fulfiller_ids=ids,
                old_available=change.old_available,
                new_available=change.new_available,
            )
        )
        threshold = limits.get(sku, default_threshold)
        if became_low(change, threshold):
            uow.record(
                LowStock(
                    sku=sku, fulfiller_ids=ids, available=change.new_available, threshold=threshold
                )
            )
