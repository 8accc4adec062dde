"""What every part of :class:`~bazaar.inventory.service.InventoryService` shares: its
dependencies and settings, the ports it is given, and the helpers that look up warehouses and
record ``StockChanged``/``LowStock`` for a unit of work."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Protocol

from sqlalchemy.engine import Connection

from bazaar.identity.model import Principal
from bazaar.infra.db import Database
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.inventory import store
from bazaar.inventory.changes import record_stock_changes
from bazaar.inventory.events import HeldUnits
from bazaar.inventory.model import Warehouse
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import NotFound
from bazaar.kernel.events import Actor
from bazaar.kernel.ids import is_valid_id
from bazaar.kernel.pagination import CursorCodec

UowFactory = Callable[[Actor], SqlUnitOfWork]
SYSTEM = Actor.system("inventory")


class OfferStock(Protocol):
    """An offer's stock as the catalog shows it (``CatalogService.offer_stocks`` rows)."""

    @property
    def offer_id(self) -> str: ...
    @property
    def sku(self) -> str: ...
    @property
    def fulfiller_id(self) -> str: ...
    @property
    def stock(self) -> int: ...


# (after offer id, limit) -> the next page of offers in id order
OfferPages = Callable[[str | None, int], Sequence[OfferStock]]
# Raises (403, naming the status) unless the seller a principal acts for may sync its stock.
SellerStockGate = Callable[[Principal], object]


class InventoryCore:
    """The dependencies and settings every part of ``InventoryService`` is built with."""

    def __init__(
        self,
        db: Database,
        uow: UowFactory,
        clock: Clock,
        cursors: CursorCodec,
        *,
        reservation_ttl: timedelta,
        low_stock_threshold: int,
        default_country: str,
        offers: OfferPages | None = None,
        seller_gate: SellerStockGate,
    ) -> None:
        self._db = db
        self._uow = uow
        self._clock = clock
        self._cursors = cursors
        self.reservation_ttl = reservation_ttl
        self._low_stock_threshold = low_stock_threshold
        self._default_country = default_country
        self._offers = offers
        self._seller_gate = seller_gate

    def _record_changes(
        self,
        uow: SqlUnitOfWork,
        before: Mapping[str, int],
        owners: Mapping[str, Iterable[str]],
    ) -> None:
        record_stock_changes(uow, before, owners, default_threshold=self._low_stock_threshold)

    def _warehouse(self, conn: Connection, warehouse_id: str) -> Warehouse:
        found = (
            store.warehouses_by_ids(conn, [warehouse_id]).get(warehouse_id)
            if is_valid_id(warehouse_id, "whs")
            else None
        )
        if found is None:
            raise NotFound("No such warehouse")
        return found

    @staticmethod
    def _owners(conn: Connection, units: Iterable[HeldUnits]) -> dict[str, set[str]]:
        """The owners of the warehouses each SKU's units are held in."""
        held = list(units)
        houses = store.warehouses_by_ids(conn, {u.warehouse_id for u in held})
        owners: dict[str, set[str]] = {}
        for u in held:
            owners.setdefault(u.sku, set()).add(houses[u.warehouse_id].owner)
        return owners
