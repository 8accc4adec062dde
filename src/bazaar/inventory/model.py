"""Inventory rules: warehouses, stock levels, reservations and low stock.

Pure Python: no database, no web framework. The database enforces the same stock invariants
with conditional updates and CHECK constraints (ARCHITECTURE.md §3); these types let services
decide what to write, and let tests check the rules without a database. Choosing warehouses
is in :mod:`bazaar.inventory.allocation`, deciding stock feed items in
:mod:`bazaar.inventory.sync`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bazaar.kernel.errors import Conflict, ValidationFailed

RETAILER = "retailer"  # the fulfiller id of the store's own warehouses, as in the catalog
RESERVATION_TTL = timedelta(minutes=15)
MAX_NAME = 120
_COUNTRY = re.compile(r"[A-Z]{2}")
# SKUs as the catalog spells them (1-64 characters), printable and without spaces, so they
# survive CSV files, URLs (`/stock/{sku}/...`) and log lines unchanged.
_SKU = re.compile(r"[!-~]{1,64}")
# "retailer", or a seller or partner id such as ``sel_01hz...`` / ``prt_01ab...``
_OWNER = re.compile(r"retailer|[a-z]{2,8}_[0-9a-z]{1,40}")


def check_country(value: object, field_name: str) -> None:
    if not isinstance(value, str) or not _COUNTRY.fullmatch(value):
        raise ValidationFailed.on(
            field_name, f"Use an ISO 3166-1 alpha-2 code, got {value!r}", "invalid_country"
        )


def check_count(value: object, field_name: str, *, positive: bool = False) -> None:
    # bool is an int subclass, and True as a quantity is always a bug.
    if type(value) is not int:
        raise ValidationFailed.on(field_name, "Must be a whole number", "not_an_integer")
    if value < (1 if positive else 0):
        message = "Must be positive" if positive else "Must not be negative"
        raise ValidationFailed.on(field_name, message, "not_positive" if positive else "negative")


def check_sku(value: object, field_name: str) -> None:
    if not isinstance(value, str) or not _SKU.fullmatch(value):
        raise ValidationFailed.on(
            field_name, "Use 1-64 printable characters without spaces", "invalid_sku"
        )


def check_owner(value: object, field_name: str) -> None:
    """A warehouse owner is a fulfiller id: ``retailer``, a seller or a partner id."""
    if not isinstance(value, str) or len(value) > 40 or not _OWNER.fullmatch(value):
        raise ValidationFailed.on(
            field_name, "Use 'retailer' or a seller or partner id", "invalid_owner"
        )


def require_aware(moment: datetime, what: str) -> None:
    # Comparing a naive with an aware datetime raises deep inside a sweeper; fail at the edge.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {moment!r}")


# --- warehouses and stock ---------------------------------------------------------------------


@dataclass(frozen=True)
class Warehouse:
    """A place stock is kept, owned by exactly one fulfiller.

    ``owner`` is a fulfiller id: ``"retailer"`` for the store's own warehouses, a seller id
    (``sel_…``) or a partner retailer id. ``priority`` ranks one owner's warehouses, lower is
    preferred. An inactive warehouse keeps its stock records but never receives an allocation.
    Guaranteed on construction: a non-empty owner and an upper-case ISO 3166-1 alpha-2 country.
    """

    id: str
    owner: str
    country: str
    priority: int = 0
    active: bool = True
    name: str = ""

    def __post_init__(self) -> None:
        if not self.owner:
            raise ValidationFailed.on("owner", "A warehouse needs an owner", "required")
        check_country(self.country, "country")
        if type(self.priority) is not int:
            raise ValidationFailed.on("priority", "Must be a whole number", "not_an_integer")
        if len(self.name) > MAX_NAME:
            raise ValidationFailed.on("name", f"At most {MAX_NAME} characters", "too_long")


@dataclass(frozen=True)
class StockLevel:
    """Units of one SKU in one warehouse.

    ``on_hand`` units are physically there; ``reserved`` are held for orders awaiting payment;
    ``allocated`` are promised to paid orders and not yet shipped. Guaranteed on construction:
    all three are non-negative integers and ``reserved + allocated <= on_hand``, so
    :attr:`available` is never negative. Violations raise ``ValidationFailed``.
    """

    sku: str
    warehouse_id: str
    on_hand: int
    reserved: int = 0
    allocated: int = 0

    def __post_init__(self) -> None:
        check_count(self.on_hand, "on_hand")
        check_count(self.reserved, "reserved")
        check_count(self.allocated, "allocated")
        if self.reserved + self.allocated > self.on_hand:
            raise ValidationFailed.on(
                "on_hand",
                f"{self.on_hand} on hand cannot cover {self.reserved} reserved "
                f"and {self.allocated} allocated",
                "below_committed",
            )

    @property
    def committed(self) -> int:
        """Units promised to orders: reserved plus allocated."""
        return self.reserved + self.allocated

    @property
    def available(self) -> int:
        """Units that can still be promised: on hand minus reserved minus allocated."""
        return self.on_hand - self.reserved - self.allocated


# --- reservations -----------------------------------------------------------------------------


class ReservationStatus(StrEnum):
    RESERVED = "reserved"  # held for an order awaiting payment; expires
    ALLOCATED = "allocated"  # the order is paid: promised until shipped
    SHIPPED = "shipped"  # every unit left the warehouse
    RELEASED = "released"  # given back: cancelled, payment failed, or expired


class HoldReleased(Conflict):
    """The order's stock was released (expired, cancelled) before it could be allocated."""

    code = "reservation_released"
    title = "The order's reservation was released"


