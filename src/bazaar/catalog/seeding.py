"""Loading prepared catalog data (the demo, the synthetic catalog) through the use cases.

Everything goes through :class:`TaxonomyService` and :class:`CatalogService`, so validation,
events and the search index are exactly what a staff member's writes would produce. Every
step is idempotent: what already exists (a category path, a brand slug, a product's first
SKU) is left alone, so loading again adds only what is missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bazaar.catalog import product_store, store
from bazaar.catalog.drafts import CategoryDraft, ProductDraft
from bazaar.catalog.service import CatalogService
from bazaar.catalog.synthetic import SyntheticCatalog
from bazaar.catalog.taxonomy import TaxonomyService
from bazaar.identity.model import Principal
from bazaar.infra import collector
from bazaar.infra.db import Database

# called after each committed batch with the number of products it created
BatchDone = Callable[[int], None]


@dataclass(frozen=True)
class FulfillerSpec:
    id: str  # "retailer" or "sel_…"
    name: str
    rating: int | None


@dataclass(frozen=True)
class LoadReport:
    products: int  # created by this load
    seconds: float

    @property
    def per_second(self) -> float:
        return self.products / self.seconds if self.seconds > 0 else 0.0


def category_path(draft: CategoryDraft) -> str:
    """The slug path a draft creates (drafts here always carry a slug and a parent path)."""
    slug = draft.slug or ""
    return f"{draft.parent}/{slug}" if draft.parent else slug


def ensure_categories(
    db: Database, taxonomy: TaxonomyService, principal: Principal, drafts: Sequence[CategoryDraft]
) -> int:
    """Create the categories whose path does not exist yet (parents before children)."""
    with db.read() as conn:
        existing = set(store.categories_by_paths(conn, [category_path(d) for d in drafts]))
    created = 0
    for draft in drafts:
        if category_path(draft) not in existing:
            taxonomy.create_category(principal, draft)
            created += 1
    return created


def ensure_brands(
    db: Database,
    taxonomy: TaxonomyService,
    principal: Principal,
    brands: Sequence[tuple[str, str]],
) -> int:
    """Create the brands, given as (name, slug), whose slug is not taken yet."""
    with db.read() as conn:
        existing = set(store.brands_by_slugs(conn, [slug for _, slug in brands]))
    created = 0
    for name, slug in brands:
        if slug not in existing:
            taxonomy.create_brand(principal, name, slug)
            created += 1
    return created


def ensure_fulfillers(
    db: Database, taxonomy: TaxonomyService, principal: Principal, specs: Sequence[FulfillerSpec]
) -> int:
    """Create or correct fulfillers; ones already as specified are not touched (no event)."""
    with db.read() as conn:
        current = store.fulfillers_by_ids(conn, [s.id for s in specs])
    changed = 0
    for spec in specs:
        found = current.get(spec.id)
        if found is None or (found.name, found.rating) != (spec.name, spec.rating):
            taxonomy.set_fulfiller(principal, spec.id, spec.name, spec.rating)
            changed += 1
    return changed


def create_missing_products(
    db: Database, catalog: CatalogService, principal: Principal, drafts: Sequence[ProductDraft]
) -> int:
    """Create, in one batch, the drafts whose first SKU is not in the catalog yet."""
    with db.read() as conn:
        taken = product_store.existing_skus(conn, [d.variants[0].sku for d in drafts])
    missing = [d for d in drafts if d.variants[0].sku not in taken]
    if missing:
        catalog.create_products(principal, missing)
    return len(missing)


def ensure_synthetic_world(
    db: Database, taxonomy: TaxonomyService, principal: Principal, synthetic: SyntheticCatalog
) -> dict[str, int]:
    """The synthetic category tree, brands and fulfillers; what was created or corrected."""
    return {
        "categories": ensure_categories(db, taxonomy, principal, synthetic.categories),
        "brands": ensure_brands(
            db, taxonomy, principal, [(b.name, b.slug) for b in synthetic.brands]
        ),
        "fulfillers": ensure_fulfillers(
            db,
            taxonomy,
            principal,
            [FulfillerSpec(f.id, f.name, f.rating) for f in synthetic.fulfillers],
        ),
    }


def synthetic_products_present(db: Database, synthetic: SyntheticCatalog) -> int:
    """How many products of ``synthetic``'s seed the catalog holds.

    Loads commit whole batches in index order, so the products present are always indexes
    ``0 .. n-1``: a binary search over exact SKU lookups finds ``n`` in about 25 queries
    (exact matches, so the answer does not depend on the database's collation).
    """

    def present(index: int) -> bool:
        sku = synthetic.sku(index, 0)
        with db.read() as conn:
            return bool(product_store.existing_skus(conn, [sku]))

    low, high = 0, 1
    while present(high - 1):  # find an upper bound by doubling
        low, high = high, high * 2
    while low < high:  # the first absent index is in [low, high)
        mid = (low + high) // 2
        if present(mid):
            low = mid + 1
        else:
            high = mid
    return low


def load_synthetic_products(
    catalog: CatalogService,
    principal: Principal,
    synthetic: SyntheticCatalog,
    start: int,
    stop: int,
    *,
    batch_size: int = 1000,
    on_batch: BatchDone | None = None,
) -> LoadReport:
    """Create products ``start .. stop-1`` of ``synthetic`` with ``create_products`` batches.

    Each batch is one transaction (products, variants, offers, their events and search
    documents), so an interrupted load keeps whole batches and resumes where it stopped.
    """
    t0 = time.perf_counter()
    bounds = [(a, min(stop, a + batch_size)) for a in range(start, stop, batch_size)]

    def drafts(i: int) -> list[ProductDraft]:
        with collector.paused():  # see bazaar.infra.collector
            return list(synthetic.products(*bounds[i]))

    # The next batch is generated on a thread while this one is written: the database
    # driver releases the GIL while SQLite or PostgreSQL works, so the two overlap.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="synthetic") as pool:
        upcoming = pool.submit(drafts, 0) if bounds else None
        for i, (first, last) in enumerate(bounds):
            assert upcoming is not None
            batch = upcoming.result()
            upcoming = pool.submit(drafts, i + 1) if i + 1 < len(bounds) else None
            catalog.create_products(principal, batch)
            if on_batch is not None:
                on_batch(last - first)
    return LoadReport(max(0, stop - start), time.perf_counter() - t0)
