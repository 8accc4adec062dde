"""The facet counters a batch of documents adds, counted a scope at a time."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bazaar.search.facet_counts import add_contributions
from bazaar.search.model import SearchDocument, document_contributions

_ids = st.sampled_from(["a", "b", "c", "cat_1", "cat_2"])
_documents = st.builds(
    SearchDocument,
    product_id=st.sampled_from(["prd_1", "prd_2"]),
    title=st.just("t"),
    description=st.just(""),
    brand_id=st.none() | _ids,
    brand_name=st.none(),
    category_ids=st.lists(_ids, max_size=4).map(tuple),
    seller_ids=st.lists(_ids, max_size=3).map(tuple),
    price=st.none() | st.integers(0, 200_000),
    currency=st.just("EUR"),
    in_stock=st.booleans(),
    rating=st.none(),
    attributes=st.dictionaries(
        st.sampled_from(["size", "colour"]), st.lists(_ids, min_size=1, max_size=3).map(tuple)
    ),
    image_url=st.none(),
    created_at=st.just(datetime(2026, 1, 1, tzinfo=UTC)),
)


@given(st.lists(_documents, max_size=6), st.lists(_documents, max_size=2))
def test_counted_by_scope_as_each_document_contributes(
    docs: list[SearchDocument], earlier: list[SearchDocument]
) -> None:
    # given counters already holding what earlier documents added
    deltas = Counter[tuple[str, str, str]]()
    add_contributions(deltas, earlier)
    # when a batch is added
    add_contributions(deltas, docs)
    # then the counters are those of every document's contributions, one by one
    expected = Counter[tuple[str, str, str]]()
    for doc in [*earlier, *docs]:
        expected.update(document_contributions(doc))
    assert deltas == expected
