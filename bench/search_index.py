"""Search index benchmark: bulk load N synthetic products, then time a fixed mix of searches.

    .venv/bin/python bench/search_index.py --db sqlite:///var/bench/search.db --n 1000000
    .venv/bin/python bench/search_index.py \\
        --db postgresql+psycopg://root@127.0.0.1:5432/bazaar_bench_search --n 1000000

The database is created from scratch (SQLite file deleted; PostgreSQL database dropped and
created on the same server) and migrated with ``bazaar.migrate``, unless ``--reuse`` says to
search an index loaded by an earlier run. Documents are synthetic but shaped like a catalogue:
a three-level category tree (8 x 8 x 8), 2,000 brands and words with Zipf-like popularity,
20 sellers beside the retailer, skewed colours/sizes/materials, log-normal prices, 80% in
stock. Searches run in-process, one at a time, each in its own read transaction, on a seeded
mix: text + category + filters, category browse, price sort (with page 2), typos.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import math
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bazaar import migrate
from bazaar.infra.db import Database, create_db_engine
from bazaar.search.bulk import bulk_upsert
from bazaar.search.index import SearchIndex, search_index_for
from bazaar.search.model import SearchDocument, SearchQuery, SortOrder
from bazaar.search.text import tokenize

FACETS_TEXT = frozenset({"brand", "price", "attr.color"})
FACETS_BROWSE = frozenset({"category", "brand", "price"})
COLORS = ["black", "white", "blue", "grey", "red", "green", "navy", "beige", "brown", "pink"]
SIZES = ["xs", "s", "m", "l", "xl", "xxl"]
MATERIALS = ["cotton", "polyester", "wool", "linen", "leather", "denim", "silk", "nylon"]
SYLLABLES = [
    *("ka", "ri", "to", "mo", "na", "lu", "ve", "sa", "pe", "di", "ro", "ba", "ten", "mar"),
    *("lin", "cor", "dex", "fal", "gor", "hup", "ist", "jan", "kel", "lum", "nor", "pra"),
    *("que", "ris", "sul", "tor", "ush", "vin", "wal", "xen", "yor", "zel"),
]


def _zipf_weights(n: int, s: float) -> list[float]:
    return list(itertools.accumulate(1.0 / (rank**s) for rank in range(1, n + 1)))


@dataclass
class Catalogue:
    """The fixed shape of the synthetic catalogue (seeded): trees, brands, words."""

    rng: random.Random
    leaves: list[tuple[str, str, str]]  # (root, child, leaf), in popularity order
    leaf_weights: list[float]
    brands: list[tuple[str, str]]
    brand_weights: list[float]
    words: list[str]  # title words, most popular first
    word_weights: list[float]
    description_words: list[str]  # the same words, popular in another order
    nouns: dict[str, list[str]]

    @classmethod
    def build(cls, seed: int) -> Catalogue:
        rng = random.Random(seed)
        words = sorted({_word(rng, 2, 4) for _ in range(4000)})
        rng.shuffle(words)
        leaves = [
            (f"cat_r{a}", f"cat_r{a}_{b}", f"cat_r{a}_{b}_{c}")
            for a in range(8)
            for b in range(8)
            for c in range(8)
        ]
        rng.shuffle(leaves)
        brands = [(f"brd_{i:05d}", _word(rng, 2, 3).capitalize()) for i in range(2000)]
        nouns = {leaf[2]: rng.sample(words[:600], 3) for leaf in leaves}
        description_words = words[:]
        rng.shuffle(description_words)
        return cls(
            rng=rng,
            leaves=leaves,
            leaf_weights=_zipf_weights(len(leaves), 0.7),
            brands=brands,
            brand_weights=_zipf_weights(len(brands), 1.0),
            words=words,
            word_weights=_zipf_weights(len(words), 0.9),
            description_words=description_words,
            nouns=nouns,
        )

    def _pick(self, items: Sequence[str], weights: list[float]) -> str:
        x = self.rng.random() * weights[-1]
        return items[bisect.bisect(weights, x)]

    def document(self, i: int, start: datetime) -> SearchDocument:
        rng = self.rng
        leaf = self.leaves[bisect.bisect(self.leaf_weights, rng.random() * self.leaf_weights[-1])]
        x = rng.random() * self.brand_weights[-1]
        brand_id, brand_name = self.brands[bisect.bisect(self.brand_weights, x)]
        color = COLORS[min(int(rng.expovariate(0.35)), len(COLORS) - 1)]
        attributes: dict[str, tuple[str, ...]] = {"color": (color,)}
        if rng.random() < 0.6:
            attributes["size"] = tuple(sorted(rng.sample(SIZES, rng.randint(1, 4))))
        if rng.random() < 0.7:
            attributes["material"] = (MATERIALS[min(int(rng.expovariate(0.5)), 7)],)
        words = [self._pick(self.words, self.word_weights) for _ in range(rng.randint(1, 3))]
        noun = rng.choice(self.nouns[leaf[2]])
        title = " ".join([brand_name, *words, color.capitalize(), noun])
        description = " ".join(
            self._pick(self.description_words, self.word_weights)
            for _ in range(rng.randint(12, 30))
        )
        sellers = ["retailer"] if rng.random() < 0.6 else []
        sellers += [
            f"sel_{rng.randint(0, 19):02d}" for _ in range(rng.randint(0 if sellers else 1, 2))
        ]
        has_offer = rng.random() > 0.03
        price = int(math.exp(rng.gauss(math.log(3000), 1.0))) if has_offer else None
        return SearchDocument(
            product_id=f"prd_{rng.getrandbits(120):030x}",
            title=title,
            description=description,
            brand_id=brand_id,
            brand_name=brand_name,
            category_ids=leaf,
            seller_ids=tuple(dict.fromkeys(sellers)) if has_offer else (),
            price=price,
            currency="EUR",
            in_stock=has_offer and rng.random() < 0.82,
            rating=min(50, max(0, int(rng.gauss(40, 6)))) if rng.random() < 0.7 else None,
            attributes=attributes,
            image_url=f"https://img.example.com/{i}/thumb.webp",
            created_at=start + timedelta(seconds=i * 90 + rng.randint(0, 89)),
        )


def _word(rng: random.Random, low: int, high: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(low, high)))


def head_words(seed: int, n: int = 10) -> list[str]:
    """The ``n`` most frequent title words of the catalogue (the worst words to search)."""
    return Catalogue.build(seed).words[:n]


def generate(
    n: int, seed: int, sample_every: int
) -> tuple[Iterator[SearchDocument], list[SearchDocument]]:
    """N documents (lazily) and every ``sample_every``-th of them, to draw queries from."""
    catalogue = Catalogue.build(seed)
    sample: list[SearchDocument] = []
    start = datetime(2023, 1, 1, tzinfo=UTC)

    def documents() -> Iterator[SearchDocument]:
        for i in range(n):
            doc = catalogue.document(i, start)
            if i % sample_every == 0:
                sample.append(doc)
            yield doc

    return documents(), sample


# --- queries ------------------------------------------------------------------------------------


def _typo(rng: random.Random, word: str) -> str:
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["swap", "drop", "replace"])
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    return word[:i] + rng.choice("aeiou") + word[i + 1 :]


def scenarios(
    sample: list[SearchDocument], seed: int, head_words: Sequence[str]
) -> dict[str, Callable[[], SearchQuery]]:
    rng = random.Random(seed)

    def text_filters() -> SearchQuery:
        doc = rng.choice(sample)
        words = [w for w in tokenize(doc.title)[1:] if len(w) > 3]
        q = " ".join(rng.sample(words, min(len(words), rng.choice([1, 1, 2]))))
        if rng.random() < 0.3:
            q = q[: max(3, len(q) - 2)]  # typed so far
        filters: dict[str, object] = {}
        for choice in rng.sample(["stock", "price", "brand", "color"], rng.choice([1, 2])):
            if choice == "stock":
                filters["in_stock"] = True
            elif choice == "price" and doc.price is not None:
                filters["price_min"], filters["price_max"] = doc.price // 2, doc.price * 2
            elif choice == "brand":
                filters["brand_ids"] = (doc.brand_id,)
            else:
                filters["attributes"] = {"color": doc.attributes["color"]}
        return SearchQuery(
            q=q,
            category_id=doc.category_ids[rng.choice([0, 1])],
            facets=FACETS_TEXT,
            **filters,  # type: ignore[arg-type]
        )

    def browse() -> SearchQuery:
        doc = rng.choice(sample)
        return SearchQuery(
            category_id=doc.category_ids[rng.choice([0, 1, 2])], facets=FACETS_BROWSE
        )

    def price_sort() -> SearchQuery:
        doc = rng.choice(sample)
        sort = rng.choice([SortOrder.PRICE_ASC, SortOrder.PRICE_DESC])
        return SearchQuery(
            category_id=doc.category_ids[rng.choice([0, 1])], sort=sort, facets=FACETS_BROWSE
        )

    def typo() -> SearchQuery:
        doc = rng.choice(sample)
        words = [w for w in tokenize(doc.title)[1:] if len(w) >= 5]
        word = rng.choice(words) if words else tokenize(doc.title)[0]
        return SearchQuery(q=_typo(rng, word), facets=FACETS_BROWSE)

    def head_term() -> SearchQuery:
        doc = rng.choice(sample)
        return SearchQuery(
            q=rng.choice(head_words),
            category_id=doc.category_ids[rng.choice([0, 1])],
            in_stock=True,
            facets=FACETS_TEXT,
        )

    return {
        "text+filters": text_filters,
        "browse": browse,
        "price_sort": price_sort,
        "typo": typo,
        "head_term": head_term,
    }


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1)]


def measure(
    db: Database, index: SearchIndex, make: Callable[[], SearchQuery], runs: int
) -> dict[str, float]:
    timings, cpu, totals, corrected, approximate = [], [], [], 0, 0
    for i in range(runs):
        query = make()
        started, started_cpu = time.perf_counter(), time.process_time()
        with db.read() as conn:
            result = index.search(conn, query)
            if result.next_after is not None and i % 4 == 3:  # every fourth: the next page too
                with_after = SearchQuery(**{**query.__dict__, "after": result.next_after})
                index.search(conn, with_after)
        timings.append((time.perf_counter() - started) * 1000)
        # CPU time of this process (SQLite runs in it): unlike wall time, it does not grow
        # while other processes hold the cores, so it compares runs on a shared machine.
        cpu.append((time.process_time() - started_cpu) * 1000)
        totals.append(result.total)
        corrected += result.corrected_query is not None
        approximate += result.facets_approximate
    return {
        "p50_ms": round(_percentile(timings, 50), 2),
        "p95_ms": round(_percentile(timings, 95), 2),
        "p99_ms": round(_percentile(timings, 99), 2),
        "mean_ms": round(statistics.fmean(timings), 2),
        "cpu_p50_ms": round(_percentile(cpu, 50), 2),
        "cpu_p95_ms": round(_percentile(cpu, 95), 2),
        "median_total": statistics.median(totals),
        "corrected": corrected,
        "facets_approximate": approximate,
    }


# --- set-up -------------------------------------------------------------------------------------


def fresh_database(url: str) -> None:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def analyze(db: Database) -> None:
    """Refresh planner statistics after the bulk load, as an operator would."""
    if db.is_sqlite:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    else:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


def _size_sqlite_cache(db: Database, megabytes: int) -> None:
    @sa.event.listens_for(db.engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA cache_size=-{megabytes * 1024}")
        cursor.execute(f"PRAGMA mmap_size={megabytes * 4 * 1024 * 1024}")
        cursor.close()


class _Timed:
    """Wraps an iterator and adds up the time spent producing its items."""

    def __init__(self, items: Iterator[SearchDocument]) -> None:
        self.items, self.seconds = items, 0.0

    def __iter__(self) -> Iterator[SearchDocument]:
        return self

    def __next__(self) -> SearchDocument:
        started = time.perf_counter()
        try:
            return next(self.items)
        finally:
            self.seconds += time.perf_counter() - started


def load(
    db: Database, index: SearchIndex, documents: Iterator[SearchDocument], batch: int
) -> dict[str, float]:
    """Bulk-load through bulk_upsert, timing the index apart from generating the documents."""
    timed = _Timed(documents)
    started = time.perf_counter()
    loaded = 0
    while chunk := bulk_upsert(db, index, itertools.islice(timed, 100_000), batch_size=batch):
        loaded += chunk
        elapsed = time.perf_counter() - started - timed.seconds
        print(f"  {loaded:>9,} loaded, {loaded / elapsed:,.0f} docs/s", flush=True)
    elapsed = time.perf_counter() - started - timed.seconds
    print(
        f"loaded {loaded} documents in {elapsed:.1f} s (+{timed.seconds:.1f} s generating):"
        f" {loaded / elapsed:,.0f} docs/s",
        flush=True,
    )
    return {"docs": loaded, "seconds": round(elapsed, 1), "docs_per_s": round(loaded / elapsed)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="SQLAlchemy URL of a scratch database")
    parser.add_argument("--n", type=int, default=1_000_000, help="documents to load")
    parser.add_argument("--batch", type=int, default=2000, help="documents per transaction")
    parser.add_argument("--runs", type=int, default=300, help="searches per scenario")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="search an already loaded index")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--sqlite-cache-mb",
        type=int,
        default=0,
        help="page cache and memory map per SQLite connection (0: Bazaar's defaults)",
    )
    args = parser.parse_args(argv)

    documents, sample = generate(args.n, args.seed, sample_every=max(1, args.n // 5000))
    report: dict[str, object] = {"db": sa.make_url(args.db).get_backend_name(), "n": args.n}
    if not args.reuse:
        fresh_database(args.db)
    db = Database(create_db_engine(args.db, pool_size=2))
    if db.is_sqlite and args.sqlite_cache_mb:
        report["sqlite_cache_mb"] = args.sqlite_cache_mb
        _size_sqlite_cache(db, args.sqlite_cache_mb)
    index = search_index_for(db.dialect)
    if args.reuse:
        for _ in documents:  # regenerate the same sample
            pass
    else:
        migrate.upgrade(db.engine)
        report["load"] = load(db, index, documents, args.batch)
        started = time.perf_counter()
        analyze(db)
        print(f"analyze: {time.perf_counter() - started:.1f} s", flush=True)
    results = {}
    for name, make in scenarios(sample, args.seed, head_words(args.seed)).items():
        measure(db, index, make, max(10, args.runs // 10))  # warm-up, discarded
        results[name] = measure(db, index, make, args.runs)
        print(f"{name:>14}: {json.dumps(results[name])}", flush=True)
    report["scenarios"] = results
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
