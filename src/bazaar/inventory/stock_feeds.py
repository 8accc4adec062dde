"""Inventory's inbound stock: batches from a WMS/OMS (``sync``), and the stock of catalog
offers whose fulfillers have no feed, each applied in one unit of work."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bazaar.identity.model import Principal, Role
from bazaar.inventory import feed_store, feeds, store
from bazaar.inventory.events import StockSynced
from bazaar.inventory.offers import OfferRow, seed_levels
from bazaar.inventory.service_core import SYSTEM, InventoryCore
from bazaar.inventory.sync import SyncDecision, SyncItem, SyncOutcome
from bazaar.kernel.errors import ValidationFailed

_SOURCE = re.compile(r"[A-Za-z0-9._:-]{1,64}")


@dataclass(frozen=True)
class SyncReport:
    source: str
    decisions: list[SyncDecision]

    def count(self, outcome: SyncOutcome) -> int:
        return sum(1 for d in self.decisions if d.outcome is outcome)


class StockFeeds(InventoryCore):
    """Feed batches and offer-kept stock of :class:`~bazaar.inventory.service.InventoryService`."""

    def sync(self, principal: Principal, source: str, items: Sequence[SyncItem]) -> SyncReport:
        """Apply a batch from a WMS/OMS: one outcome per item (applied, stale, duplicate,
        rejected with a reason), in order.

        Partners and sellers sync their own warehouses only (an API key needs the
        ``stock:write`` scope); operators any warehouse. Sequences and idempotency keys are
        remembered per source, and a source's name is scoped to the caller's organisation, so
        two partners both calling theirs "wms" never see each other's sequences. A seller
        syncs only while its status lets it fulfil: a suspended seller still ships the orders
        routed to it, a closed seller or an applicant is refused (403 naming the status).
        """
        principal.require_role(Role.PARTNER, Role.SELLER)
        principal.require_scope("stock:write")
        if principal.role is Role.SELLER:
            self._seller_gate(principal)
        if not _SOURCE.fullmatch(source):
            raise ValidationFailed.on(
                "source", "Use 1-64 letters, digits and . _ : -", "invalid_source"
            )
        scoped_source = f"{principal.org_id or 'staff'}/{source}"
        with self._uow(principal.actor) as uow:
            conn = uow.conn
            houses = store.warehouses_by_ids(conn, {item.warehouse_id for item in items})
            allowed = {
                w.id
                for w in houses.values()
                if principal.role is Role.OPERATOR or w.owner == principal.org_id
            }
            skus = {item.sku for item in items if item.warehouse_id in allowed}
            before = store.available_totals(conn, skus)
            decisions = feeds.apply_batch(conn, scoped_source, items, allowed, self._clock.now())
            report = SyncReport(source, decisions)
            uow.record(
                StockSynced(
                    source=scoped_source,
                    applied=report.count(SyncOutcome.APPLIED),
                    stale=report.count(SyncOutcome.STALE),
                    duplicate=report.count(SyncOutcome.DUPLICATE),
                    rejected=report.count(SyncOutcome.REJECTED),
                )
            )
            owners: dict[str, set[str]] = {}
            for d in decisions:
                if d.outcome is SyncOutcome.APPLIED:
                    owners.setdefault(d.item.sku, set()).add(houses[d.item.warehouse_id].owner)
            self._record_changes(uow, {s: n for s, n in before.items() if s in owners}, owners)
            uow.commit()
        return report

    def purge_sync_keys(self, older_than: datetime) -> int:
        """Forget feed idempotency keys recorded before ``older_than``."""
        with self._db.write() as conn:
            return feed_store.purge_keys(conn, older_than)

    # --- offers of fulfillers without a feed -------------------------------------------------

    def apply_offer_stock(
        self,
        event_id: str,
        offers: Sequence[OfferRow],
        *,
        staff_edit: bool,
    ) -> int:
        """Mirror catalog offers' stock ``(sku, fulfiller id, stock)`` into inventory, once
        per catalog event; return the levels written.

        The rule is :func:`bazaar.inventory.model.on_hand_from_offer`: new offers seed a
        fulfiller's default warehouse only where it has no record of the SKU; a staff edit
        sets the default warehouse's count when the SKU lives there alone.
        """
        with self._uow(SYSTEM) as uow:
            if not uow.mark_processed("inventory.offer_stock", event_id):
                return 0
            before = store.available_totals(uow.conn, {sku for sku, _, _ in offers})
            touched = seed_levels(
                uow,
                offers,
                staff_edit=staff_edit,
                country=self._default_country,
                now=self._clock.now(),
            )
            self._record_changes(uow, {s: before[s] for s in touched}, touched)
            uow.commit()
        return sum(len(owners) for owners in touched.values())

    def backfill_from_offers(self, batch: int = 1000) -> int:
        """Give every catalog offer without a stock record one in its fulfiller's default
        warehouse, holding the offer's stock; return the levels created. Idempotent.

        Records no stock events: the catalog already shows exactly these counts.
        """
        if self._offers is None:
            raise RuntimeError("InventoryService was built without an offer source")
        created, after = 0, None
        while True:
            page = self._offers(after, batch)
            if not page:
                return created
            with self._uow(SYSTEM) as uow:
                rows = [(o.sku, o.fulfiller_id, o.stock) for o in page]
                touched = seed_levels(
                    uow,
                    rows,
                    staff_edit=False,
                    country=self._default_country,
                    now=self._clock.now(),
                )
                created += sum(len(owners) for owners in touched.values())
                uow.commit()
            after = page[-1].offer_id
            if len(page) < batch:
                return created
