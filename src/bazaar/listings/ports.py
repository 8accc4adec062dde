"""What listings need from outside the context, as ports with their default adapters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from bazaar.catalog.attributes import AttributeDef
from bazaar.identity.model import Principal, Role
from bazaar.listings.checks import ImageProbe


class SellerGate(Protocol):
    """Whether a principal may act for its seller (submit listings, read them)."""

    def is_active(self, principal: Principal) -> bool: ...


class AnySellerIsActive:
    """Every principal with the seller role and a seller id is active.

    The default until seller onboarding decides; ``bazaar.bootstrap.build`` is where a gate
    backed by the sellers' own statuses replaces it.
    """

    def is_active(self, principal: Principal) -> bool:
        return principal.role is Role.SELLER and bool(principal.org_id)


class ImageProber(Protocol):
    """Fetches an image URL and says whether it is a usable image (or its host is down)."""

    def probe(self, url: str) -> ImageProbe: ...


@dataclass(frozen=True)
class CategoryInfo:
    """A category as a listing needs it: its id and the attribute declarations in force."""

    id: str
    attributes: Mapping[str, AttributeDef]
