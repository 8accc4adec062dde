"""The demo's listings: a seller's submissions waiting in the operator's review queue.

Both offer catalog products the seller already sells (the silver headphones and the size-43
trail shoes), which the duplicate check flags for a reviewer to judge. They are validated on
the spot, so the queue is filled when ``bazaar demo`` returns.
"""

from __future__ import annotations

from bazaar.bootstrap import Container
from bazaar.catalog.synthetic import gs1_check_digit
from bazaar.identity.model import Principal
from bazaar.kernel.money import Money
from bazaar.listings.normalise import ListingDraft

# (title, GTIN without its check digit, category, price in minor units)
DEMO_LISTINGS = (
    (
        "Noise-cancelling headphones, silver",
        "400638100082",
        "electronics/headphones/wireless-headphones",
        23_500,
    ),
    (
        "Trail running shoes, size 43",
        "400638100113",
        "shoes/trail-shoes/all-terrain-trail-shoes",
        12_900,
    ),
)


def load_demo_listings(container: Container, seller: Principal) -> int:
    """Submit and validate the demo listings of ``seller`` unless it has listings already;
    return how many were submitted."""
    if container.listings.list_listings(seller, limit=1).items:
        return 0
    currency = container.settings.currency
    for title, body, category, price in DEMO_LISTINGS:
        draft = ListingDraft(
            seller_id=seller.org_id or "",
            category_id=category,
            title=title,
            price=Money(price, currency),
            gtin=body + gs1_check_digit(body),
        )
        container.listings.submit(seller, draft)
    container.listing_workers.validation.drain()
    return len(DEMO_LISTINGS)
