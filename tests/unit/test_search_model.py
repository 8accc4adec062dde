"""Search rules without a database: words, typos, price buckets, sort keys, counters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bazaar.kernel.errors import ValidationFailed
from bazaar.search.model import (
    FIELD_WEIGHTS,
    MAX_SCORE,
    NO_VALUE_KEY,
    SearchDocument,
    SearchQuery,
    SortKeys,
    SortOrder,
    check_after,
    check_query,
    document_contributions,
    effective_sort,
    field_tiers,
    is_browse,
    price_bucket,
    query_tags,
    relevance_key,
    relevance_position,
    scale_count,
)
from bazaar.search.text import (
    TextQuery,
    correct_term,
    edit_distance,
    index_text,
    max_typos,
    prefix_range,
    tokenize,
)


def test_words_are_lowercase_accent_free_and_split_on_anything_else() -> None:
    assert tokenize("Café CRÈME, t-shirt_v2 (100%)") == ["cafe", "creme", "t", "shirt", "v2", "100"]
    assert tokenize("\uff34\uff25\uff25 Straße ﬁne") == ["tee", "strasse", "fine"]  # full width
    assert index_text('  "Organic"   AND  tees*  ') == "organic and tees"


@given(st.text())
def test_words_never_carry_query_syntax(text: str) -> None:
    for word in tokenize(text):
        assert word
        assert not any(c in word for c in "\"'*:&|!()-^+ _")
        assert word == word.lower()


@pytest.mark.parametrize(
    ("q", "terms", "prefix_last"),
    [
        ("Organic tee", ("organic", "tee"), True),
        ("size m", ("size", "m"), False),  # a one-letter prefix would match half the shop
        ('"NEAR( -: AND', ("near", "and"), True),
        ("red red RED", ("red",), True),
        ("*", None, None),
        (None, None, None),
    ],
)
def test_text_query_parsing(q: str | None, terms: tuple[str, ...], prefix_last: bool) -> None:
    parsed = TextQuery.parse(q)
    if terms is None:
        assert parsed is None
    else:
        assert parsed == TextQuery(terms, prefix_last)


def test_text_query_keeps_at_most_eight_words() -> None:
    parsed = TextQuery.parse(" ".join(f"w{i}" for i in range(20)))
    assert parsed is not None
    assert len(parsed.terms) == 8


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("black", "black", 0),
        ("blak", "black", 1),
        ("tshrit", "tshirt", 1),  # an adjacent swap is one edit
        ("kitten", "sitting", 3),
        ("", "abc", 3),
        ("abc", "", 3),
    ],
)
def test_edit_distance(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b, limit=5) == distance
    assert edit_distance(a, b, limit=1) == min(distance, 2)


@given(st.text("abcd", max_size=7), st.text("abcd", max_size=7))
def test_edit_distance_is_symmetric_and_capped(a: str, b: str) -> None:
    full = edit_distance(a, b, limit=20)
    assert full == edit_distance(b, a, limit=20)
    assert edit_distance(a, b, limit=2) == min(full, 3)


def test_typo_budget_grows_with_the_word() -> None:
    assert [max_typos(w) for w in ("ab", "abc", "abcde", "abcdef")] == [0, 1, 1, 2]


@pytest.mark.parametrize(
    ("term", "vocabulary", "expected"),
    [
        ("tshrit", ["shirt", "tshirt", "tshirts"], "tshirt"),
        ("blak", ["black", "blank", "block"], "black"),  # ties: similar length, then a-z
        ("blak", ["bleak", "black"], "black"),
        ("kettel", ["kettle", "kennel"], "kettle"),
        ("xyz", ["abc"], None),
        ("ab", ["abc"], None),  # too short to guess
        ("teapoot", ["teapot", "teapot"], "teapot"),
    ],
)
def test_correction_picks_the_closest_word(
    term: str, vocabulary: list[str], expected: str | None
) -> None:
    assert correct_term(term, vocabulary) == expected


@pytest.mark.parametrize(
    ("price", "bucket"),
    [
        (None, None),
        (0, "0-1000"),
        (999, "0-1000"),
        (1000, "1000-2500"),
        (24999, "10000-25000"),
        (99999, "50000-100000"),
        (100000, "100000-"),
        (10**9, "100000-"),
    ],
)
def test_price_buckets(price: int | None, bucket: str | None) -> None:
    assert price_bucket(price) == bucket


T0 = datetime(2026, 1, 1, tzinfo=UTC)


def make_doc(**overrides: object) -> SearchDocument:
    values: dict[str, object] = {
        "product_id": "prd_1",
        "title": "Tee",
        "description": "",
        "brand_id": "brd_1",
        "brand_name": "Acme",
        "category_ids": ("cat_a", "cat_b"),
        "seller_ids": ("retailer", "sel_1", "retailer"),
        "price": 1500,
        "currency": "EUR",
        "in_stock": True,
        "rating": 45,
        "attributes": {"color": ("red", "blue")},
        "image_url": None,
        "created_at": T0,
    }
    values.update(overrides)
    return SearchDocument(**values)  # type: ignore[arg-type]


def test_sort_keys_are_ascending_with_missing_values_last() -> None:
    early, late = SortKeys.of(make_doc()), SortKeys.of(make_doc(created_at=T0.replace(year=2027)))
    assert late.newest < early.newest
    cheap, dear = SortKeys.of(make_doc(price=100)), SortKeys.of(make_doc(price=900))
    assert cheap.price_asc < dear.price_asc
    assert dear.price_desc < cheap.price_desc
    missing = SortKeys.of(make_doc(price=None, rating=None))
    assert missing.price_asc == missing.price_desc == missing.rating == NO_VALUE_KEY
    assert SortKeys.of(make_doc(rating=50)).rating < SortKeys.of(make_doc(rating=0)).rating


def test_a_document_counts_once_per_scope_and_value() -> None:
    counters = list(document_contributions(make_doc()))
    assert len(counters) == len(set(counters))
    assert {("", "", ""), ("cat_a", "", ""), ("cat_b", "", "")} <= set(counters)
    assert {("", "category", "cat_a"), ("cat_a", "category", "cat_b")} <= set(counters)
    assert not any(s == "cat_b" and f == "category" for s, f, _ in counters)  # a leaf
    assert [v for s, f, v in counters if s == "" and f == "seller"] == ["retailer", "sel_1"]
    assert ("cat_a", "price", "1000-2500") in counters
    assert {v for s, f, v in counters if s == "cat_a" and f == "attr.color"} == {"red", "blue"}


def test_browse_means_no_text_and_no_filter_but_the_category() -> None:
    assert is_browse(SearchQuery(category_id="cat_a", q=" - "))
    assert is_browse(SearchQuery(attributes={"color": ()}))
    assert not is_browse(SearchQuery(q="tee"))
    assert not is_browse(SearchQuery(in_stock=False))
    assert effective_sort(SearchQuery(), None) is SortOrder.NEWEST
    assert effective_sort(SearchQuery(), TextQuery(("tee",), True)) is SortOrder.RELEVANCE


def test_positions_and_facets_are_validated() -> None:
    assert check_after(None, SortOrder.NEWEST) is None
    assert check_after((-1.5, "prd_1"), SortOrder.RELEVANCE) == (-1.5, "prd_1")
    for after, sort in [
        ((1.5, "prd_1"), SortOrder.NEWEST),
        ((True, "prd_1"), SortOrder.PRICE_ASC),
        ((1, 2), SortOrder.PRICE_ASC),
        ((1,), SortOrder.PRICE_ASC),
    ]:
        with pytest.raises(ValidationFailed):
            check_after(after, sort)
    check_query(SearchQuery(facets=frozenset({"category", "brand", "seller", "price", "attr.x"})))
    for bad in (
        SearchQuery(facets=frozenset({"attr."})),
        SearchQuery(facets=frozenset({"colour"})),
        SearchQuery(limit=0),
        SearchQuery(facet_size=0),
    ):
        with pytest.raises(ValidationFailed):
            check_query(bad)


# --- relevance, sampling, prefixes -------------------------------------------------------------


@given(
    st.integers(min_value=1, max_value=MAX_SCORE),
    st.integers(min_value=1, max_value=2**31 - 1),
    st.integers(min_value=1, max_value=MAX_SCORE),
    st.integers(min_value=1, max_value=2**31 - 1),
)
def test_relevance_keys_order_by_score_then_index_order(
    score_a: int, doc_a: int, score_b: int, doc_b: int
) -> None:
    a, b = relevance_key(score_a, doc_a), relevance_key(score_b, doc_b)
    assert (a < b) == ((-score_a, doc_a) < (-score_b, doc_b))
    assert relevance_position(a) == (score_a, doc_a)
    assert a < 2**53  # exact as a JSON number


def test_field_tiers_go_from_the_best_field_down() -> None:
    tiers = field_tiers()
    assert [(score, field) for score, field, _ in tiers] == [(w, f) for f, w in FIELD_WEIGHTS]
    assert tiers[0][2] == ()
    assert tiers[-1][2] == ("title", "brand", "attributes")


@pytest.mark.parametrize(
    ("count", "sampled", "total", "scaled"),
    [
        (7, 10, 10, 7),  # everything was counted
        (7, 10, 5, 7),
        (3, 1000, 2500, 8),  # 7.5 rounds to even
        (1, 1000, 1001, 1),
        (0, 0, 50, 0),
        (1, 1000, 10**6, 1000),
        (1000, 1000, 1500, 1500),  # never above the total
    ],
)
def test_sampled_counts_scale_to_the_total(
    count: int, sampled: int, total: int, scaled: int
) -> None:
    assert scale_count(count, sampled, total) == scaled


def test_the_stock_tag_can_be_left_to_the_rows() -> None:
    query = SearchQuery(category_id="cat_a", in_stock=True)
    assert query_tags(query)[-1] == ("xi1",)
    assert query_tags(query, stock=False) == query_tags(query)[:-1]
    assert query_tags(SearchQuery(in_stock=False)) == [("xi0",)]


@pytest.mark.parametrize("prefix", ["tee", "a", "caf\u00e9", "\u6771\u4eac"])
def test_a_prefix_range_holds_exactly_the_words_starting_with_it(prefix: str) -> None:
    start, end = prefix_range(prefix)
    for word in (prefix, prefix + "a", prefix + "\U0010fffe"):
        assert start <= word < end
    assert not start <= prefix[:-1] < end


def test_prefix_words_are_kept_with_the_query() -> None:
    text = TextQuery(("organic", "tee"), prefix_last=True).with_prefix_words(["tee", "tees"])
    assert text.prefix_words == ("tee", "tees")
    assert text.with_terms(["organic", "teapot"]).prefix_words is None
