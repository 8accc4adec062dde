"""Everything a reservation needs to know about its SKUs, read in one statement.

Checkout is the hottest write path in Bazaar, and reserving used to read warehouses, levels,
available totals before and after, and thresholds separately. A :class:`StockSnapshot` holds
the levels of the order's SKUs joined with their warehouses and low-stock thresholds, so the
allocation choice, the ``StockChanged`` numbers and the ``LowStock`` check all come from one
read. Available units after the reservation are the snapshot's minus what was held: exact on
SQLite, whose write transactions are serial; on PostgreSQL the numbers are as this
transaction saw them, which is what the events promise (subscribers that must be exact, such
as the catalog's stock projection, read the current counts when they handle the event).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.inventory.model import StockLevel, Warehouse
from bazaar.inventory.store import stock_levels, stock_thresholds, warehouses


@dataclass(frozen=True)
class StockSnapshot:
    """Levels of some SKUs in every warehouse that holds them, with those warehouses."""

    levels: tuple[StockLevel, ...]
    warehouses: Mapping[str, Warehouse]
    thresholds: Mapping[str, int]
    skus: frozenset[str]

    def warehouses_of(self, owners: Iterable[str]) -> list[Warehouse]:
        """The warehouses of ``owners`` that hold any of the SKUs, by id."""
        wanted = set(owners)
        return sorted(
            (w for w in self.warehouses.values() if w.owner in wanted), key=lambda w: w.id
        )

    def levels_in(self, warehouse_ids: Iterable[str]) -> list[StockLevel]:
        wanted = set(warehouse_ids)
        return [level for level in self.levels if level.warehouse_id in wanted]

    def available(self) -> dict[str, int]:
        """Available units per SKU over active warehouses; 0 for a SKU with no level."""
        totals = dict.fromkeys(sorted(self.skus), 0)
        for level in self.levels:
            if self.warehouses[level.warehouse_id].active:
                totals[level.sku] += level.available
        return totals


_s, _w, _t = stock_levels, warehouses, stock_thresholds
# Built once (it runs in every checkout): the SKUs are an expanding parameter.
_SNAPSHOT = (
    sa.select(
        _s.c.sku,
        _s.c.warehouse_id,
        _s.c.on_hand,
        _s.c.reserved,
        _s.c.allocated,
        _w.c.owner,
        _w.c.country,
        _w.c.priority,
        _w.c.active,
        _w.c.name,
        _t.c.low_stock_threshold,
    )
    .join(_w, _w.c.id == _s.c.warehouse_id)
    .outerjoin(_t, _t.c.sku == _s.c.sku)
    .where(_s.c.sku.in_(sa.bindparam("skus", expanding=True)))
    .order_by(_s.c.sku, _s.c.warehouse_id)
)


def read_snapshot(conn: Connection, skus: Iterable[str]) -> StockSnapshot:
    """The levels of ``skus`` with their warehouses and thresholds, in one statement."""
    wanted = sorted(set(skus))
    levels: list[StockLevel] = []
    houses: dict[str, Warehouse] = {}
    limits: dict[str, int] = {}
    for row in conn.execute(_SNAPSHOT, {"skus": wanted}).mappings() if wanted else ():
        levels.append(
            StockLevel(
                sku=row["sku"],
                warehouse_id=row["warehouse_id"],
                on_hand=row["on_hand"],
                reserved=row["reserved"],
                allocated=row["allocated"],
            )
        )
        if row["warehouse_id"] not in houses:
            houses[row["warehouse_id"]] = Warehouse(
                id=row["warehouse_id"],
                owner=row["owner"],
                country=row["country"],
                priority=row["priority"],
                active=bool(row["active"]),
                name=row["name"],
            )
        if row["low_stock_threshold"] is not None:
            limits[row["sku"]] = int(row["low_stock_threshold"])
    return StockSnapshot(tuple(levels), houses, limits, frozenset(wanted))
