"""What checkout needs of other contexts, as ports the composition root fills in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.engine import Connection

from bazaar.identity.model import Principal
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.inventory.holds import HeldStock
from bazaar.inventory.model import Reservation
from bazaar.kernel.money import Money

if TYPE_CHECKING:
    from bazaar.orders.service import OrderView

# Renders the response body of a placed order (the view and a guest's access token).
Respond = Callable[["OrderView", str | None], Any]


class CartsPort(Protocol):
    """What checkout needs of the carts context."""

    def get_for_checkout(
        self, principal: Principal | None, cart_token: str | None, cart_id: str
    ) -> Any: ...

    def quote_with_offers(self, cart: Any, country: str) -> Any:
        """A ``CartQuote``: ``.quote``, ``.offers`` and the pricing decision ``.priced``."""
        ...

    def mark_ordered(
        self, uow: SqlUnitOfWork, cart_id: str, order_id: str, *, expected_version: int | None
    ) -> None: ...


class InventoryPort(Protocol):
    def reserve(
        self,
        uow: SqlUnitOfWork,
        order_id: str,
        lines: Any,
        *,
        destination_country: str,
        now: Any,
        new_order: bool = False,
    ) -> HeldStock: ...

    def allocate(
        self, uow: SqlUnitOfWork, order_id: str, held: Sequence[Reservation] | None = None
    ) -> Any: ...

    def release(self, uow: SqlUnitOfWork, order_id: str, *, reason: str) -> int: ...


class PricingPort(Protocol):
    """Commits a quote's pricing decision (coupon uses, budgets) in the order's transaction;
    raises a 409 when a coupon or budget ran out since the quote."""

    def commit(
        self,
        conn: Connection,
        priced: Any,
        *,
        order_id: str,
        customer_id: str | None,
        unit_id: str,
        revenue: Money,
        now: datetime,
        shipping: Sequence[Any] = (),
    ) -> None: ...
