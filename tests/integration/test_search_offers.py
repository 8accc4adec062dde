"""Search documents carry their product's active offers, read back only when asked for.

Runs on SQLite and PostgreSQL. The offers live in a plain column of ``search_documents``,
never in the full-text structure.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from bazaar.bootstrap import build
from bazaar.catalog.drafts import OfferDraft
from bazaar.catalog.model import VariantDraft
from bazaar.identity.model import Role
from bazaar.infra.db import Database, create_db_engine
from bazaar.kernel.money import Money
from bazaar.search.index import SearchIndex, search_index_for
from bazaar.search.model import SearchQuery
from bazaar.search.offers import IndexedOffer, decode_offers
from tests.integration.test_search_index import load, make_doc
from tests.support.factories import make_account, make_product, test_settings

FILL: dict[str, str] = importlib.import_module(
    "bazaar.migrations.versions.0021_search_offers"
)._FILL

OFFERS = (
    IndexedOffer("ofr_a", 1000, 250, "EUR", "retailer", True),
    IndexedOffer("ofr_b", 900, 0, "EUR", "sel_01jbzq3k8x4m2n5p7r9t1v3w5y", False),
)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(create_db_engine(db_url, pool_size=2))
    yield database
    database.dispose()


@pytest.fixture
def index(db: Database) -> SearchIndex:
    return search_index_for(db.dialect)


def test_hits_carry_their_offers_when_asked_on_browse_and_text_search(
    db: Database, index: SearchIndex
) -> None:
    # Given a document with two offers and one without any
    load(db, index, [replace(make_doc(1), offers=OFFERS), make_doc(2)])

    # When browsing and searching by text, with and without offers
    with db.read() as conn:
        browse = index.search(conn, SearchQuery(with_offers=True))
        text = index.search(conn, SearchQuery(q=make_doc(1).title, with_offers=True))
        plain = index.search(conn, SearchQuery())

    # Then the offers come back as written, only when asked for
    assert {h.product_id: h.offers for h in browse.hits} == {
        make_doc(1).product_id: OFFERS,
        make_doc(2).product_id: (),
    }
    assert text.hits[0].offers == OFFERS
    assert all(h.offers == () for h in plain.hits)


def test_reindexing_replaces_the_offers(db: Database, index: SearchIndex) -> None:
    # Given a document with two offers
    load(db, index, [replace(make_doc(1), offers=OFFERS)])

    # When it is indexed again with one, now out of stock
    changed = OFFERS[0]._replace(price=1200, in_stock=False)
    load(db, index, [replace(make_doc(1), offers=(changed,))])

    # Then the hit carries only that one
    with db.read() as conn:
        [hit] = index.search(conn, SearchQuery(with_offers=True)).hits
    assert hit.offers == (changed,)


def test_the_migration_fills_existing_documents_as_the_catalog_writes_them(
    db_url: str, tmp_path: Path
) -> None:
    # Given a product with two offers, one out of stock, indexed by the catalog
    container = build(test_settings(db_url, tmp_path))
    try:
        staff = make_account(container, Role.OPERATOR)
        variants = [VariantDraft("FILL-1", {"size": "S"}), VariantDraft("FILL-2", {"size": "M"})]
        offers = [
            OfferDraft("FILL-1", Money(1200, "EUR"), stock=3),
            OfferDraft("FILL-2", Money(900, "EUR"), stock=0),
        ]
        product = make_product(container, staff, variants=variants, offers=offers)
        query = sa.text("SELECT offers FROM search_documents WHERE product_id = :p")
        with container.db.read() as conn:
            written: str = conn.execute(query, {"p": product.id}).scalar_one()

        # When the column is emptied and filled the way migration 0021 fills it
        with container.db.write() as conn:
            conn.execute(sa.text("UPDATE search_documents SET offers = NULL"))
            conn.execute(sa.text(FILL[container.db.dialect]))
            filled: str = conn.execute(query, {"p": product.id}).scalar_one()
    finally:
        container.close()

    # Then it holds the same offers the catalog wrote
    assert decode_offers([filled]) == decode_offers([written])
    assert sorted(o.in_stock for o in decode_offers([written])[0]) == [False, True]
