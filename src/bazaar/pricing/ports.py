"""What staff pricing needs from the catalog, as a small typed port.

The ids a rule names (offers, products, categories, brands, fulfillers) belong to the
catalog; pricing checks them through its services, wired in :mod:`bazaar.bootstrap`.
Pure Python.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bazaar.catalog.model import CheckoutOffer
from bazaar.kernel.errors import FieldError


@dataclass(frozen=True)
class CatalogLookups:
    """How pricing checks the ids a rule names, through the catalog's services."""

    offers: Callable[[Sequence[str]], Mapping[str, CheckoutOffer]]
    product_exists: Callable[[str], bool]
    category_exists: Callable[[str], bool]
    brand_exists: Callable[[str], bool]
    fulfiller_exists: Callable[[str], bool]


def unknown_ids(field: str, ids: Sequence[str], exists: Callable[[str], bool]) -> list[FieldError]:
    """``<field>[i]`` for each id ``exists`` does not know (each distinct id asked once)."""
    known = {i for i in set(ids) if exists(i)}
    return [
        FieldError(f"{field}[{i}]", "Not found", "unknown")
        for i, value in enumerate(ids)
        if value not in known
    ]
