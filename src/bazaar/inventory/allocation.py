"""Allocation: which warehouses ship each order line. Pure Python.

The fulfiller's own warehouses only, domestic first, then the fulfiller's priority, with the
fewest splits; the result is deterministic, and its :meth:`Allocation.draws` are sorted so
that concurrent writers touch stock rows in one global order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bazaar.inventory.model import StockLevel, Warehouse, check_count, check_country
from bazaar.kernel.errors import Conflict, FieldError, ValidationFailed


@dataclass(frozen=True)
class Shortage:
    """One SKU a fulfiller cannot supply in full."""

    sku: str
    fulfiller_id: str
    requested: int
    available: int


class InsufficientStock(Conflict):
    """The fulfiller's active warehouses together hold too few units of one or more SKUs."""

    code = "insufficient_stock"
    title = "Not enough stock"

    def __init__(self, shortages: Sequence[Shortage], errors: list[FieldError]) -> None:
        parts = [
            f"sku {s.sku} (requested {s.requested}, available {s.available})" for s in shortages
        ]
        super().__init__("Not enough stock for " + ", ".join(parts), errors=errors)
        self.shortages = tuple(shortages)

    @property
    def skus(self) -> tuple[str, ...]:
        return tuple(s.sku for s in self.shortages)


@dataclass(frozen=True)
class AllocationLine:
    """What allocation needs of an order line: which SKU, how many, and whose offer it is."""

    line_id: str
    sku: str
    quantity: int
    fulfiller_id: str


@dataclass(frozen=True)
class Pick:
    """Take ``quantity`` units for one line from one warehouse."""

    warehouse_id: str
    quantity: int


@dataclass(frozen=True)
class StockDraw:
    """Total units of one SKU taken from one warehouse by a whole allocation."""

    warehouse_id: str
    sku: str
    quantity: int


@dataclass(frozen=True)
class LineAllocation:
    line_id: str
    sku: str
    fulfiller_id: str
    picks: tuple[Pick, ...]

    @property
    def is_split(self) -> bool:
        """True when the line ships from more than one warehouse."""
        return len(self.picks) > 1


@dataclass(frozen=True)
class Allocation:
    """The warehouses chosen for each line, in the order the lines were given."""

    lines: tuple[LineAllocation, ...]

    def picks_for(self, line_id: str) -> tuple[Pick, ...]:
        """The picks of one line; raises ``KeyError`` for a line that was not allocated."""
        for line in self.lines:
            if line.line_id == line_id:
                return line.picks
        raise KeyError(line_id)

    def draws(self) -> tuple[StockDraw, ...]:
        """Units per (warehouse, SKU), sorted by warehouse id then SKU.

        Sorted so that concurrent allocations update stock rows in the same order and cannot
        deadlock each other on PostgreSQL.
        """
        totals: dict[tuple[str, str], int] = {}
        for line in self.lines:
            for pick in line.picks:
                key = (pick.warehouse_id, line.sku)
                totals[key] = totals.get(key, 0) + pick.quantity
        return tuple(StockDraw(w, sku, n) for (w, sku), n in sorted(totals.items()))


def warehouse_preference(warehouse: Warehouse, destination_country: str) -> tuple[bool, int, str]:
    """Sort key of a warehouse for a destination; smaller is preferred."""
    # Domestic first: a cross-border parcel adds customs, duties and days in transit, which
    # cost the customer more than anything the fulfiller's own ranking expresses. Then the
    # fulfiller's priority, which encodes what only it knows (cost, capacity, carrier cut-off).
    # The id last only makes the order total: the same input always gives the same picks, so a
    # retried handler re-derives the allocation it made before.
    return (warehouse.country != destination_country, warehouse.priority, warehouse.id)


