"""Category members carry their document's sort keys: a category browse reads its page from
them, so they must follow every write of the document (runs on SQLite and PostgreSQL)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bazaar.infra.db import Database, create_db_engine
from bazaar.search.index import SearchIndex, search_index_for
from bazaar.search.model import SearchQuery, SortOrder
from tests.integration.test_search_index import ids, load, make_doc, pid

FILL: str = importlib.import_module("bazaar.migrations.versions.0022_category_sort_index").FILL
COPIED = ("product_id", "newest_key", "price_asc_key", "price_desc_key", "rating_key")


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(create_db_engine(db_url, pool_size=2))
    yield database
    database.dispose()


@pytest.fixture
def index(db: Database) -> SearchIndex:
    return search_index_for(db.dialect)


def browse(db: Database, index: SearchIndex, category: str | None, sort: SortOrder) -> list[str]:
    with db.read() as conn:
        return ids(index.search(conn, SearchQuery(category_id=category, sort=sort)))


def member_rows(db: Database) -> list[tuple[object, ...]]:
    columns = ", ".join(("doc_id", "category_id", *COPIED))
    with db.read() as conn:
        return [
            tuple(row)
            for row in conn.execute(
                sa.text(f"SELECT {columns} FROM search_doc_categories ORDER BY doc_id, category_id")
            )
        ]


def test_a_category_browse_follows_price_and_rating_changes(
    db: Database, index: SearchIndex
) -> None:
    # Given three products of a category, the first the cheapest and the best rated
    load(
        db,
        index,
        [make_doc(1, price=100, rating=50), make_doc(2, price=200, rating=40), make_doc(3)],
    )
    assert browse(db, index, "cat_home", SortOrder.PRICE_ASC)[0] == pid(1)

    # When the first becomes the dearest and loses its rating
    load(db, index, [make_doc(1, price=999_999, rating=None)])

    # Then every category of its chain sorts it by the new keys, as the whole catalogue does
    for category in ("cat_home", "cat_kitchen", None):
        assert browse(db, index, category, SortOrder.PRICE_DESC)[0] == pid(1)
        assert browse(db, index, category, SortOrder.PRICE_ASC) == [pid(2), pid(3), pid(1)]
        assert browse(db, index, category, SortOrder.RATING)[:2] == [pid(2), pid(3)]


def test_a_document_moved_to_another_category_leaves_the_old_one(
    db: Database, index: SearchIndex
) -> None:
    # Given a product of the kitchen
    load(db, index, [make_doc(1), make_doc(2)])

    # When it moves to the garden
    load(db, index, [make_doc(1, category_ids=("cat_home", "cat_garden"))])

    # Then each category browse, in every order, lists exactly its members
    for sort in SortOrder:
        assert browse(db, index, "cat_kitchen", sort) == [pid(2)]
        assert browse(db, index, "cat_garden", sort) == [pid(1)]
        assert sorted(browse(db, index, "cat_home", sort)) == [pid(1), pid(2)]


def test_the_migration_fills_the_keys_the_index_writes(db: Database, index: SearchIndex) -> None:
    # Given documents written by the index, with and without price and rating
    load(
        db,
        index,
        [make_doc(1, price=None, rating=None), make_doc(2, price=1234, rating=35), make_doc(3)],
    )
    written = member_rows(db)

    # When the copied columns are reset and filled the way migration 0022 fills them
    with db.write() as conn:
        conn.execute(
            sa.text(
                "UPDATE search_doc_categories SET product_id = '', newest_key = 0,"
                " price_asc_key = 0, price_desc_key = 0, rating_key = 0"
            )
        )
        conn.execute(sa.text(FILL))

    # Then every member row holds what the index wrote
    assert member_rows(db) == written
    assert {row[2] for row in written} == {pid(1), pid(2), pid(3)}


def test_paging_a_category_with_tied_keys_keeps_product_id_order(
    db: Database, index: SearchIndex
) -> None:
    # Given ten products at two prices, written in an order unrelated to their ids
    docs = [make_doc(n, price=500 if n % 2 else 700) for n in (7, 3, 11, 1, 9, 5, 12, 2, 8, 4)]
    load(db, index, docs)

    # When paging through the category by price, three at a time
    seen: list[str] = []
    after = None
    while True:
        with db.read() as conn:
            result = index.search(
                conn,
                SearchQuery(
                    category_id="cat_kitchen", sort=SortOrder.PRICE_ASC, limit=3, after=after
                ),
            )
        seen += ids(result)
        if result.next_after is None:
            break
        after = result.next_after

    # Then ties come in product id order, each product once
    cheap = sorted(pid(n) for n in (7, 3, 11, 1, 9, 5))
    dear = sorted(pid(n) for n in (12, 2, 8, 4))
    assert seen == cheap + dear
