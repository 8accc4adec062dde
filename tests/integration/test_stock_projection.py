"""Inventory's available units projected onto the catalog's offers, on SQLite and PostgreSQL.

A stock change always reaches the offer and the cached product page (it shows the count); the
search index holds no counts, so it is rewritten only when an offer goes in or out of stock.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from bazaar.bootstrap import Container
from bazaar.inventory.allocation import AllocationLine
from bazaar.inventory.model import RETAILER
from bazaar.kernel.events import Actor
from bazaar.search.model import SearchQuery
from tests.support.assertions import StatementCounter
from tests.support.factories import T0, Account, make_product

TEST_ACTOR = Actor.system("test")


def hold(container: Container, order_id: str, sku: str, quantity: int) -> None:
    with container.uow(TEST_ACTOR) as uow:
        container.inventory.reserve(
            uow,
            order_id,
            [AllocationLine(f"line-{order_id}", sku, quantity, RETAILER)],
            destination_country="NL",
            now=T0,
        )
        uow.commit()


def settle(container: Container) -> list[str]:
    """Run every due handler; return the statements that wrote the search index."""
    with StatementCounter(container.db.engine) as sql:
        container.dispatcher.drain()
    stats = container.outbox_stats()
    assert (stats.pending, stats.dead) == (0, 0), "a handler failed"
    return [s for s in sql.statements if "search_" in s.lower()]


def found(container: Container, product_id: str, *, in_stock: bool) -> bool:
    with container.db.read() as conn:
        result = container.search_index.search(conn, SearchQuery(in_stock=in_stock, limit=100))
    return product_id in {hit.product_id for hit in result.hits}


def page_stock(client: TestClient, product_id: str) -> int:
    response = client.get(f"/api/v1/products/{product_id}")
    assert response.status_code == 200
    [offer] = response.json()["offers"]
    stock: int = offer["stock"]
    return stock


def test_a_count_that_stays_in_stock_refreshes_the_page_but_writes_no_search_document(
    container: Container, client: TestClient, operator: Account
) -> None:
    # given a product with 7 in stock whose page is cached
    product = make_product(container, operator, sku="PROJ-1", stock=7)
    settle(container)
    assert page_stock(client, product.id) == 7

    # when a checkout holds 3 (4 left: still in stock)
    hold(container, "ord_1", "PROJ-1", 3)
    search_writes = settle(container)

    # then the page shows 4, the search index was not written and still lists it in stock
    assert search_writes == []
    assert page_stock(client, product.id) == 4
    assert found(container, product.id, in_stock=True)


def test_selling_out_and_restocking_reindex_the_product(
    container: Container, client: TestClient, operator: Account
) -> None:
    # given a product with 2 in stock
    product = make_product(container, operator, sku="PROJ-2", stock=2)
    settle(container)
    assert found(container, product.id, in_stock=True)

    # when a checkout holds both
    hold(container, "ord_2", "PROJ-2", 2)
    sold_out = settle(container)

    # then its document is rewritten: out of stock, and the page says 0
    assert sold_out != []
    assert found(container, product.id, in_stock=False)
    assert not found(container, product.id, in_stock=True)
    assert page_stock(client, product.id) == 0

    # when the hold is released
    with container.uow(TEST_ACTOR) as uow:
        container.inventory.release(uow, "ord_2", reason="payment_declined")
        uow.commit()
    restocked = settle(container)

    # then it is searchable as in stock again
    assert restocked != []
    assert found(container, product.id, in_stock=True)
    assert page_stock(client, product.id) == 2
