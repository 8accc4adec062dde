"""Where a seller's full IBAN goes: the payout provider, and nowhere else.

Bazaar stores a payout account only masked and as a keyed fingerprint
(:class:`~bazaar.sellers.application.PayoutAccount`). The full number is handed to the payout
provider when the application arrives (outside any database transaction), and the provider's
reference is kept instead; payout runs pay "the account behind this reference". A provider
adapter (bank, PSP payout API) implements :class:`PayoutAccounts` and is chosen in
``bootstrap.build``; without one, :class:`UnconnectedPayoutAccounts` keeps nothing.
"""

from __future__ import annotations

from typing import Protocol

from bazaar.sellers.iban import Iban


class PayoutAccounts(Protocol):
    def register(self, seller_id: str, iban: Iban) -> str | None:
        """Hand ``iban`` to the payout provider for ``seller_id``; return its reference.

        Must be idempotent per seller and IBAN (a retried application registers again).
        """
        ...


class UnconnectedPayoutAccounts:
    """No payout provider connected (development, tests): the IBAN is dropped, so a
    provider connected later needs the account again; no reference is returned."""

    def register(self, seller_id: str, iban: Iban) -> str | None:
        return None
