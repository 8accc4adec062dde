"""Catalog events and the ids a batch of products is built with, without a database."""

from __future__ import annotations

import pytest

from bazaar.catalog.building import IdSupply
from bazaar.catalog.events import OfferLine, ProductCreated
from bazaar.kernel.events import Event
from bazaar.kernel.ids import is_valid_id
from bazaar.kernel.money import Money


@pytest.mark.parametrize(
    "offers",
    [
        (),
        (
            OfferLine("ofr_1", "var_1", "retailer", Money(1299, "EUR"), Money(0, "EUR"), 4),
            OfferLine("ofr_2", "var_2", "sel_9", Money(999, "EUR"), Money(495, "EUR"), 0),
        ),
    ],
)
@pytest.mark.parametrize("brand_id", [None, "brd_1"])
def test_product_created_payload_is_the_generic_one(
    offers: tuple[OfferLine, ...], brand_id: str | None
) -> None:
    # given a product created with and without a brand and offers
    event = ProductCreated(
        product_id="prd_1",
        title="Linen shirt",
        category_id="cat_1",
        brand_id=brand_id,
        status="active",
        skus=("SHIRT-S", "SHIRT-M"),
        offers=offers,
    )
    # then its hand-built payload is exactly what the field walk of every event gives
    assert event.payload() == Event.payload(event)
    assert list(event.payload()) == list(Event.payload(event))  # the same key order


def test_ids_of_a_batch_are_minted_together_and_in_order() -> None:
    # given a supply minted for two products, three variants and no offers
    supply = IdSupply({"prd": 2, "var": 3})
    # when more are taken than were minted
    products = supply.take("prd", 1) + supply.take("prd", 2)
    variants = supply.take("var", 3)
    offers = supply.take("ofr", 2)
    # then every id is new, valid for its prefix and later than the one taken before it
    for prefix, ids in (("prd", products), ("var", variants), ("ofr", offers)):
        assert all(is_valid_id(i, prefix) for i in ids)
        assert ids == sorted(ids)
    assert len(set(products + variants + offers)) == 8
