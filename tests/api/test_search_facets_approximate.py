"""``facets_approximate`` in ``GET /api/v1/products``: facet counts from a sample, said so.

Past ``ReadLimits.facet_sample`` matches a filtered search counts its facets over a sample
and scales them to the total (``bazaar.search.filtered``). The sample is lowered here so a
handful of products takes that path, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from bazaar.bootstrap import Container
from bazaar.catalog.drafts import CategoryDraft, OfferDraft, ProductDraft
from bazaar.catalog.model import VariantDraft
from bazaar.kernel.money import Money
from bazaar.search.filtered import ReadLimits
from bazaar.search.sql_index import SqlSearchIndex
from tests.support.factories import Account

PRODUCTS = "/api/v1/products"


def create_kettles(container: Container, operator: Account, n: int) -> None:
    container.taxonomy.create_category(operator.principal, CategoryDraft("Kitchen", "kitchen"))
    container.catalog.create_products(
        operator.principal,
        [
            ProductDraft(
                title=f"Kettle {i}",
                category="kitchen",
                variants=[VariantDraft(sku=f"KET-{i}")],
                offers=[OfferDraft(f"KET-{i}", Money(1000 + i, "EUR"), stock=3)],
            )
            for i in range(n)
        ],
    )


def sample_facets_over(container: Container, matches: int) -> None:
    index = container.search_index
    assert isinstance(index, SqlSearchIndex)
    index.limits = ReadLimits(facet_sample=matches)


def test_a_search_past_the_facet_sample_says_its_facets_are_approximate(
    client: TestClient, container: Container, operator: Account
) -> None:
    # given five kettles, and facets counted over at most two matches
    create_kettles(container, operator, 5)
    sample_facets_over(container, 2)

    # when a search matches all five
    body = client.get(PRODUCTS, params={"q": "kettle", "facets": "price"}).json()

    # then the total is exact and the facet counts are flagged as estimated
    assert body["total"] == 5
    assert body["facets_approximate"] is True
    assert sum(v["count"] for v in body["facets"]["price"]) == 5


def test_facets_counted_over_every_match_are_exact(
    client: TestClient, container: Container, operator: Account
) -> None:
    # given five kettles and the default sample
    create_kettles(container, operator, 5)

    # when searching, and when browsing the category (precomputed counts)
    search = client.get(PRODUCTS, params={"q": "kettle"}).json()
    browse = client.get(PRODUCTS, params={"category": "kitchen"}).json()

    # then neither says approximate
    assert (search["total"], search["facets_approximate"]) == (5, False)
    assert (browse["total"], browse["facets_approximate"]) == (5, False)


def test_a_category_browse_is_exact_whatever_the_sample(
    client: TestClient, container: Container, operator: Account
) -> None:
    # given five kettles and a sample of two
    create_kettles(container, operator, 5)
    sample_facets_over(container, 2)

    # when browsing the category without other filters
    body = client.get(PRODUCTS, params={"category": "kitchen"}).json()

    # then the precomputed counts are exact
    assert body["facets_approximate"] is False
    assert sum(v["count"] for v in body["facets"]["price"]) == 5