class StockBusy(Conflict):
    """Other orders kept taking the chosen units; trying again is likely to succeed."""

    code = "stock_busy"
    title = "Stock is changing; try again"


@dataclass(frozen=True)
class Reservation:
    """Units held for an order awaiting payment, released by the sweeper once expired.

    ``warehouse_id`` is ``None`` while the hold is not yet tied to a warehouse. Guaranteed on
    construction: a positive quantity and a timezone-aware ``expires_at``.
    """

    id: str
    order_id: str
    sku: str
    warehouse_id: str | None
    quantity: int
    expires_at: datetime
    status: ReservationStatus = ReservationStatus.RESERVED
    shipped: int = 0

    def __post_init__(self) -> None:
        check_count(self.quantity, "quantity", positive=True)
        require_aware(self.expires_at, "expires_at")
        check_count(self.shipped, "shipped")
        if self.shipped > self.quantity:
            raise ValidationFailed.on("shipped", "More shipped than reserved", "too_many")

    @property
    def unshipped(self) -> int:
        """Units still in the warehouse: what a release gives back."""
        return self.quantity - self.shipped

    @classmethod
    def hold(
        cls,
        id: str,
        order_id: str,
        sku: str,
        quantity: int,
        *,
        now: datetime,
        warehouse_id: str | None = None,
        ttl: timedelta = RESERVATION_TTL,
    ) -> Reservation:
        """A reservation made at ``now`` that expires ``ttl`` later (15 minutes by default)."""
        return cls(id, order_id, sku, warehouse_id, quantity, now + ttl)

    def is_expired(self, now: datetime) -> bool:
        """True from ``expires_at`` on (the deadline itself counts as expired)."""
        require_aware(now, "now")
        return now >= self.expires_at


# --- low stock --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StockChange:
    """The available units of one SKU before and after a change."""

    sku: str
    old_available: int
    new_available: int


def is_low(available: int, threshold: int) -> bool:
    """True when ``available`` is at or below ``threshold`` (so 0 flags only sold-out SKUs)."""
    return available <= threshold


def became_low(change: StockChange, threshold: int) -> bool:
    """True when a change crossed into low stock: alert once, not on every later sale."""
    return not is_low(change.old_available, threshold) and is_low(change.new_available, threshold)


def coalesce_changes(changes: Iterable[StockChange]) -> list[StockChange]:
    """One change per SKU, in order of first appearance: its first old and last new value.

    A burst of sales then reads as one change, so caches are invalidated and alerts raised once.
    A SKU that ends where it started is kept (with equal values); callers may skip it.
    """
    merged: dict[str, StockChange] = {}
    for change in changes:
        first = merged.get(change.sku)
        old = first.old_available if first is not None else change.old_available
        merged[change.sku] = StockChange(change.sku, old, change.new_available)
    return list(merged.values())


# --- catalog offers without a stock feed ----------------------------------------------------


def on_hand_from_offer(
    offer_stock: int,
    fulfiller_levels: Iterable[StockLevel],
    default_warehouse_id: str,
    *,
    staff_edit: bool,
) -> int | None:
    """The on-hand count an offer's stock implies for the fulfiller's default warehouse.

    ``fulfiller_levels`` are the fulfiller's stock levels of the offer's SKU, in all its
    warehouses. ``None`` means "leave inventory alone". The rule, which never loops because
    inventory's writes back to the catalog record no catalog events:

    * a new offer seeds stock only when the fulfiller holds no level of the SKU anywhere;
      a fulfiller with a feed keeps the feed's counts;
    * a staff edit of an offer's stock (the number shoppers see as available) sets the
      default warehouse's ``on_hand`` to that many units plus what is already reserved and
      allocated there, but only when the SKU lives in the default warehouse alone;
      otherwise the warehouses' counts win and the catalog is corrected from them.
    """
    check_count(offer_stock, "stock")
    levels = list(fulfiller_levels)
    if not staff_edit:
        return offer_stock if not levels else None
    if any(level.warehouse_id != default_warehouse_id for level in levels):
        return None
    committed = sum(level.committed for level in levels)
    return offer_stock + committed
