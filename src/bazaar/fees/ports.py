"""What the fees context needs from the rest of Bazaar, as small typed ports.

The ledger reacts to other contexts' events but reads their state only through these
Protocols; :mod:`bazaar.fees.sources` holds the default adapters and the composition root
(:mod:`bazaar.bootstrap`) chooses them. Tests pass fakes.

Pure Python: plain dataclasses and Protocols, no IO.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from bazaar.fees.model import ListingActivity
from bazaar.kernel.money import Money

SELLER_PREFIX = "sel_"


def seller_of(fulfiller_id: str) -> str | None:
    """The seller a fulfiller id names, or None for the retailer (and, for now, partners).

    Partner retailers fulfil brand-site orders under the retailer's contract, so their
    lines are the retailer's sales in the ledger until partner settlement is built."""
    return fulfiller_id if fulfiller_id.startswith(SELLER_PREFIX) else None


@dataclass(frozen=True)
class SoldLine:
    """One order line's money as the orders context stored it (``net = gross - tax``)."""

    line_id: str
    fulfiller_id: str
    category_id: str
    quantity: int
    net: Money
    tax: Money
    gross: Money


@dataclass(frozen=True)
class ShippingCharge:
    """One fulfiller's shipping charge; ``refunded``: the orders context refunded it."""

    fulfiller_id: str
    net: Money
    tax: Money
    gross: Money
    refunded: bool


@dataclass(frozen=True)
class OrderFacts:
    """What the ledger needs to know about one order.

    ``paid``: the customer paid it (it has a payment reference). ``finished_fulfillers``:
    fulfillers whose part of the order is over (delivered, cancelled or rejected)."""

    order_id: str
    currency: str
    paid: bool
    lines: tuple[SoldLine, ...]
    shipping: tuple[ShippingCharge, ...]
    finished_fulfillers: frozenset[str] = frozenset()


class OrderSource(Protocol):
    def order_facts(self, order_id: str) -> OrderFacts | None:
        """The order, or None when there is no such order."""
        ...


class CategoryAncestry(Protocol):
    def ancestors(self, category_ids: Sequence[str]) -> Mapping[str, tuple[str, ...]]:
        """Each category's ancestors, nearest first (unknown categories: none)."""
        ...


@dataclass(frozen=True)
class PaidRefund:
    """A refund the gateway paid back, under the id the orders context gave it."""

    refund_id: str
    amount: Money


@dataclass(frozen=True)
class GatewayReturns:
    """What the gateway gave back to one order's customer: each refund it confirmed, and
    the authorization it released uncaptured (``released``; None unless voided)."""

    refunds: tuple[PaidRefund, ...] = ()
    released: Money | None = None


class GatewayRefunds(Protocol):
    def returned(self, order_id: str) -> GatewayReturns | None:
        """What the payment gateway has given back to the customer of ``order_id`` so far.
        None when the order has no payment."""
        ...


class SellerDirectory(Protocol):
    def statuses(self, seller_ids: Sequence[str]) -> Mapping[str, str]:
        """Each seller's status (``active``, ``suspended``...); a seller left out is active."""
        ...


class ListingActivitySource(Protocol):
    def activity(self, month: date) -> Sequence[ListingActivity]:
        """Every seller listing active on at least one day of ``month`` (its first day),
        with the days it was active."""
        ...


class EverySellerActive:
    """The default :class:`SellerDirectory` until the sellers context provides statuses:
    nobody is suspended."""

    def statuses(self, seller_ids: Sequence[str]) -> Mapping[str, str]:
        return dict.fromkeys(seller_ids, "active")
