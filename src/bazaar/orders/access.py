"""Who may see an order: its customer, staff, or a guest holding the order's access token.

Anyone else gets 404, the same answer as for an order that does not exist, so order ids
cannot be probed.
"""

from __future__ import annotations

import hashlib
import hmac

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bazaar.identity.model import Principal
from bazaar.kernel.errors import NotFound
from bazaar.kernel.ids import is_valid_id
from bazaar.orders.store import orders


def require_access(
    conn: Connection, principal: Principal | None, order_id: str, access_token: str | None
) -> None:
    """Raise NotFound unless ``principal`` (or the guest's ``access_token``) may see the order."""
    if not is_valid_id(order_id, "ord"):
        raise NotFound("No such order")
    row = conn.execute(
        sa.select(orders.c.customer_id, orders.c.access_token_hash).where(orders.c.id == order_id)
    ).first()
    if row is None:
        raise NotFound("No such order")
    if may_see(principal, row.customer_id, row.access_token_hash, access_token):
        return
    raise NotFound("No such order")


def may_see(
    principal: Principal | None,
    customer_id: str | None,
    token_hash: str | None,
    access_token: str | None,
) -> bool:
    if principal is not None and principal.is_staff:
        return True
    if principal is not None and customer_id is not None and principal.id == customer_id:
        return True
    if token_hash is not None and access_token:
        presented = hashlib.sha256(access_token.encode()).hexdigest()
        return hmac.compare_digest(presented, token_hash)
    return False
