"""Guest prices in the search index stay right while offers and sales change at once.

Writers changing offers' own prices race staff adding and deleting sale prices (each change
syncing the index's guest price marks). However the transactions interleave, every search
document must end up with the from price a guest sees: no document may keep the marks a
concurrent sync was replacing (on PostgreSQL the marks lock serialises the two; SQLite has
one writer at a time). Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import random
from pathlib import Path

import sqlalchemy as sa

from bazaar.catalog.drafts import OfferPatch
from bazaar.catalog.indexing import guest_priced
from bazaar.catalog.model import from_price
from bazaar.identity.model import Role
from bazaar.kernel.money import Money
from bazaar.pricing.schemas.price_lists import SalePriceIn
from bazaar.pricing.shelf_table import shelf_table
from bazaar.search.store import search_documents
from tests.support.concurrency import race, racing_container
from tests.support.factories import make_account, make_product

PRODUCTS = 6
ROUNDS = 8


def test_documents_keep_guest_prices_while_offers_and_sales_change_together(
    db_url: str, tmp_path: Path
) -> None:
    container = racing_container(db_url, tmp_path)
    try:
        operator = make_account(container, Role.OPERATOR)
        products = [
            make_product(container, operator, price=Money(1000 + 100 * i, "EUR"))
            for i in range(PRODUCTS)
        ]
        offer_ids = [
            container.catalog.product_view(p.id, staff=True).offers[0].id for p in products
        ]
        admin, catalog = container.pricing_admin, container.catalog

        def work(worker: int) -> None:
            rng = random.Random(worker)
            sales: list[str] = []
            for _ in range(ROUNDS):
                offer_id = rng.choice(offer_ids)
                if worker % 2 == 0:  # an offer's own price moves
                    price = Money(rng.randint(300, 3000), "EUR")
                    catalog.update_offer(operator.principal, offer_id, OfferPatch(price=price))
                elif sales and rng.random() < 0.4:  # staff end a sale
                    admin.delete_rule(operator.principal, "sale_price", sales.pop())
                else:  # staff start one
                    body = SalePriceIn.model_validate(
                        {
                            "offer_id": offer_id,
                            "price": {"amount": rng.randint(200, 2500), "currency": "EUR"},
                        }
                    )
                    sales.append(admin.create_rule(operator.principal, "sale_price", body).id)

        race(4, work)

        # Then each document's price is the guest from price of the product's offers now
        rules = container.pricing_rules.get()
        table = shelf_table(
            rules.price_book,
            currency="EUR",
            channel_id="web",
            customer_group=None,
            now=container.clock.now(),
        )
        marks = table.marks()
        with container.db.read() as conn:
            query = sa.select(search_documents.c.product_id, search_documents.c.price)
            indexed = {row.product_id: row.price for row in conn.execute(query)}
        for product in products:
            offers = container.catalog.product_view(product.id, staff=True).offers
            expected, _ = from_price(guest_priced(offers, marks, "EUR"))
            assert expected is not None
            assert indexed[product.id] == expected.amount, product.id
    finally:
        container.close()
