"""Refuse request bodies that carry a payment card number (422), before anything parses them.

Attached to the routers on the money path (carts, checkout, orders): a card number typed into
an address line or a note would otherwise be stored, logged and sent in webhooks. The error
names the field and never echoes the value.
"""

from __future__ import annotations

from fastapi import Request

from bazaar.kernel.cards import find_card_number
from bazaar.kernel.errors import ValidationFailed


async def reject_card_numbers(request: Request) -> None:
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    if not request.headers.get("content-type", "").startswith("application/json"):
        return
    if not await request.body():
        return
    try:
        # Request.json() keeps what it parsed: the route's body parser reuses it.
        body = await request.json()
    except ValueError:
        return  # malformed JSON gets its own 400 from the body parser
    field = find_card_number(body)
    if field is not None:
        raise ValidationFailed.on(
            f"body.{field}" if field != "$" else "body",
            "Looks like a payment card number. Bazaar never accepts card numbers: pay with a"
            " payment token from the payment provider.",
            "card_number_refused",
        )