def choose_allocation(
    lines: Sequence[AllocationLine],
    stock: Iterable[StockLevel],
    warehouses: Iterable[Warehouse],
    *,
    destination_country: str,
) -> Allocation:
    """Choose the warehouses that ship each line, preferring the fewest splits.

    Guarantees: a line only draws from active warehouses owned by its fulfiller; no warehouse
    gives more of a SKU than its ``available`` units (across all lines); each line's picks sum
    to its quantity. Among a fulfiller's lines: if one warehouse can serve all of them, the
    most preferred such warehouse serves them all; otherwise each line in turn goes to the most
    preferred warehouse that can serve it whole, and only a line no warehouse can serve whole
    is split, greedily in preference order (see :func:`warehouse_preference`). The result is
    deterministic. Raises ``InsufficientStock`` naming every short SKU (nothing is allocated
    then), and ``ValidationFailed`` for a bad country, quantity or duplicate line id.
    """
    check_country(destination_country, "destination_country")
    seen_ids: set[str] = set()
    for i, line in enumerate(lines):
        check_count(line.quantity, f"lines[{i}].quantity", positive=True)
        if line.line_id in seen_ids:
            raise ValidationFailed.on(f"lines[{i}].line_id", "Duplicate line id", "duplicate")
        seen_ids.add(line.line_id)

    left: dict[tuple[str, str], int] = {}  # (warehouse id, sku) -> units still available
    for level in stock:
        key = (level.warehouse_id, level.sku)
        if key in left:
            raise ValueError(f"Two stock levels for sku {level.sku} in {level.warehouse_id}")
        left[key] = level.available
    ranked: dict[str, list[str]] = {}  # owner -> active warehouse ids, most preferred first
    for w in sorted(warehouses, key=lambda w: warehouse_preference(w, destination_country)):
        if w.active:
            ranked.setdefault(w.owner, []).append(w.id)

    _check_supply(lines, left, ranked)

    by_fulfiller: dict[str, list[AllocationLine]] = {}
    for line in lines:
        by_fulfiller.setdefault(line.fulfiller_id, []).append(line)
    picks: dict[str, tuple[Pick, ...]] = {}
    for fulfiller_id, group in by_fulfiller.items():
        candidates = ranked.get(fulfiller_id, [])
        single = _warehouse_serving_all(group, candidates, left)
        for line in group:
            if single is not None:
                chosen: tuple[Pick, ...] = (Pick(single, line.quantity),)
            else:
                chosen = _picks_for_line(line, candidates, left)
            for pick in chosen:
                left[(pick.warehouse_id, line.sku)] -= pick.quantity
            picks[line.line_id] = chosen
    return Allocation(
        tuple(
            LineAllocation(ln.line_id, ln.sku, ln.fulfiller_id, picks[ln.line_id]) for ln in lines
        )
    )


def _check_supply(
    lines: Sequence[AllocationLine],
    left: Mapping[tuple[str, str], int],
    ranked: Mapping[str, list[str]],
) -> None:
    # Checked up front, per fulfiller and SKU, so the error names every short SKU at once and
    # the greedy pass below can never run dry halfway.
    demand: dict[tuple[str, str], int] = {}
    for line in lines:
        key = (line.fulfiller_id, line.sku)
        demand[key] = demand.get(key, 0) + line.quantity
    shortages: list[Shortage] = []
    for (fulfiller_id, sku), requested in demand.items():
        supply = sum(left.get((w, sku), 0) for w in ranked.get(fulfiller_id, []))
        if supply < requested:
            shortages.append(Shortage(sku, fulfiller_id, requested, supply))
    if shortages:
        short = {(s.fulfiller_id, s.sku): s for s in shortages}
        errors = [
            FieldError(
                f"lines[{i}].quantity",
                f"Only {short[(ln.fulfiller_id, ln.sku)].available} of sku {ln.sku} available",
                InsufficientStock.code,
            )
            for i, ln in enumerate(lines)
            if (ln.fulfiller_id, ln.sku) in short
        ]
        raise InsufficientStock(shortages, errors)


def _warehouse_serving_all(
    group: Sequence[AllocationLine], candidates: Sequence[str], left: Mapping[tuple[str, str], int]
) -> str | None:
    demand: dict[str, int] = {}
    for line in group:
        demand[line.sku] = demand.get(line.sku, 0) + line.quantity
    for w in candidates:
        if all(left.get((w, sku), 0) >= n for sku, n in demand.items()):
            return w
    return None


def _picks_for_line(
    line: AllocationLine, candidates: Sequence[str], left: Mapping[tuple[str, str], int]
) -> tuple[Pick, ...]:
    for w in candidates:
        if left.get((w, line.sku), 0) >= line.quantity:
            return (Pick(w, line.quantity),)
    picks: list[Pick] = []
    needed = line.quantity
    for w in candidates:
        take = min(needed, left.get((w, line.sku), 0))
        if take > 0:
            picks.append(Pick(w, take))
            needed -= take
        if needed == 0:
            break
    return tuple(picks)
