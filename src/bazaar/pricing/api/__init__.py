"""Staff routes of pricing: price lists, sale prices, promotions, coupons, customer groups,
experiments and price simulation, one module per resource.

Operators change; operators and reviewers read. Everyone else gets 403 (401 without
credentials). Every answer is ``no-store`` (the edge's default).
"""

from __future__ import annotations

from fastapi import APIRouter

from bazaar.pricing.api import (
    coupons,
    customer_groups,
    experiments,
    price_lists,
    promotions,
    simulation,
)

router = APIRouter(prefix="/api/v1", tags=["pricing"])
for resource in (price_lists, promotions, coupons, customer_groups, experiments, simulation):
    router.include_router(resource.router)
