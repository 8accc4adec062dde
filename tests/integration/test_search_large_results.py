"""Large result sets: sampled facets, relevance read tier by tier, and how stock is checked.

A search switches strategy past its read limits (``bazaar.search.filtered.ReadLimits``). Here the
limits are lowered so that a few dozen documents take every path, and each path is checked
against the same plain-Python oracle, on SQLite and PostgreSQL. Documents are loaded in one
batch, in product id order, so their doc ids (the index order that breaks relevance ties and
picks the facet sample) follow the product ids.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

import pytest

from bazaar.infra.db import Database, create_db_engine
from bazaar.search.filtered import ReadLimits
from bazaar.search.index import search_index_for
from bazaar.search.model import (
    FIELD_WEIGHTS,
    FacetValue,
    SearchDocument,
    SearchQuery,
    SearchResult,
    price_bucket,
    scale_count,
)
from bazaar.search.sql_index import SqlSearchIndex
from bazaar.search.text import tokenize
from tests.support.assertions import StatementCounter
from tests.support.factories import T0

WORDS = ["kettle", "teapot", "blender", "toaster", "mug"]
FACETS = frozenset({"brand", "price", "attr.color", "category", "seller"})


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(create_db_engine(db_url, pool_size=2))
    yield database
    database.dispose()


def index_with(db: Database, **limits: int) -> SqlSearchIndex:
    index = search_index_for(db.dialect)
    assert isinstance(index, SqlSearchIndex)
    return type(index)(ReadLimits(**limits))


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
        "image_url": None,
        "created_at": T0 + timedelta(minutes=n),
    }
    values.update(overrides)
    return SearchDocument(**values)


def corpus(seed: int, n: int) -> list[SearchDocument]:
    """Documents with the words of WORDS in every field, to rank in every way."""
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        fields = {f: [w for w in WORDS if rng.random() < 0.3] for f in ("t", "b", "a", "d")}
        docs.append(
            make_doc(
                i,
                title=" ".join(["Item", *fields["t"]]),
                brand_id=rng.choice(["brd_a", "brd_b", None]),
                brand_name=" ".join(["Brand", *fields["b"]]),
                attributes={
                    "color": (rng.choice(["red", "blue"]),),
                    "material": tuple(fields["a"]),
                },
                description=" ".join(fields["d"]),
                category_ids=rng.choice([("cat_home", "cat_kitchen"), ("cat_home", "cat_garden")]),
                seller_ids=tuple(rng.sample(["retailer", "sel_1"], rng.randint(0, 2))),
                price=rng.choice([None, 500, 1500, 3000, 12000]),
                in_stock=rng.random() < 0.7,
            )
        )
    return docs


def load(db: Database, docs: Sequence[SearchDocument]) -> None:
    with db.write() as conn:
        search_index_for(db.dialect).upsert(conn, docs)


def search(db: Database, index: SqlSearchIndex, query: SearchQuery) -> SearchResult:
    with db.read() as conn:
        return index.search(conn, query)


def ids(result: SearchResult) -> list[str]:
    return [hit.product_id for hit in result.hits]


# --- the oracle -------------------------------------------------------------------------------


def field_words(doc: SearchDocument) -> list[list[str]]:
    """The words of each field, in the order of model.FIELD_WEIGHTS."""
    attributes = " ".join(v for values in doc.attributes.values() for v in values)
    texts = {
        "title": doc.title,
        "brand": doc.brand_name or "",
        "attributes": attributes,
        "description": doc.description,
    }
    return [tokenize(texts[name]) for name, _ in FIELD_WEIGHTS]


def score(doc: SearchDocument, q: str) -> int | None:
    """The field-presence score of ``doc`` for ``q``, None when it does not match."""
    terms = list(dict.fromkeys(tokenize(q)))
    total = 0
    for i, term in enumerate(terms):
        prefix = i == len(terms) - 1 and len(term) >= 2

        def has(words: list[str], term: str = term, prefix: bool = prefix) -> bool:
            return any(w.startswith(term) if prefix else w == term for w in words)

        weights = [
            w for (_, w), words in zip(FIELD_WEIGHTS, field_words(doc), strict=True) if has(words)
        ]
        if not weights:
            return None
        total += max(weights)
    return total


def filtered(doc: SearchDocument, query: SearchQuery) -> bool:
    return all(
        [
            query.category_id is None or query.category_id in doc.category_ids,
            not query.brand_ids or doc.brand_id in query.brand_ids,
            query.in_stock is None or doc.in_stock == query.in_stock,
            query.price_min is None or (doc.price is not None and doc.price >= query.price_min),
            query.price_max is None or (doc.price is not None and doc.price <= query.price_max),
        ]
    )


def ranked(docs: Sequence[SearchDocument], query: SearchQuery) -> list[SearchDocument]:
    """The matches best first; equal scores in index (here: product id) order."""
    scored = [(score(d, query.q or ""), d) for d in docs if filtered(d, query)]
    hits = [(s, d) for s, d in scored if s is not None]
    return [d for s, d in sorted(hits, key=lambda sd: (-sd[0], sd[1].product_id))]


def facet_values(doc: SearchDocument, name: str, category_id: str | None) -> list[str]:
    if name == "brand":
        return [doc.brand_id] if doc.brand_id else []
    if name == "price":
        bucket = price_bucket(doc.price)
        return [bucket] if bucket else []
    if name == "seller":
        return list(doc.seller_ids)
    if name == "category":
        depth = 0 if category_id is None else doc.category_ids.index(category_id) + 1
        return list(doc.category_ids[depth : depth + 1])
    return list(doc.attributes.get(name.removeprefix("attr."), ()))


def sampled_facets(
    matching: Sequence[SearchDocument], query: SearchQuery, sample_size: int
) -> dict[str, list[FacetValue]]:
    """Counts over the ``sample_size`` latest matches, scaled to all of them."""
    sample = sorted(matching, key=lambda d: d.product_id)[-sample_size:]
    facets = {}
    for name in query.facets:
        counts = Counter(v for d in sample for v in facet_values(d, name, query.category_id))
        top = sorted(counts.items(), key=lambda vc: (-vc[1], vc[0]))[: query.facet_size]
        values = [FacetValue(v, scale_count(c, len(sample), len(matching))) for v, c in top]
        facets[name] = sorted(values, key=lambda f: (-f.count, f.value))
    return facets


# --- facets -----------------------------------------------------------------------------------

QUERIES = [
    SearchQuery(q="kettle", facets=FACETS),  # text, read by tiers past the scoring cap
    SearchQuery(q="kettle toaster", category_id="cat_home", facets=FACETS),  # text, scored
    SearchQuery(q="tea", in_stock=True, price_min=1000, facets=FACETS),  # prefix + row filters
    SearchQuery(in_stock=True, category_id="cat_home", facets=FACETS),  # filters only
]


@pytest.mark.parametrize("query", QUERIES, ids=["tiers", "scored", "checked", "filters"])
def test_facets_are_exact_up_to_the_sample_size_and_scaled_from_a_sample_past_it(
    db: Database, query: SearchQuery
) -> None:
    # given 80 documents
    docs = corpus(seed=11, n=80)
    load(db, docs)
    matching = [d for d in docs if filtered(d, query) and (not query.q or score(d, query.q))]
    assert len(matching) > 8
    for sample_size in (len(matching), 8):
        # when searching with facets counted over up to sample_size matches
        index = index_with(db, facet_sample=sample_size, scored_matches=5)
        result = search(db, index, query)
        # then the total is exact, and the facets are exact at most up to the sample size,
        # past it counted over the latest matches and scaled to the total
        assert result.total == len(matching)
        assert result.facets_approximate is (sample_size < len(matching))
        assert result.facets == sampled_facets(matching, query, sample_size)


# --- relevance --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        SearchQuery(q="kettle"),
        SearchQuery(q="tea"),  # a prefix
        SearchQuery(q="blender", in_stock=True),
        SearchQuery(q="mug", in_stock=False, category_id="cat_home"),
        SearchQuery(q="toaster", price_min=1000, price_max=5000),
        SearchQuery(q="kettle", brand_ids=("brd_a",), in_stock=True),
        SearchQuery(q="kettle mug"),
    ],
)
@pytest.mark.parametrize("scored_matches", [1000, 0], ids=["scored", "tiers"])
@pytest.mark.parametrize("row_checks", [1000, 1], ids=["rows", "tags"])
def test_relevance_pages_are_the_same_however_they_are_read(
    db: Database, query: SearchQuery, scored_matches: int, row_checks: int
) -> None:
    # given documents with the words in every field
    docs = corpus(seed=12, n=70)
    load(db, docs)
    index = index_with(db, scored_matches=scored_matches, row_checks=row_checks)
    expected = [d.product_id for d in ranked(docs, query)]
    assert len(expected) > 3
    # when paging through by relevance, three hits at a time
    seen: list[str] = []
    after = None
    for _ in range(100):
        page = search(db, index, SearchQuery(**{**query.__dict__, "limit": 3, "after": after}))
        assert page.total == len(expected)
        seen += ids(page)
        after = page.next_after
        if after is None:
            break
    # then every match comes once, best field first, equal scores in index order
    assert seen == expected


def test_a_prefix_of_many_words_or_of_a_few_finds_all_of_them(db: Database) -> None:
    # given twelve words starting with "kett" (more than a prefix is expanded to) and one
    # starting with "teap"
    words = [f"kett{chr(ord('a') + i)}" for i in range(12)]
    load(db, [make_doc(i, title=f"{w} teapot") for i, w in enumerate(words)])
    index = index_with(db, scored_matches=0)
    for q, found in (("kett", 12), ("kettc", 1), ("teap", 12), ("kettc teap", 1)):
        # when searching as you type, then every word with the prefix matches
        assert search(db, index, SearchQuery(q=q)).total == found, q


# --- the typo fallback ------------------------------------------------------------------------


def test_a_typo_is_corrected_into_a_large_result_set(db: Database) -> None:
    # given forty blenders and other things
    docs = [make_doc(i, title=f"Blender model {i}", price=500 * i) for i in range(40)]
    load(db, [*docs, make_doc(99, title="Toaster")])
    index = index_with(db, facet_sample=10, scored_matches=5)
    # when the word is misspelt
    result = search(db, index, SearchQuery(q="blendr", facets=frozenset({"price"})))
    # then the search runs again with the correction, its total exact, its facets sampled
    assert result.corrected_query == "blender"
    assert result.total == 40
    assert ids(result) == [d.product_id for d in docs[:24]]
    assert result.facets_approximate
    assert result.facets == sampled_facets(docs, SearchQuery(facets=frozenset({"price"})), 10)


# --- cost -------------------------------------------------------------------------------------


def test_statements_of_a_tiered_search_do_not_grow_with_the_page(db: Database) -> None:
    load(db, corpus(seed=13, n=60))
    index = index_with(db, scored_matches=0, facet_sample=5)
    counts = []
    for limit in (2, 50):
        query = SearchQuery(q="kettle", in_stock=True, facets=FACETS, limit=limit)
        with db.read() as conn, StatementCounter(db.engine) as counter:
            result = index.search(conn, query)
        assert len(result.hits) == min(limit, result.total)
        counts.append(counter.count)
    # a prefix lookup (SQLite), the scoring read that stops at its cap, the tiered read
    assert counts[0] == counts[1] <= 3


# --- ranges over many matches -----------------------------------------------------------------


def test_a_range_over_many_matches_is_checked_on_the_latest_and_its_total_estimated(
    db: Database,
) -> None:
    # given 40 kettles: the first 30 at 10.00, the last 10 alternately at 10.00 and 30.00
    docs = [
        make_doc(i, title=f"Kettle {i}", price=1000 if i < 30 or i % 2 == 0 else 3000)
        for i in range(40)
    ]
    load(db, docs)
    query = SearchQuery(q="kettle", price_max=2000, facets=frozenset({"price"}), limit=12)
    expected = [d.product_id for d in ranked(docs, query)]
    assert len(expected) == 35

    # when a relevance search checks the range on the 10 latest matches only
    result = search(db, index_with(db, scored_matches=0, range_checks=10), query)

    # then the hits are exact; on SQLite (which reads by tiers) the total is the 40 matches
    # scaled by the 5 of 10 that passed, and says it is an estimate; PostgreSQL counts all
    assert ids(result) == expected[:12]
    if db.dialect == "sqlite":
        assert (result.total, result.total_approximate, result.facets_approximate) == (
            20,
            True,
            True,
        )
        assert result.facets == {"price": [FacetValue("1000-2500", 20)]}
    else:
        assert (result.total, result.total_approximate) == (35, False)

    # when the checks cover every match, then the total is exact
    exact = search(db, index_with(db, scored_matches=0, range_checks=40), query)
    assert (exact.total, exact.total_approximate) == (35, False)
    assert ids(exact) == expected[:12]
