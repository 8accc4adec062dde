"""Scenario ``catalog_import``: ``bazaar import products`` of a synthetic file, in-process.

Writes ``--products`` products of the synthetic catalog (``bazaar.catalog.synthetic``, the
same products as ``bazaar demo``) to a JSONL and/or CSV file with the exporter's writers,
then imports each file into a fresh database whose category tree, brands and fulfillers
exist already, through ``BulkCatalog.import_products`` (what ``bazaar import products``
and the staff API job call): parsing, validation, the catalog writes, events, the search
index and the run's checkpoint, one transaction per ``--batch-size`` products.

    .venv/bin/python bench/catalog_import.py --products 50000
    .venv/bin/python bench/catalog_import.py --products 50000 --format csv \\
        --db postgresql+psycopg://postgres@127.0.0.1:5432/bazaar_bench_import
    .venv/bin/python bench/catalog_import.py --products 20000 --profile /tmp/import.prof

There is no baseline server: the figure is products/s of wall clock and per CPU-second of
the process, next to the issue's target (>= 5,000 products/s). ``--profile`` writes a
cProfile of the import (not of the set-up) and prints its top functions. A PostgreSQL
database named in ``--db`` is dropped and created again for every format.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bazaar import migrate
from bazaar.bootstrap import Container, build
from bazaar.catalog import exporting, seeding
from bazaar.catalog.drafts import ProductDraft
from bazaar.catalog.import_runs import Format
from bazaar.catalog.synthetic import SyntheticCatalog
from bazaar.config import Settings
from bazaar.identity.model import Principal, Role
from bazaar.infra.db import create_db_engine
from harness import machine_info, write_results

SCENARIO = "catalog_import"
TARGET = 5000.0  # products/s, the figure; reported, never asserted
OPERATOR = Principal(kind="system", id="bench-import", role=Role.OPERATOR)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--products", type=int, default=50_000, help="products in the file")
    p.add_argument("--format", choices=("jsonl", "csv", "both"), default="both")
    p.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    p.add_argument("--seed", type=int, default=1, help="seed of the synthetic products")
    p.add_argument("--batch-size", type=int, default=1000, help="products per transaction")
    p.add_argument("--profile", type=Path, help="write a cProfile of the import here")
    p.add_argument("--workdir", type=Path, help="keep the files here (default: temporary)")
    return p.parse_args(argv)


def draft_record(draft: ProductDraft) -> exporting.Record:
    """A synthetic draft as the JSONL record an export of it would hold."""
    record: exporting.Record = {"title": draft.title, "category": draft.category}
    if draft.description:
        record["description"] = draft.description
    if draft.brand is not None:
        record["brand"] = draft.brand
    if draft.attributes:
        record["attributes"] = dict(draft.attributes)
    for name in ("gtin", "mpn"):
        if (value := getattr(draft, name)) is not None:
            record[name] = value
    record["status"] = draft.status.value
    variants = []
    for v in draft.variants:
        out: exporting.Record = {"sku": v.sku}
        if v.options:
            out["options"] = dict(v.options)
        if v.gtin is not None:
            out["gtin"] = v.gtin
        if v.weight_g is not None:
            out["weight_g"] = v.weight_g
        variants.append(out)
    record["variants"] = variants
    record["offers"] = [
        {
            "variant": o.variant,
            "price": o.price.to_dict(),
            "shipping": o.shipping.to_dict()
            if o.shipping is not None
            else {"amount": 0, "currency": o.price.currency},
            "stock": o.stock,
            "delivery_days": o.delivery_days,
            "fulfiller_id": o.fulfiller_id,
            "status": o.status.value,
        }
        for o in draft.offers
    ]
    if draft.rating is not None:
        record["rating"] = draft.rating / 10
    if draft.rating_count:
        record["rating_count"] = draft.rating_count
    return record


def write_file(synthetic: SyntheticCatalog, n: int, fmt: Format, path: Path) -> None:
    def records() -> Iterator[tuple[str, exporting.Record]]:
        for i, draft in enumerate(synthetic.products(0, n)):
            yield f"p{i}", draft_record(draft)

    with path.open("wb") as out:
        if fmt is Format.CSV:
            exporting.write_csv(records(), out)
        else:
            exporting.write_jsonl(records(), out)


def fresh_database(url: str | None, workdir: Path, fmt: Format) -> str:
    """An empty, migrated database for one import."""
    if url is None:
        path = workdir / f"import-{fmt.value}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        parsed = sa.make_url(url)
        if parsed.get_backend_name() == "postgresql":
            admin = create_db_engine(parsed.set(database="postgres").render_as_string(False))
            try:
                with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{parsed.database}"')
                    conn.exec_driver_sql(f'CREATE DATABASE "{parsed.database}"')
            finally:
                admin.dispose()
    engine = create_db_engine(url)
    try:
        migrate.upgrade(engine, "head")
    finally:
        engine.dispose()
    return url


def settings_for(url: str, workdir: Path) -> Settings:
    return Settings(
        database_url=url,
        log_level="WARNING",
        rate_limit_per_minute=0,
        dispatcher_embedded=False,
        media_dir=workdir / "media",
    )


def run_import(
    container: Container, path: Path, fmt: Format, batch_size: int, profile: Path | None
) -> dict[str, Any]:
    profiler = cProfile.Profile() if profile is not None else None
    with path.open("rb") as source:
        cpu0, t0 = time.process_time(), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        run = container.bulk.import_products(
            OPERATOR,
            source,
            fmt,
            run_key=f"bench:{fmt.value}",
            fingerprint=fmt.value,
            batch_size=batch_size,
            restart=True,
        )
        if profiler is not None:
            profiler.disable()
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    if profiler is not None and profile is not None:
        target = profile.with_name(f"{profile.stem}-{fmt.value}{profile.suffix}")
        profiler.dump_stats(target)
        pstats.Stats(str(target)).sort_stats("cumulative").print_stats(30)
        pstats.Stats(str(target)).sort_stats("tottime").print_stats(25)
        log(f"profile: {target}")
    if run.error_count:
        log(f"{run.error_count} errors, the first: {run.errors[:3]}")
    return {
        "format": fmt.value,
        "created": run.created,
        "failed": run.failed,
        "errors": run.error_count,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "per_second": round(run.created / seconds, 1),
        "per_cpu_second": round(run.created / cpu, 1) if cpu else None,
        "file_bytes": path.stat().st_size,
    }


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    formats = [Format.JSONL, Format.CSV] if args.format == "both" else [Format(args.format)]
    results = []
    with contextlib.ExitStack() as stack:
        if args.workdir is not None:
            workdir = args.workdir
            workdir.mkdir(parents=True, exist_ok=True)
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bazaar-imp-")))
        for fmt in formats:
            path = workdir / f"products-{args.seed}-{args.products}.{fmt.value}"
            url = fresh_database(args.db, workdir, fmt)
            container = build(settings_for(url, workdir))
            try:
                synthetic = SyntheticCatalog(args.seed, currency=container.settings.currency)
                if not path.exists():
                    t0 = time.perf_counter()
                    write_file(synthetic, args.products, fmt, path)
                    log(f"wrote {path.name} in {time.perf_counter() - t0:.1f} s")
                seeding.ensure_synthetic_world(
                    container.db, container.taxonomy, OPERATOR, synthetic
                )
                log(f"importing {path.name} into {sa.make_url(url).get_backend_name()}")
                results.append(run_import(container, path, fmt, args.batch_size, args.profile))
            finally:
                container.close()
    engine = sa.make_url(args.db).get_backend_name() if args.db else "sqlite"
    print()
    print(
        f"{SCENARIO}: {args.products:,} products on {engine}, batch {args.batch_size};"
        f" {os.cpu_count()} CPUs, loadavg {os.getloadavg()}"
    )
    print(f"{'format':<8}{'created':>9}{'seconds':>9}{'products/s':>12}{'per CPU-s':>11}  target")
    for r in results:
        print(
            f"{r['format']:<8}{r['created']:>9,}{r['seconds']:>9.1f}{r['per_second']:>12,.0f}"
            f"{r['per_cpu_second'] or 0:>11,.0f}  >= {TARGET:,.0f}/s"
        )
    data = {
        "scenario": SCENARIO,
        "engine": engine,
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "machine": machine_info(),
        "results": results,
        "target": TARGET,
    }
    print(f"results: {write_results(SCENARIO, data)}")
    return 0 if all(r["failed"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
