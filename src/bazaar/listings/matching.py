"""Which catalog product a listing offers: GTIN first, then brand + MPN. Pure Python."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from bazaar.catalog.model import gtin_is_valid
from bazaar.listings.checks import ProductRef
from bazaar.listings.normalise import ListingDraft


@dataclass(frozen=True)
class ProductMatch:
    product: ProductRef
    matched_by: Literal["gtin", "brand_mpn"]


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def match_product(
    listing: ListingDraft,
    by_gtin: Mapping[str, ProductRef],
    by_brand_mpn: Mapping[tuple[str, str], ProductRef],
) -> ProductMatch | None:
    """The catalog product a listing offers, or None for a new product.

    GTIN first: spaces and dashes ignored, GTIN-12/13/14 of one item compared as the same
    14-digit number, and only a GTIN with a valid check digit matches (a typo must not
    attach an offer to someone else's product). Then brand + MPN, compared
    case-insensitively with whitespace collapsed.
    """
    gtin = "".join(c for c in listing.gtin or "" if c not in " -")
    if gtin and gtin_is_valid(gtin):
        gtins = {g.zfill(14): ref for g, ref in by_gtin.items()}
        if gtin.zfill(14) in gtins:
            return ProductMatch(gtins[gtin.zfill(14)], "gtin")
    if listing.brand and listing.mpn:
        keyed = {(_key(b), _key(m)): ref for (b, m), ref in by_brand_mpn.items()}
        ref = keyed.get((_key(listing.brand), _key(listing.mpn)))
        if ref is not None:
            return ProductMatch(ref, "brand_mpn")
    return None
