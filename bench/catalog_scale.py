"""Scenario ``catalog_scale``: the catalog at a million products, measured in-process.

Generates (or reuses) a synthetic catalog of ``--products`` products with the same code as
``bazaar demo --products N`` (``CatalogService.create_products`` in batches: validation,
events and search index in one transaction per batch), then measures, one call at a time,
each in its own read transaction:

1. searches through ``ProductListing.search`` (what ``GET /api/v1/products`` runs), on a
   seeded mix drawn from real products of the catalog:
   * ``search``: words + a category + one or two filters (brand, an attribute value, a
     price range), facets category / brand / price and one attribute facet;
   * ``browse``: a category alone (default facets, the category's attribute facets too);
   * ``price sort``: a category sorted by price;
2. product pages through ``CatalogService.product_view`` over random product ids;
3. the import rate of the generation, products/s.

It prints a table and writes ``bench/results/catalog_scale-<UTC timestamp>.json``.

    .venv/bin/python bench/catalog_scale.py --products 100000
    .venv/bin/python bench/catalog_scale.py --products 1000000 \\
        --db postgresql+psycopg://root@127.0.0.1:5432/bazaar_bench_catalog

The default database is ``bench/results/catalog-<N>.db`` (SQLite). A database that already
holds the products is reused, so a rerun only measures; one that holds fewer is topped up.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bazaar import migrate
from bazaar.bootstrap import Container, build
from bazaar.catalog import seeding
from bazaar.catalog.attributes import AttributeType
from bazaar.catalog.listing import ListingParams
from bazaar.catalog.synthetic import SyntheticCatalog
from bazaar.config import Settings
from bazaar.demo import progress_bar
from bazaar.identity.model import Principal, Role
from bazaar.infra.db import create_db_engine
from bazaar.kernel.errors import Conflict
from bazaar.search.model import SortOrder
from harness import RESULTS_DIR, machine_info, write_results

SCENARIO = "catalog_scale"
OPERATOR = ("bench-operator@bazaar.test", "bench-operator-password-not-secret")
TARGETS = {"search": 50.0, "product": 5.0, "import": 5000.0}  # issue targets, reported only


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--products", type=int, default=1_000_000, help="catalog size")
    p.add_argument("--db", help="database URL (default: SQLite under bench/results/)")
    p.add_argument("--seed", type=int, default=1, help="seed of the synthetic products")
    p.add_argument("--batch-size", type=int, default=1000, help="products per create_products")
    p.add_argument("--queries", type=int, default=400, help="measured searches of each kind")
    p.add_argument("--fetches", type=int, default=2000, help="measured product fetches")
    p.add_argument("--warmup", type=int, default=50, help="unmeasured calls of each kind first")
    p.add_argument("--query-seed", type=int, default=11, help="seed of the query mix")
    p.add_argument("--generate-only", action="store_true", help="generate (or top up) and stop")
    args = p.parse_args(argv)
    if args.products < 1 or args.batch_size < 1 or args.queries < 1 or args.fetches < 1:
        p.error("--products, --batch-size, --queries and --fetches must be positive")
    return args


def default_url(products: int) -> str:
    return f"sqlite:///{RESULTS_DIR / f'catalog-{products}.db'}"


def meta_path(url: str) -> Path:
    """Where the generation history of a database is kept (beside a SQLite file)."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return Path(parsed.database + ".meta.json")
    return RESULTS_DIR / f"{parsed.get_backend_name()}-{parsed.database}.meta.json"


