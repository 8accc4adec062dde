"""The search index behaves the same on SQLite (FTS5) and PostgreSQL (tsvector).

Filters, facets and sorts are checked against a plain-Python oracle over the same documents,
on both read paths (precomputed browse counts and live counting over the filtered set).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bazaar.infra.db import Database, create_db_engine
from bazaar.kernel.errors import ValidationFailed
from bazaar.search.index import SearchIndex, search_index_for
from bazaar.search.model import (
    FacetValue,
    SearchDocument,
    SearchQuery,
    SearchResult,
    SortKeys,
    SortOrder,
    price_bucket,
)
from bazaar.search.text import tokenize
from tests.support.assertions import StatementCounter
from tests.support.factories import T0

HOSTILE = ['"', "AND", "*", "NEAR(", "-", ":", "'", "&|!", 'a" OR "b', "tee*)", "(:*)", "\\", "%_"]


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(create_db_engine(db_url, pool_size=2))
    yield database
    database.dispose()


@pytest.fixture
def index(db: Database) -> SearchIndex:
    return search_index_for(db.dialect)


def make_doc(n: int, **overrides: Any) -> SearchDocument:
    values: dict[str, Any] = {
        "product_id": f"prd_{n:026d}",
        "title": f"Plain item {n}",
        "description": "",
        "brand_id": "brd_a",
        "brand_name": "Acme",
        "category_ids": ("cat_home", "cat_kitchen"),
        "seller_ids": ("retailer",),
        "price": 1500,
        "currency": "EUR",
        "in_stock": True,
        "rating": 40,
        "attributes": {},
        "image_url": f"https://img.example.com/{n}.webp",
        "created_at": T0 + timedelta(minutes=n),
    }
    values.update(overrides)
    return SearchDocument(**values)


def load(db: Database, index: SearchIndex, docs: Sequence[SearchDocument]) -> None:
    with db.write() as conn:
        index.upsert(conn, docs)


def search(db: Database, index: SearchIndex, **kwargs: Any) -> SearchResult:
    with db.read() as conn:
        return index.search(conn, SearchQuery(**kwargs))


def ids(result: SearchResult) -> list[str]:
    return [hit.product_id for hit in result.hits]


def pid(n: int) -> str:
    return f"prd_{n:026d}"


# --- an oracle for filters, facets and sorts --------------------------------------------------

CATEGORY_PATHS = [
    ("cat_home",),
    ("cat_home", "cat_kitchen"),
    ("cat_home", "cat_kitchen", "cat_knives"),
    ("cat_home", "cat_garden"),
    ("cat_fashion", "cat_shoes"),
    ("cat_fashion", "cat_shirts"),
]


def random_corpus(seed: int, n: int) -> list[SearchDocument]:
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        attributes: dict[str, tuple[str, ...]] = {"color": (rng.choice(["red", "blue", "black"]),)}
        if rng.random() < 0.5:
            attributes["size"] = tuple(rng.sample(["s", "m", "l"], rng.randint(1, 2)))
        docs.append(
            make_doc(
                i,
                category_ids=rng.choice(CATEGORY_PATHS),
                brand_id=rng.choice(["brd_a", "brd_b", "brd_c", None]),
                seller_ids=tuple(rng.sample(["retailer", "sel_1", "sel_2"], rng.randint(0, 2))),
                price=rng.choice([None, 500, 1000, 2499, 2500, 9999, 100000, 250000]),
                in_stock=rng.random() < 0.7,
                rating=rng.choice([None, 0, 25, 45, 50]),
                attributes=attributes,
                # equal timestamps and prices make ties that only product_id breaks
                created_at=T0 + timedelta(minutes=rng.randint(0, 5)),
            )
        )
    return docs


def matches(doc: SearchDocument, q: SearchQuery) -> bool:
    checks = [
        q.category_id is None or q.category_id in doc.category_ids,
        not q.brand_ids or doc.brand_id in q.brand_ids,
        not q.seller_ids or bool(set(doc.seller_ids) & set(q.seller_ids)),
        q.price_min is None or (doc.price is not None and doc.price >= q.price_min),
        q.price_max is None or (doc.price is not None and doc.price <= q.price_max),
        q.in_stock is None or doc.in_stock == q.in_stock,
        q.rating_min is None or (doc.rating is not None and doc.rating >= q.rating_min),
    ]
    for name, values in q.attributes.items():
        checks.append(not values or bool(set(doc.attributes.get(name, ())) & set(values)))
    return all(checks)


def expected_facets(docs: Sequence[SearchDocument], q: SearchQuery) -> dict[str, list[FacetValue]]:
    counts: dict[str, Counter[str]] = {name: Counter() for name in q.facets}
    for doc in docs:
        values: dict[str, list[str | None]] = {
            "brand": [doc.brand_id],
            "seller": list(doc.seller_ids),
            "price": [price_bucket(doc.price)],
            "category": [_child_below(doc.category_ids, q.category_id)],
        }
        for name, attribute_values in doc.attributes.items():
            values[f"attr.{name}"] = list(attribute_values)
        for facet in q.facets:
            counts[facet].update(v for v in values.get(facet, []) if v is not None)
    return {
        facet: sorted((FacetValue(v, n) for v, n in c.items()), key=lambda f: (-f.count, f.value))[
            : q.facet_size
        ]
        for facet, c in counts.items()
    }


def _child_below(path: tuple[str, ...], category_id: str | None) -> str | None:
    depth = 0 if category_id is None else path.index(category_id) + 1
    return path[depth] if depth < len(path) else None


def sort_key(doc: SearchDocument, sort: SortOrder) -> tuple[int, str]:
    keys = SortKeys.of(doc)
    column = {
        SortOrder.RELEVANCE: keys.newest,
        SortOrder.NEWEST: keys.newest,
        SortOrder.PRICE_ASC: keys.price_asc,
        SortOrder.PRICE_DESC: keys.price_desc,
        SortOrder.RATING: keys.rating,
    }[sort]
    return column, doc.product_id


def page_through(db: Database, index: SearchIndex, query: SearchQuery) -> list[str]:
    seen: list[str] = []
    after = None
    for _ in range(200):
        result = search(db, index, **{**query.__dict__, "after": after})
        seen += ids(result)
        json.dumps(result.next_after)  # a position is plain JSON
        after = result.next_after
        if after is None:
            return seen
    raise AssertionError("paging did not end")


ALL_FACETS = frozenset({"category", "brand", "seller", "price", "attr.color", "attr.size"})


def random_query(rng: random.Random, *, browse: bool) -> SearchQuery:
    category = rng.choice([None, "cat_home", "cat_kitchen", "cat_fashion", "cat_knives"])
    if browse:
        return SearchQuery(category_id=category, facets=ALL_FACETS, facet_size=rng.choice([2, 20]))
    options: dict[str, Any] = {
        "brand_ids": tuple(rng.sample(["brd_a", "brd_b", "brd_c"], rng.randint(0, 2))),
        "seller_ids": tuple(rng.sample(["retailer", "sel_1", "sel_2"], rng.randint(0, 1))),
        "price_min": rng.choice([None, 1000, 2500]),
        "price_max": rng.choice([None, 9999, 100000]),
        "in_stock": rng.choice([None, True, False]),
        "rating_min": rng.choice([None, 25, 50]),
        "attributes": rng.choice([{}, {"color": ("red", "blue")}, {"size": ("m",), "color": ()}]),
    }
    chosen = dict(rng.sample(sorted(options.items()), rng.randint(1, 3)))
    if not any(chosen.values()):
        chosen["in_stock"] = True  # at least one filter beyond the category
    return SearchQuery(category_id=category, facets=ALL_FACETS, **chosen)


@pytest.mark.parametrize("path", ["precomputed", "live", "text"])
def test_filters_totals_and_facets_agree_with_an_oracle(
    db: Database, index: SearchIndex, path: str
) -> None:
    # given 120 varied documents, all with the word "item" in the title
    docs = random_corpus(seed=1, n=120)
    load(db, index, docs)
    rng = random.Random(2)
    for _ in range(25):
        query = random_query(rng, browse=path == "precomputed")
        if path == "text":  # equality filters then run inside the full-text engine
            query = replace(query, q="ITEM", sort=SortOrder.NEWEST)
        # when searching
        result = search(db, index, **query.__dict__)
        # then the total, the first page and every facet are those of the matching documents
        matching = sorted(
            (d for d in docs if matches(d, query)), key=lambda d: sort_key(d, query.sort)
        )
        assert result.total == len(matching), query
        assert ids(result) == [d.product_id for d in matching[: query.limit]], query
        assert result.facets == expected_facets(matching, query), query


@pytest.mark.parametrize("sort", list(SortOrder))
@pytest.mark.parametrize("browse", [True, False], ids=["precomputed", "live"])
def test_paging_returns_every_match_once_in_sort_order(
    db: Database, index: SearchIndex, sort: SortOrder, browse: bool
) -> None:
    # given documents with many ties on every sort key, some without price or rating
    docs = random_corpus(seed=3, n=60)
    load(db, index, docs)
    for category in (None, "cat_home", "cat_knives"):
        query = SearchQuery(
            category_id=category, sort=sort, limit=7, in_stock=None if browse else True
        )
        # when paging through with next_after
        seen = page_through(db, index, query)
        # then every match comes exactly once, in the total order of the sort
        matching = sorted((d for d in docs if matches(d, query)), key=lambda d: sort_key(d, sort))
        assert seen == [d.product_id for d in matching]


def test_prices_and_ratings_that_are_missing_sort_last(db: Database, index: SearchIndex) -> None:
    load(
        db,
        index,
        [
            make_doc(1, price=None, rating=None),
            make_doc(2, price=500, rating=10),
            make_doc(3, price=900, rating=50),
        ],
    )
    assert ids(search(db, index, sort=SortOrder.PRICE_ASC)) == [pid(2), pid(3), pid(1)]
    assert ids(search(db, index, sort=SortOrder.PRICE_DESC)) == [pid(3), pid(2), pid(1)]
    assert ids(search(db, index, sort=SortOrder.RATING)) == [pid(3), pid(2), pid(1)]
    assert ids(search(db, index, sort=SortOrder.NEWEST)) == [pid(3), pid(2), pid(1)]


def test_category_filter_includes_descendants_and_facet_counts_children(
    db: Database, index: SearchIndex
) -> None:
    # given documents at three depths under "home" and one elsewhere
    load(
        db,
        index,
        [
            make_doc(1, category_ids=("cat_home",)),
            make_doc(2, category_ids=("cat_home", "cat_kitchen")),
            make_doc(3, category_ids=("cat_home", "cat_kitchen", "cat_knives")),
            make_doc(4, category_ids=("cat_home", "cat_garden")),
            make_doc(5, category_ids=("cat_fashion",)),
        ],
    )
    for extra in ({}, {"in_stock": True}):  # precomputed and live counting
        # when filtering by "home"
        home = search(db, index, category_id="cat_home", facets=frozenset({"category"}), **extra)
        # then its whole subtree matches and the facet counts each child's subtree
        assert sorted(ids(home)) == [pid(1), pid(2), pid(3), pid(4)]
        assert home.facets["category"] == [
            FacetValue("cat_kitchen", 2),
            FacetValue("cat_garden", 1),
        ]
        # and without a category filter the facet counts the roots
        everything = search(db, index, facets=frozenset({"category"}), **extra)
        assert everything.facets["category"] == [
            FacetValue("cat_home", 4),
            FacetValue("cat_fashion", 1),
        ]
        assert search(db, index, category_id="cat_knives", **extra).total == 1


def test_price_facet_uses_fixed_buckets_and_skips_documents_without_price(
    db: Database, index: SearchIndex
) -> None:
    prices = [0, 999, 1000, 2500, 99999, 100000, 5_000_000, None]
    load(db, index, [make_doc(i, price=p) for i, p in enumerate(prices)])
    for extra in ({}, {"in_stock": True}):
        result = search(db, index, facets=frozenset({"price"}), **extra)
        assert result.facets["price"] == [
            FacetValue("0-1000", 2),
            FacetValue("100000-", 2),
            FacetValue("1000-2500", 1),
            FacetValue("2500-5000", 1),
            FacetValue("50000-100000", 1),
        ]


# --- text -------------------------------------------------------------------------------------


@pytest.fixture
def shop(db: Database, index: SearchIndex) -> None:
    load(
        db,
        index,
        [
            make_doc(1, title="Organic cotton tees", description="Soft and breathable"),
            make_doc(2, title="Café au lait mug", brand_name="Crème Brûlée Co"),
            make_doc(3, title="Black TSHIRT", attributes={"material": ("linen",)}),
            make_doc(4, title="Garden hose", description="Works with organic fertiliser"),
            make_doc(5, title="Chef knife", brand_id="brd_b", brand_name="Sharpington"),
        ],
    )


@pytest.mark.usefixtures("shop")
def test_every_word_must_match_and_the_last_is_a_prefix(db: Database, index: SearchIndex) -> None:
    assert ids(search(db, index, q="tee")) == [pid(1)]
    assert set(ids(search(db, index, q="organ"))) == {pid(1), pid(4)}
    assert ids(search(db, index, q="organic cott")) == [pid(1)]
    assert ids(search(db, index, q="organic mug")) == []


@pytest.mark.usefixtures("shop")
def test_case_and_accents_do_not_matter(db: Database, index: SearchIndex) -> None:
    assert ids(search(db, index, q="cafe")) == [pid(2)]
    assert ids(search(db, index, q="CAFÉ AU LAIT")) == [pid(2)]
    assert ids(search(db, index, q="creme brulee")) == [pid(2)]  # brand name
    assert ids(search(db, index, q="tshirt")) == [pid(3)]
    assert ids(search(db, index, q="linen")) == [pid(3)]  # attribute value


@pytest.mark.usefixtures("shop")
def test_title_matches_rank_above_description_matches(db: Database, index: SearchIndex) -> None:
    result = search(db, index, q="organic")
    assert ids(result) == [pid(1), pid(4)]
    # and relevance pages like every other sort
    assert page_through(db, index, SearchQuery(q="organic", limit=1)) == [pid(1), pid(4)]


@pytest.mark.usefixtures("shop")
@pytest.mark.parametrize("q", HOSTILE)
def test_query_syntax_in_user_input_is_never_syntax(
    db: Database, index: SearchIndex, q: str
) -> None:
    # the input is cut into words; whatever is left of operators is ignored
    result = search(db, index, q=q, facets=frozenset({"brand"}))
    assert result.total == len(result.hits)
    hostile = search(db, index, q=f"{q} organic {q}")
    assert ids(hostile) == ids(search(db, index, q=" ".join(tokenize(f"{q} organic {q}"))))
    if not tokenize(q):
        assert hostile.total == 2


@pytest.mark.usefixtures("shop")
def test_punctuation_only_query_lists_everything(db: Database, index: SearchIndex) -> None:
    assert search(db, index, q=" -:'*! ").total == 5


@pytest.mark.usefixtures("shop")
@pytest.mark.parametrize(
    ("typed", "searched", "found"),
    [("tshrit", "tshirt", pid(3)), ("blak", "black", pid(3)), ("chef kniff", "chef knife", pid(5))],
)
def test_unknown_words_are_corrected_when_nothing_matches(
    db: Database, index: SearchIndex, typed: str, searched: str, found: str
) -> None:
    result = search(db, index, q=typed, facets=frozenset({"brand"}))
    assert ids(result) == [found]
    assert result.corrected_query == searched
    assert result.facets["brand"] == [FacetValue("brd_b" if found == pid(5) else "brd_a", 1)]


@pytest.mark.usefixtures("shop")
def test_known_words_are_not_corrected_even_when_filters_exclude_them(
    db: Database, index: SearchIndex
) -> None:
    result = search(db, index, q="black", in_stock=False)
    assert (result.total, result.corrected_query) == (0, None)
    assert search(db, index, q="zzzzzzzz").corrected_query is None


# --- writes -----------------------------------------------------------------------------------


def test_upsert_replaces_everything_about_a_document(db: Database, index: SearchIndex) -> None:
    # given a document with attributes, sellers and a category
    first = make_doc(
        1,
        title="Red kettle",
        attributes={"color": ("red",)},
        seller_ids=("sel_1",),
        category_ids=("cat_home", "cat_kitchen"),
    )
    load(db, index, [first, make_doc(2)])
    # when it is upserted again with other values
    load(
        db,
        index,
        [
            replace(
                first,
                title="Blue teapot",
                attributes={"color": ("blue",)},
                seller_ids=("sel_2",),
                category_ids=("cat_garden",),
                price=None,
            )
        ],
    )
    # then no trace of the old values is left, in the rows or in the counts
    facets = frozenset({"category", "seller", "attr.color", "price"})
    for extra in ({}, {"in_stock": True}):
        assert search(db, index, q="kettle", **extra).total == 0
        assert ids(search(db, index, q="teapot", **extra)) == [pid(1)]
        assert search(db, index, attributes={"color": ("red",)}).total == 0
        assert search(db, index, seller_ids=("sel_1",)).total == 0
        assert ids(search(db, index, category_id="cat_garden", **extra)) == [pid(1)]
        result = search(db, index, facets=facets, **extra)
        assert result.total == 2
        assert result.facets == {
            "category": [FacetValue("cat_garden", 1), FacetValue("cat_home", 1)],
            "seller": [FacetValue("retailer", 1), FacetValue("sel_2", 1)],
            "attr.color": [FacetValue("blue", 1)],
            "price": [FacetValue("1000-2500", 1)],
        }


def test_remove_deletes_the_document_everywhere(db: Database, index: SearchIndex) -> None:
    load(db, index, [make_doc(1, title="Red kettle", attributes={"color": ("red",)}), make_doc(2)])
    with db.write() as conn:
        index.remove(conn, [pid(1), "prd_unknown"])
    assert search(db, index, q="kettle").total == 0
    result = search(db, index, facets=frozenset({"attr.color", "brand"}))
    assert (result.total, ids(result)) == (1, [pid(2)])
    assert result.facets == {"attr.color": [], "brand": [FacetValue("brd_a", 1)]}
    with db.engine.connect() as conn:
        counters = conn.execute(sa.text("SELECT scope, facet, value FROM search_facet_counts"))
        assert ("", "attr.color", "red") not in {tuple(row) for row in counters}


def test_writes_belong_to_the_callers_transaction(db: Database, index: SearchIndex) -> None:
    with db.writer() as conn:
        transaction = conn.begin()
        index.upsert(conn, [make_doc(1, title="Phantom")])
        assert index.search(conn, SearchQuery(q="phantom")).total == 1
        transaction.rollback()
    assert search(db, index, q="phantom").total == 0
    assert search(db, index).total == 0


def test_repeated_product_ids_in_one_batch_keep_the_last(db: Database, index: SearchIndex) -> None:
    load(db, index, [make_doc(1, title="Old"), make_doc(1, title="New")])
    result = search(db, index)
    assert [h.title for h in result.hits] == ["New"]
    assert result.total == 1


# --- hits, cost and validation ----------------------------------------------------------------


def test_a_hit_carries_everything_a_listing_card_shows(db: Database, index: SearchIndex) -> None:
    doc = make_doc(1, title="Chef knife", category_ids=("cat_home", "cat_knives"), rating=None)
    load(db, index, [doc])
    for extra in ({}, {"q": "knife"}):
        [hit] = search(db, index, **extra).hits
        assert hit.product_id == doc.product_id
        assert (hit.title, hit.brand_id, hit.brand_name) == ("Chef knife", "brd_a", "Acme")
        assert (hit.category_id, hit.price, hit.currency) == ("cat_knives", 1500, "EUR")
        assert (hit.in_stock, hit.rating, hit.image_url) == (True, None, doc.image_url)
        assert hit.created_at == doc.created_at


@pytest.mark.parametrize(
    "query",
    [
        {"facets": ALL_FACETS},
        {"category_id": "cat_home", "facets": ALL_FACETS, "sort": SortOrder.PRICE_ASC},
        {"in_stock": True, "brand_ids": ("brd_a",), "facets": ALL_FACETS},
        {"q": "item", "category_id": "cat_home", "facets": ALL_FACETS},
    ],
    ids=["browse", "category-browse", "filtered", "text"],
)
def test_statements_per_search_do_not_grow_with_the_page(
    db: Database, index: SearchIndex, query: dict[str, Any]
) -> None:
    load(db, index, random_corpus(seed=5, n=80))
    counts = []
    for limit in (2, 60):
        with db.read() as conn, StatementCounter(db.engine) as counter:
            result = index.search(conn, SearchQuery(limit=limit, **query))
        assert len(result.hits) == min(limit, result.total)
        counts.append(counter.count)
    assert counts[0] == counts[1] <= 2


def test_malformed_positions_and_facets_are_rejected(db: Database, index: SearchIndex) -> None:
    for bad in ({"after": ("x", "prd_1")}, {"after": (1,)}, {"facets": frozenset({"colour"})}):
        with pytest.raises(ValidationFailed):
            search(db, index, **bad)
