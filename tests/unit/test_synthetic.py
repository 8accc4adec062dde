"""The synthetic catalog generator and the hand-written demo data: pure, no database."""

from __future__ import annotations

from collections import Counter

import pytest

from bazaar.catalog.attributes import (
    AttributeType,
    check_definitions,
    merge_definitions,
    validate_attributes,
)
from bazaar.catalog.drafts import CategoryDraft, ProductDraft
from bazaar.catalog.model import RETAILER, check_variant, gtin_is_valid
from bazaar.catalog.seeding import category_path
from bazaar.catalog.synthetic import SyntheticCatalog, gs1_check_digit
from bazaar.demo import DEMO_BRANDS, DEMO_CATEGORIES, DEMO_FULFILLERS, demo_products
from bazaar.kernel.ids import is_valid_id


@pytest.fixture(scope="module")
def synthetic() -> SyntheticCatalog:
    return SyntheticCatalog(seed=7)


@pytest.fixture(scope="module")
def sample(synthetic: SyntheticCatalog) -> list[ProductDraft]:
    return list(synthetic.products(0, 2000))


def declarations(drafts: tuple[CategoryDraft, ...] | list[CategoryDraft], path: str) -> dict:
    by_path = {category_path(d): d for d in drafts}
    chain = []
    while path:
        chain.insert(0, by_path[path].attributes)
        path = path.rpartition("/")[0]
    return merge_definitions(chain)


def test_the_same_seed_gives_the_same_products_whatever_the_batches() -> None:
    # given two generators with the same seed
    a, b = SyntheticCatalog(seed=3), SyntheticCatalog(seed=3)

    # then product i is the same whether made alone or in a batch, by either
    assert list(a.products(10, 20)) == [b.product(i) for i in range(10, 20)]
    assert a.product(123_456) == b.product(123_456)


def test_another_seed_gives_other_products_in_the_same_world() -> None:
    a, b = SyntheticCatalog(seed=1), SyntheticCatalog(seed=2)

    assert a.product(0) != b.product(0)
    assert a.categories == b.categories
    assert a.brands == b.brands
    assert a.fulfillers == b.fulfillers
    assert a.product(0).variants[0].sku != b.product(0).variants[0].sku


def test_the_check_digit_is_the_gs1_one() -> None:
    assert gs1_check_digit("400638133393") == "1"  # 4006381333931, a real EAN-13
    assert gs1_check_digit("03600029145") == "2"  # 036000291452, a real UPC-A


def test_gtins_are_valid_and_unique(sample: list[ProductDraft]) -> None:
    gtins = [v.gtin for p in sample for v in p.variants]

    assert all(g is not None and len(g) == 13 and gtin_is_valid(g) for g in gtins)
    assert len(set(gtins)) == len(gtins)
    assert all(p.gtin is None or gtin_is_valid(p.gtin) for p in sample)


def test_skus_are_unique_and_valid(sample: list[ProductDraft]) -> None:
    skus = [v.sku for p in sample for v in p.variants]

    assert len(set(skus)) == len(skus)
    assert all(check_variant(v, "v") == [] for p in sample for v in p.variants)


def test_the_tree_has_three_levels_and_leaves_declare_typed_attributes(
    synthetic: SyntheticCatalog,
) -> None:
    paths = [category_path(d) for d in synthetic.categories]
    depth = Counter(p.count("/") for p in paths)
    assert depth[0] == 10
    assert 8 * 10 <= depth[1] <= 10 * 10
    assert 8 * depth[1] <= depth[2] <= 10 * depth[1]
    assert len(set(paths)) == len(paths)
    # parents come before their children
    seen: set[str] = set()
    for d in synthetic.categories:
        assert d.parent is None or d.parent in seen
        seen.add(category_path(d))

    leaves = [d for d in synthetic.categories if category_path(d).count("/") == 2]
    assert all(check_definitions(d.attributes) == [] for d in synthetic.categories)
    assert all(not d.attributes for d in synthetic.categories if d not in leaves)
    kinds = Counter(a.type for d in leaves for a in d.attributes)
    assert set(kinds) == {AttributeType.ENUM, AttributeType.NUMBER, AttributeType.BOOLEAN}
    names = {a.name for d in leaves for a in d.attributes}
    assert {"colour", "size", "material", "weight", "capacity", "waterproof"} <= names
    assert any(a.required for d in leaves for a in d.attributes)
    assert all(a.unit for d in leaves for a in d.attributes if a.type is AttributeType.NUMBER)


