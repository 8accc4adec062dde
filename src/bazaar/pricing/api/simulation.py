"""The route pricing a cart as a given shopper would see it, without recording anything."""

from __future__ import annotations

from fastapi import APIRouter

from bazaar.http.deps import ContainerDep, Operator
from bazaar.pricing.results import SimulationOut
from bazaar.pricing.schemas.simulation import SimulationIn

router = APIRouter()


@router.post(
    "/pricing/simulate",
    response_model=SimulationOut,
    summary="Price lines as a given shopper would see them, with explanations (operator)",
)
def simulate(body: SimulationIn, who: Operator, c: ContainerDep) -> SimulationOut:
    found = c.pricing_admin.simulate(who, body)
    return SimulationOut.of(found.priced, found.unknown_coupons)
