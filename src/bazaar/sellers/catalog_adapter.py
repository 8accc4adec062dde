"""The catalog as the sellers context drives it, through the catalog's services only.

:class:`CatalogOffers` finds, hides and restores a seller's offers (the
:class:`~bazaar.sellers.offer_visibility.OfferCatalog` port); :class:`SellerFulfillers`
registers an approved seller as a fulfiller, so offers can be made in its name;
:class:`SellerCategories` resolves the categories an applicant applies for.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from bazaar.catalog.drafts import OfferPatch
from bazaar.catalog.model import OfferStatus
from bazaar.catalog.service import CatalogService
from bazaar.catalog.taxonomy import TaxonomyService
from bazaar.identity.model import Principal, Role
from bazaar.kernel.errors import NotFound, ValidationFailed
from bazaar.sellers.service import CategoryRef

# Seller status changes act on the catalog as the platform, not as a person.
SELLERS = Principal(kind="system", id="sellers", role=Role.OPERATOR)


class CatalogOffers:
    def __init__(self, catalog: CatalogService, *, page_size: int = 1000) -> None:
        self._catalog = catalog
        self._page_size = page_size

    def offer_ids_of(self, fulfiller_id: str) -> Sequence[str]:
        # The catalog has no lookup by fulfiller yet: page through every offer. Suspensions
        # are rare; a catalog query by fulfiller (indexed) would make this one statement.
        found: list[str] = []
        after: str | None = None
        while True:
            page = self._catalog.offer_stocks(after_offer_id=after, limit=self._page_size)
            found += [o.offer_id for o in page if o.fulfiller_id == fulfiller_id]
            if len(page) < self._page_size:
                return found
            after = page[-1].offer_id

    def active_offer_ids(self, offer_ids: Collection[str]) -> set[str]:
        ids = sorted(offer_ids)
        active: set[str] = set()
        for start in range(0, len(ids), self._page_size):
            offers = self._catalog.checkout_offers(ids[start : start + self._page_size])
            active |= {i for i, o in offers.items() if o.status is OfferStatus.ACTIVE}
        return active

    def set_offer_active(self, offer_id: str, active: bool) -> bool:
        status = OfferStatus.ACTIVE if active else OfferStatus.INACTIVE
        try:
            self._catalog.update_offer(SELLERS, offer_id, OfferPatch(status=status))
        except NotFound:
            return False
        return True


class SellerFulfillers:
    def __init__(self, taxonomy: TaxonomyService) -> None:
        self._taxonomy = taxonomy

    def ensure(self, seller_id: str, name: str) -> None:
        """Register the seller as a fulfiller under its trading name, once."""
        if seller_id not in self._taxonomy.fulfillers([seller_id]):
            self._taxonomy.set_fulfiller(SELLERS, seller_id, name, None)


class SellerCategories:
    """Applied-for categories resolved by the taxonomy (id or slug path)."""

    def __init__(self, taxonomy: TaxonomyService) -> None:
        self._taxonomy = taxonomy

    def __call__(self, ref: str) -> CategoryRef | None:
        try:
            category = self._taxonomy.get_category(ref)
        except (NotFound, ValidationFailed):
            return None
        return CategoryRef(category.id, category.path)