def test_brands_and_sellers(synthetic: SyntheticCatalog) -> None:
    assert len(synthetic.brands) == 2000
    assert len({b.slug for b in synthetic.brands}) == 2000
    sellers = [f for f in synthetic.fulfillers if f.id != RETAILER]
    assert len(sellers) == 20
    assert all(is_valid_id(f.id, "sel") for f in sellers)
    assert synthetic.fulfillers[0].id == RETAILER


def test_attribute_values_are_within_the_declarations(
    synthetic: SyntheticCatalog, sample: list[ProductDraft]
) -> None:
    for product in sample:
        defs = declarations(synthetic.categories, product.category)
        _, errors = validate_attributes(defs, product.attributes)
        assert errors == [], (product.title, errors)
        for variant in product.variants:
            for name, value in variant.options.items():
                assert defs[name].type is AttributeType.ENUM
                assert value in defs[name].values


def test_offers_name_known_variants_and_fulfillers(
    synthetic: SyntheticCatalog, sample: list[ProductDraft]
) -> None:
    fulfillers = {f.id for f in synthetic.fulfillers}
    brands = {b.slug for b in synthetic.brands}
    for product in sample:
        skus = {v.sku for v in product.variants}
        pairs = [(o.variant, o.fulfiller_id) for o in product.offers]
        assert len(set(pairs)) == len(pairs)
        assert {o.variant for o in product.offers} == skus
        assert {o.fulfiller_id for o in product.offers} <= fulfillers
        assert all(o.price.amount > 0 and o.price.currency == "EUR" for o in product.offers)
        assert product.brand is None or product.brand in brands
        assert 1 <= len(product.variants) <= 3
        assert product.brand is None or product.title.startswith(
            next(b.name for b in synthetic.brands if b.slug == product.brand)
        )


def test_the_distributions_are_roughly_as_specified(sample: list[ProductDraft]) -> None:
    n = len(sample)
    contested = sum(len({o.fulfiller_id for o in p.offers}) >= 2 for p in sample)
    in_stock = sum(any(o.stock > 0 for o in p.offers) for p in sample)
    rated = sum(p.rating is not None for p in sample)
    multi_variant = sum(len(p.variants) > 1 for p in sample)

    assert 0.25 < contested / n < 0.35
    assert 0.75 < in_stock / n < 0.85
    assert 0.8 < rated / n < 0.9
    assert multi_variant > 0.2 * n
    # brand popularity is skewed: the top 1 % of brands have far more than 1 % of products
    by_brand = Counter(p.brand for p in sample if p.brand)
    top = sum(count for _, count in by_brand.most_common(20))
    assert top > 0.15 * sum(by_brand.values())
    # prices are spread over orders of magnitude (log-normal)
    prices = sorted(o.price.amount for p in sample for o in p.offers)
    assert prices[len(prices) // 100] * 10 < prices[-len(prices) // 100]


def test_the_generator_prices_in_the_shops_currency() -> None:
    product = SyntheticCatalog(seed=1, currency="GBP").product(5)

    assert {o.price.currency for o in product.offers} == {"GBP"}


def test_demo_categories_share_the_tree_but_not_the_leaves(synthetic: SyntheticCatalog) -> None:
    synthetic_paths = {category_path(d): d for d in synthetic.categories}
    for draft in DEMO_CATEGORIES:
        path = category_path(draft)
        if path.count("/") == 2:
            assert path not in synthetic_paths  # a leaf of the demo only
        else:
            # a shared department or second level: neither declares attributes
            assert not draft.attributes
            assert path in synthetic_paths
            assert not synthetic_paths[path].attributes
    assert not {slug for _, slug in DEMO_BRANDS} & {b.slug for b in synthetic.brands}


def test_the_hand_written_products_satisfy_their_categories() -> None:
    products = demo_products("EUR")

    assert len(products) == 12
    assert all(is_valid_id(f.id, "sel") for f in DEMO_FULFILLERS if f.id != RETAILER)
    for product in products:
        defs = declarations(DEMO_CATEGORIES, product.category)
        assert validate_attributes(defs, product.attributes)[1] == [], product.title
        for variant in product.variants:
            assert check_variant(variant, "v") == []
            assert variant.gtin is not None
            assert gtin_is_valid(variant.gtin)
            for name, value in variant.options.items():
                assert value in defs[name].values, (product.title, name, value)
    contested = [p for p in products if len({o.fulfiller_id for o in p.offers}) > 1]
    assert len(contested) >= 5