def ensure_database(url: str) -> None:
    """Create a PostgreSQL database that does not exist yet (SQLite creates its file)."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    admin = create_db_engine(parsed.set(database="postgres").render_as_string(False))
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}
            ).first()
            if exists is None:
                conn.exec_driver_sql(f'CREATE DATABASE "{parsed.database}"')
    finally:
        admin.dispose()


def settings_for(url: str, media_dir: Path) -> Settings:
    return Settings(
        database_url=url,
        secret_key=secrets.token_hex(16),  # signs listing cursors; none outlive the run
        log_level="WARNING",
        rate_limit_per_minute=0,
        dispatcher_embedded=False,
        media_dir=media_dir,
    )


def operator(container: Container) -> Principal:
    email, password = OPERATOR
    with contextlib.suppress(Conflict):
        container.identity.create_user(None, email, password, Role.OPERATOR)
    issued = container.identity.issue_token(email, password, "127.0.0.1")
    return container.identity.authenticate(issued.token)


def analyze(container: Container) -> float:
    """Planner statistics, as an operator would gather after a bulk load."""
    t0 = time.perf_counter()
    if container.db.is_postgres:
        with container.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with container.db.write() as conn:
            conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - t0


def generate(
    container: Container, args: argparse.Namespace, synthetic: SyntheticCatalog, meta: Path
) -> dict[str, Any]:
    """Top the catalog up to ``--products``; return the generation history (with this run)."""
    history: dict[str, Any] = json.loads(meta.read_text()) if meta.exists() else {"generations": []}
    principal = operator(container)
    t0 = time.perf_counter()
    world = seeding.ensure_synthetic_world(container.db, container.taxonomy, principal, synthetic)
    world_s = time.perf_counter() - t0
    present = seeding.synthetic_products_present(container.db, synthetic)
    log(f"catalog holds {present:,} of {args.products:,} products of seed {args.seed}")
    if present >= args.products:
        return history
    from rich.console import Console

    console = Console(stderr=True)
    cpu0 = time.process_time()
    with progress_bar(console, "generating", total=args.products, done=present) as advance:
        report = seeding.load_synthetic_products(
            container.catalog,
            principal,
            synthetic,
            present,
            args.products,
            batch_size=args.batch_size,
            on_batch=advance,
        )
    cpu = time.process_time() - cpu0
    log(
        f"generated {report.products:,} products in {report.seconds:,.1f} s: "
        f"{report.per_second:,.0f} products/s ({report.products / cpu:,.0f} per CPU-second)"
    )
    analyze_s = analyze(container)
    log(f"analyze: {analyze_s:.1f} s")
    history["generations"].append(
        {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "from": present,
            "to": args.products,
            "products": report.products,
            "seconds": round(report.seconds, 2),
            "cpu_seconds": round(cpu, 2),
            "per_second": round(report.per_second, 1),
            "per_cpu_second": round(report.products / cpu, 1) if cpu else None,
            "batch_size": args.batch_size,
            "world_seconds": round(world_s, 2),
            "world_created": world,
            "analyze_seconds": round(analyze_s, 2),
            "loadavg_after": os.getloadavg(),
        }
    )
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(json.dumps(history, indent=2) + "\n")
    return history


# --- the query mix -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    kind: str
    params: ListingParams


def query_mix(synthetic: SyntheticCatalog, products: int, n: int, seed: int) -> list[Query]:
    """``n`` queries of each kind, built from random products of the catalog (seeded)."""
    rng = random.Random(seed)
    queries: list[Query] = []
    leaves = {leaf.path: leaf for leaf in synthetic.leaves}
    for _ in range(n):
        draft = synthetic.product(rng.randrange(products))
        leaf = leaves[draft.category]
        parts = draft.category.split("/")
        category = "/".join(parts[: rng.randint(1, 3)])  # department, second level or leaf
        enums = [d for d in leaf.attributes if d.type is AttributeType.ENUM]
        filters: dict[str, Any] = {}
        choices = ["brand", "attribute", "price"]
        for choice in rng.sample(choices, rng.randint(1, 2)):
            if choice == "brand" and draft.brand:
                filters["brands"] = (draft.brand,)
            elif choice == "attribute" and enums:
                d = rng.choice(enums)
                value = draft.attributes.get(d.name)
                if isinstance(value, str):
                    filters["attributes"] = {d.name: (value,)}
            else:
                price = min(o.price.amount for o in draft.offers)
                filters["price_min"], filters["price_max"] = price // 2, price * 2
        noun = draft.title.split(",")[0].split()[-2]  # the last word of the noun
        facet = f"attr.{enums[0].name}" if enums else "attr.colour"
        queries.append(
            Query(
                "search",
                ListingParams(
                    q=noun,
                    category=category,
                    facets=("category", "brand", "price", facet),
                    **filters,
                ),
            )
        )
        queries.append(Query("browse", ListingParams(category=category)))
        other = "/".join(draft.category.split("/")[: rng.randint(1, 3)])
        queries.append(Query("price sort", ListingParams(category=other, sort=SortOrder.PRICE_ASC)))
    return queries


def random_product_ids(
    container: Container, synthetic: SyntheticCatalog, n: int, products: int, seed: int
) -> list[str]:
    """Ids of ``n`` random products, found by their first SKU (exact lookups)."""
    rng = random.Random(seed + 1)
    skus = [synthetic.sku(rng.randrange(products), 0) for _ in range(n)]
    ids: dict[str, str] = {}
    with container.db.read() as conn:
        for start in range(0, len(skus), 500):
            chunk = skus[start : start + 500]
            rows = conn.execute(
                sa.text("SELECT sku, product_id FROM variants WHERE sku IN :skus").bindparams(
                    sa.bindparam("skus", expanding=True)
                ),
                {"skus": chunk},
            )
            for sku, product_id in rows:
                ids[sku] = product_id
    return [ids[s] for s in skus if s in ids]


def timed(calls: list[Callable[[], object]], warmup: int) -> tuple[list[float], list[object]]:
    for call in calls[:warmup]:
        call()
    latencies: list[float] = []
    results: list[object] = []
    for call in calls[warmup:]:
        t0 = time.perf_counter()
        results.append(call())
        latencies.append((time.perf_counter() - t0) * 1000)
    return latencies, results


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]

    return {
        "n": len(ordered),
        "p50_ms": round(pct(50), 3),
        "p95_ms": round(pct(95), 3),
        "p99_ms": round(pct(99), 3),
        "mean_ms": round(statistics.fmean(ordered), 3),
        "max_ms": round(ordered[-1], 3),
    }


def database_size(container: Container) -> int | None:
    with container.db.read() as conn:
        if container.db.is_postgres:
            return int(
                conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar_one()
            )
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
        size = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
        return int(pages) * int(size)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url = args.db or default_url(args.products)
    ensure_database(url)
    engine = create_db_engine(url)
    try:
        migrate.upgrade(engine, "head")
    finally:
        engine.dispose()
    media = Path(tempfile.mkdtemp(prefix="bazaar-bench-media-"))
    container = build(settings_for(url, media))
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    machine_before = machine_info()
    try:
        synthetic = SyntheticCatalog(args.seed, currency=container.settings.currency)
        meta = meta_path(url)
        history = generate(container, args, synthetic, meta)
        if args.generate_only:
            return 0
        log(f"measuring: {args.queries} queries of each kind, {args.fetches} product fetches")
        queries = query_mix(synthetic, args.products, args.queries + args.warmup, args.query_seed)
        search: dict[str, Any] = {}
        for kind in ("search", "browse", "price sort"):
            mine = [q for q in queries if q.kind == kind]
            calls = [lambda q=q: container.listing.search(q.params) for q in mine]
            latencies, pages = timed(calls, args.warmup)
            totals = [p.total for p in pages]  # type: ignore[attr-defined]
            search[kind] = {
                **percentiles(latencies),
                "median_total": statistics.median(totals),
                "empty": sum(t == 0 for t in totals),
            }
        ids = random_product_ids(
            container, synthetic, args.fetches + args.warmup, args.products, args.query_seed
        )
        latencies, _ = timed(
            [lambda i=i: container.catalog.product_view(i) for i in ids], args.warmup
        )
        fetch = percentiles(latencies)
        size = database_size(container)
    finally:
        container.close()

    gens = history["generations"]
    total_products = sum(g["products"] for g in gens)
    total_seconds = sum(g["seconds"] for g in gens)
    total_cpu = sum(g["cpu_seconds"] for g in gens)
    imported = {
        "products": total_products,
        "seconds": round(total_seconds, 1),
        "per_second": round(total_products / total_seconds, 1) if total_seconds else None,
        "per_cpu_second": round(total_products / total_cpu, 1) if total_cpu else None,
        "generations": gens,
    }
    engine_name = sa.make_url(url).get_backend_name()
    print()
    print(
        f"{SCENARIO}: {args.products:,} products on {engine_name}"
        f" ({(size or 0) / 1e9:.1f} GB), in-process, one call at a time;"
        f" {os.cpu_count()} CPUs, loadavg {machine_before['loadavg']}"
    )
    print()
    print(f"{'measure':<44}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}  target")
    labels = {
        "search": "search: q + category + filters, 4 facets",
        "browse": "category browse (default facets)",
        "price sort": "category sorted by price",
    }
    for kind, m in search.items():
        target = f"p95 <= {TARGETS['search']:g} ms" if kind == "search" else ""
        print(
            f"{labels[kind]:<44}{m['n']:>6}{m['p50_ms']:>9.2f}{m['p95_ms']:>9.2f}"
            f"{m['p99_ms']:>9.2f}  {target}"
        )
    print(
        f"{'product page (product_view)':<44}{fetch['n']:>6}{fetch['p50_ms']:>9.2f}"
        f"{fetch['p95_ms']:>9.2f}{fetch['p99_ms']:>9.2f}  p95 <= {TARGETS['product']:g} ms"
    )
    if imported["per_second"]:
        print(
            f"{'import (create_products batches)':<44}{total_products:>6}"
            f"  {imported['per_second']:,.0f} products/s"
            f" ({imported['per_cpu_second']:,.0f} per CPU-second)"
            f"  target >= {TARGETS['import']:,.0f}/s"
        )
    print()
    data = {
        "scenario": SCENARIO,
        "started_at": started_at,
        "engine": engine_name,
        "database": sa.make_url(url).render_as_string(hide_password=True),
        "database_bytes": size,
        "args": vars(args),
        "machine": {"before": machine_before, "after": machine_info()},
        "search": search,
        "product_view": fetch,
        "import": imported,
        "targets": TARGETS,
    }
    path = write_results(SCENARIO, data)
    print(f"results: {path.relative_to(RESULTS_DIR.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
