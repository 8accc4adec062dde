"""Seller members and what a seller's API keys may do.

Pure Python. An approved seller is an account: its members are users (role ``seller``, the
seller's id as their organisation) who joined through an invitation. The owner is invited
when the seller is approved, at the application's contact email; owners invite further
members. An invitation is pending until accepted or expired.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bazaar.kernel.errors import FieldError, ValidationFailed

# What a seller's API key may carry; ``seller_scopes`` keeps those identity knows, so a key
# is never refused for a scope identity does not know.
WANTED_SELLER_SCOPES = frozenset(
    {
        "listings:read",
        "listings:write",
        "orders:read",
        "orders:write",
        "fulfillments:write",
        "statements:read",
        "stock:write",
        "webhooks:read",
        "webhooks:write",
    }
)


def seller_scopes(known: Collection[str]) -> frozenset[str]:
    """The seller scopes among the scopes identity ``known``s."""
    return WANTED_SELLER_SCOPES & frozenset(known)


def check_seller_scopes(scopes: Sequence[str], allowed: Collection[str]) -> None:
    """Raise ``ValidationFailed`` on ``scopes`` unless each is one a seller key may carry."""
    refused = sorted(set(scopes) - set(allowed))
    if refused:
        message = (
            f"Not a seller scope: {', '.join(refused)} (allowed: {', '.join(sorted(allowed))})"
        )
        raise ValidationFailed(
            "Not a seller scope", errors=[FieldError("scopes", message, "unknown")]
        )


class MemberRole(StrEnum):
    OWNER = "owner"
    MEMBER = "member"


@dataclass(frozen=True)
class Member:
    """A seller's member or invitee. ``user_id`` is set once the invitation is accepted."""

    id: str
    seller_id: str
    email: str
    role: MemberRole
    invited_at: datetime
    invitation_expires_at: datetime
    accepted_at: datetime | None = None
    user_id: str | None = None

    @property
    def accepted(self) -> bool:
        return self.accepted_at is not None

    def can_accept(self, now: datetime) -> bool:
        """An invitation is accepted once, before it expires."""
        return self.accepted_at is None and now < self.invitation_expires_at
