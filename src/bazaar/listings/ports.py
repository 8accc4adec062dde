"""What listings need from outside the context, as ports with their default adapters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from bazaar.catalog.attributes import AttributeDef
from bazaar.identity.model import Principal
from bazaar.listings.checks import ImageProbe


class SellerGate(Protocol):
    """Whether a principal's seller may act on its listings, by the seller's status.

    The composition root wires the sellers context's status gate
    (:class:`bazaar.sellers.status_gate.SellerStatusGate`).
    """

    def check_listings(self, principal: Principal, *, write: bool) -> None:
        """Raise ``PermissionDenied`` (403, naming the seller's status) unless the
        principal's seller may submit listings and feeds (``write``) or follow them."""
        ...


class ImageProber(Protocol):
    """Fetches an image URL and says whether it is a usable image (or its host is down)."""

    def probe(self, url: str) -> ImageProbe: ...


@dataclass(frozen=True)
class CategoryInfo:
    """A category as a listing needs it: its id and the attribute declarations in force."""

    id: str
    attributes: Mapping[str, AttributeDef]
