"""Scenario ``listing_feed``: a seller's feed imported and validated, in-process.

Sets up a fresh database (SQLite in a temporary directory, or ``--db`` for PostgreSQL: that
database is dropped and created again), a category declaring attributes, ``--catalog``
products with GTINs, brands and MPNs and a retailer offer each (the price distribution), a
seller, and a seeded JSONL feed of ``--rows`` listings:

* 50 % offers on catalog products by GTIN, 20 % by brand + MPN,
* 30 % (``--new-share``) new products, each with one image served by a fake image host
  (``httpx.MockTransport`` answering a 200x150 PNG, its bytes different for every URL: the
  fetch, SSRF guard and the media pipeline's checks and decode run for each; the network
  does not; the host's own throughput is measured alone and printed as its ceiling),
* among them about 10 % that need automatic fixes, 2 % price outliers (review) and 2 %
  rejects (a prohibited term).

It then measures, each on its own:

1. **import**: the feed runner turning rows into submitted listings (parse, checkpointed
   batches of ``--feed-batch`` rows), rows/s;
2. **validation**: validation runners (``--runners`` worker processes, each claiming
   batches of ``--batch`` listings; one runs in this process) taking every listing to its
   outcome, rows/s: the issue's target is at least 1,000 rows/s;
3. with ``--publish``, publishing the approved ones to the catalog (the event handler),
   rows/s;

and as the baseline, the pure workflow alone on the same listings: every step in memory with
its context given, no database, no image fetch. The ratio (validation / baseline) is what
persistence, claiming, catalog lookups and image probes cost.

    .venv/bin/python bench/listing_feed.py
    .venv/bin/python bench/listing_feed.py --rows 10000 \\
        --db postgresql+psycopg://postgres@127.0.0.1:5432/bazaar_bench_listings

Prints a table and writes ``bench/results/listing_feed-<UTC timestamp>.json``.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import random
import secrets
import struct
import tempfile
import time
import zlib
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from PIL import Image

from bazaar import migrate
from bazaar.bootstrap import Container, build
from bazaar.catalog.attributes import AttributeDef, AttributeType
from bazaar.catalog.drafts import CategoryDraft, OfferDraft, ProductDraft
from bazaar.catalog.model import VariantDraft
from bazaar.catalog.synthetic import gs1_check_digit
from bazaar.checkout.addresses import Address
from bazaar.config import Settings
from bazaar.identity.model import Principal, Role
from bazaar.infra.db import create_db_engine
from bazaar.kernel.ids import new_id
from bazaar.kernel.money import Money
from bazaar.listings import store
from bazaar.listings.checks import ImageOutcome, ImageProbe
from bazaar.listings.feed_runs import FeedFormat
from bazaar.listings.workflow import ListingState, ListingValidation, Step, ValidationContext
from bazaar.sellers import store as seller_store
from bazaar.sellers.application import ApplicationRecord, PayoutAccount
from bazaar.sellers.model import Seller, SellerStatus
from harness import machine_info, write_results

SCENARIO = "listing_feed"
TARGET_ROWS_PER_S = 1000.0
CATEGORY = "kitchen/bottles"
BRANDS = ("Hydro", "Klean", "Tundra", "Sigg", "Contigo")
COLOURS = ("black", "gray", "blue", "white", "red")
PROHIBITED = ("counterfeit", "replica", "fake designer", "knockoff")
OPERATOR = ("bench-operator@bazaar.test", "bench-operator-password")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--rows", type=int, default=10_000, help="listings in the feed")
    p.add_argument("--catalog", type=int, default=2_000, help="catalog products to match")
    p.add_argument("--db", help="PostgreSQL URL (dropped and recreated); default SQLite")
    p.add_argument("--batch", type=int, default=500, help="listings per validation pass")
    p.add_argument("--feed-batch", type=int, default=500, help="feed rows per transaction")
    p.add_argument("--runners", type=int, default=1, help="validation worker processes")
    p.add_argument("--publish", action="store_true", help="also publish approved listings")
    p.add_argument(
        "--new-share",
        type=float,
        default=0.3,
        help="share of rows that are new products with an image (the rest are offers)",
    )
    p.add_argument("--seed", type=int, default=7, help="seed of the catalog and the feed")
    return p.parse_args(argv)


def log(message: str) -> None:
    print(message, flush=True)


# --- set-up ------------------------------------------------------------------------------------


def fresh_database(url: str | None, tmp: Path) -> str:
    if url is None:
        return f"sqlite:///{tmp / 'listings.db'}"
    parsed = sa.make_url(url)
    admin = create_db_engine(parsed.set(database="postgres").render_as_string(False))
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{parsed.database}"')
    finally:
        admin.dispose()
    return url


PNG: bytes = b""


def _make_png() -> None:
    """The fake host's image, a 200x150 PNG (made in every worker process)."""
    global PNG
    buffer = io.BytesIO()
    Image.new("RGB", (200, 150), (40, 120, 200)).save(buffer, "PNG")
    PNG = buffer.getvalue()


def image_bytes(name: str) -> bytes:
    """The PNG with a text chunk naming it: every URL serves its own bytes (no two images
    share a content hash) while each decodes at the same cost."""
    chunk = b"tEXt" + b"Comment\x00" + name.encode()
    header_end = 8 + 25  # the signature, then the IHDR chunk
    sized = struct.pack(">I", len(chunk) - 4) + chunk + struct.pack(">I", zlib.crc32(chunk))
    return PNG[:header_end] + sized + PNG[header_end:]


def image_host(request: httpx.Request) -> httpx.Response:
    content = image_bytes(request.url.path)
    return httpx.Response(200, content=content, headers={"Content-Type": "image/png"})


def image_host_alone(n: int = 1000) -> float:
    """The fake image host's own throughput, images/s: the ceiling it puts on probing."""
    with httpx.Client(transport=httpx.MockTransport(image_host)) as client:
        t0 = time.perf_counter()
        for i in range(n):
            client.get(f"https://img.example/host-{i}.png").read()
        return n / (time.perf_counter() - t0)


def gtin(n: int) -> str:
    body = f"40{n:010d}"
    return body + str(gs1_check_digit(body))


def active_seller(container: Container) -> str:
    """An active seller on file, as onboarding would leave it (the application flow is not
    what this scenario measures)."""
    seller_id = new_id("sel")
    record = ApplicationRecord(
        legal_name="Bench Seller B.V.",
        trading_name="Bench Seller",
        country="NL",
        email="bench-seller@sellers.example",
        return_address=Address("Returns", "Kade 1", "1011 AA", "Amsterdam", "NL"),
        payout_account=PayoutAccount("**** 0000", secrets.token_hex(32)),
        categories=(),
        terms_version="bench",
    )
    with container.db.write() as conn:
        seller_store.insert_seller(
            conn,
            Seller(seller_id, record, status=SellerStatus.ACTIVE),
            (),
            token_hash=secrets.token_hex(32),
            now=container.clock.now(),
        )
    return seller_id


def set_up(container: Container, args: argparse.Namespace) -> tuple[Principal, Principal]:
    container.identity.create_user(None, OPERATOR[0], OPERATOR[1], Role.OPERATOR)
    issued = container.identity.issue_token(OPERATOR[0], OPERATOR[1], "127.0.0.1")
    staff = container.identity.authenticate(issued.token)
    container.taxonomy.create_category(staff, CategoryDraft("Kitchen", "kitchen"))
    category = container.taxonomy.create_category(
        staff,
        CategoryDraft(
            "Bottles",
            "bottles",
            "kitchen",
            (
                AttributeDef("colour", AttributeType.ENUM, True, COLOURS),
                AttributeDef("volume", AttributeType.NUMBER, unit="l"),
            ),
        ),
    )
    for name in BRANDS:
        container.taxonomy.create_brand(staff, name)
    rng = random.Random(args.seed)
    drafts = []
    for n in range(args.catalog):
        sku = f"CAT-{n:06d}"
        drafts.append(
            ProductDraft(
                title=f"Catalog bottle {n}",
                category=category.id,
                brand=BRANDS[n % len(BRANDS)].lower(),
                mpn=f"MPN-{n:06d}",
                variants=[VariantDraft(sku, gtin=gtin(n))],
                attributes={"colour": COLOURS[n % len(COLOURS)]},
                offers=[OfferDraft(variant=sku, price=Money(rng.randint(1500, 4500), "EUR"))],
            )
        )
    for start in range(0, len(drafts), 1000):
        container.catalog.create_products(staff, drafts[start : start + 1000])
    seller_id = active_seller(container)
    container.taxonomy.set_fulfiller(staff, seller_id, "Bench Seller", 45)
    container.identity.create_user(
        None, "bench-seller@bazaar.test", OPERATOR[1], Role.SELLER, seller_id
    )
    issued = container.identity.issue_token("bench-seller@bazaar.test", OPERATOR[1], "127.0.0.1")
    return staff, container.identity.authenticate(issued.token)


def feed_rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    rng = random.Random(args.seed + 1)
    rows: list[dict[str, Any]] = []
    for i in range(args.rows):
        n = rng.randrange(args.catalog)
        price = rng.randint(1800, 4200)
        roll = rng.random()
        if rng.random() < 0.02:
            price *= 20  # an outlier: review
        row: dict[str, Any] = {"category": CATEGORY, "price": {"amount": price, "currency": "EUR"}}
        offers = 1 - args.new_share  # of which 5/7 by GTIN, 2/7 by brand + MPN
        if roll < offers * 5 / 7:
            row["gtin"] = gtin(n)
        elif roll < offers:
            row["brand"] = (
                BRANDS[n % len(BRANDS)].upper() if rng.random() < 0.1 else BRANDS[n % len(BRANDS)]
            )
            row["mpn"] = f"MPN-{n:06d}"
        else:
            title = f"Seller bottle {i}"
            if rng.random() < 0.02:
                title = f"Replica bottle {i}"  # rejected
            fixes = rng.random() < 0.1
            row.update(
                title=f"  {title} " if fixes else title,
                brand=BRANDS[i % len(BRANDS)],
                attributes={
                    "colour": "grey" if fixes else COLOURS[i % len(COLOURS)],
                    "volume": "750 ml" if fixes else 1,
                },
                image_urls=[f"https://img.example/{i}.png"],
            )
        rows.append(row)
    return rows


# --- the measurements ----------------------------------------------------------------------------


def timed(action: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    result = action()
    return result, time.perf_counter() - t0


def run_validation(url: str, media_dir: str, batch: int) -> int:
    """One validation worker process: its own container, draining until nothing is due."""
    settings = Settings(
        database_url=url,
        secret_key=secrets.token_hex(16),
        log_level="WARNING",
        dispatcher_embedded=False,
        media_dir=Path(media_dir),
        listing_batch_size=batch,
    )
    container = build(
        settings,
        http_client=httpx.Client(transport=httpx.MockTransport(image_host)),
        resolve=lambda host, port: ["93.184.216.34"],
    )
    try:
        return container.listing_workers.validation.drain()
    finally:
        container.close()


def validate_with_runners(
    container: Container, url: str, tmp: Path, args: argparse.Namespace
) -> int:
    """``--runners`` worker processes (as ``bazaar worker`` runs them), or this process."""
    if args.runners <= 1:
        return container.listing_workers.validation.drain()
    spawn = multiprocessing.get_context("spawn")
    with spawn.Pool(args.runners, initializer=_make_png) as pool:
        jobs = [(url, str(tmp / f"media-{i}"), args.batch) for i in range(args.runners)]
        return sum(pool.starmap(run_validation, jobs))


def outcomes(container: Container) -> Counter[str]:
    with container.db.read() as conn:
        rows = conn.execute(
            sa.select(store.listings.c.state, sa.func.count().label("n")).group_by(
                store.listings.c.state
            )
        )
        return Counter({row.state: row.n for row in rows})


def pure_baseline(container: Container, seller: Principal) -> tuple[int, float]:
    """The same listings through the pure workflow, contexts given: no IO at all."""
    with container.db.read() as conn:
        ids: list[str] = list(conn.execute(sa.select(store.listings.c.id)).scalars())
        records = [store.get_listing(conn, listing_id) for listing_id in ids]
    facts = container.listing_workers.validation._facts  # the runner's own catalog facts
    subs = [r.validation for r in records if r is not None]
    now = container.clock.now()
    fresh = [ListingValidation.submit(v.id, v.submitted, now).value for v in subs]
    attributes = facts.attributes(fresh[0].draft.category_id)
    prices = facts.price_distribution(fresh[0].draft.category_id)
    lookups = facts.product_lookups([v.draft for v in fresh])
    t0 = time.perf_counter()
    for v, found in zip(fresh, lookups, strict=True):
        base = ValidationContext(
            attributes=attributes,
            by_gtin=found.by_gtin,
            by_brand_mpn=found.by_brand_mpn,
            known_brands=found.known_brands,
            prohibited_terms=PROHIBITED,
            price_distribution=prices,
        )
        for step in (Step.SCHEMA, Step.NORMALISE, Step.CHECKS):
            v = v.run_step(step, base, now=now).value
        probes = [ImageProbe(url, ImageOutcome.OK) for url in v.draft.image_urls]
        v = v.run_step(Step.IMAGES, ValidationContext(image_probes=probes), now=now).value
        v = v.run_step(Step.OUTCOME, ValidationContext(), now=now).value
    return len(fresh), time.perf_counter() - t0


def settings_for(url: str, tmp: Path, args: argparse.Namespace) -> Settings:
    return Settings(
        database_url=url,
        secret_key=secrets.token_hex(16),
        log_level="WARNING",
        rate_limit_per_minute=0,
        dispatcher_embedded=False,
        media_dir=tmp / "media",
        listing_batch_size=args.batch,
        listing_feed_batch_size=args.feed_batch,
        argon2_time_cost=1,
        argon2_memory_kib=64,
        argon2_parallelism=1,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _make_png()
    before = machine_info()
    with tempfile.TemporaryDirectory(prefix="bazaar-bench-listings-") as tmp_dir:
        tmp = Path(tmp_dir)
        url = fresh_database(args.db, tmp)
        engine = create_db_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        container = build(
            settings_for(url, tmp, args),
            http_client=httpx.Client(transport=httpx.MockTransport(image_host)),
            resolve=lambda host, port: ["93.184.216.34"],
        )
        try:
            engine_name = container.db.dialect
            log(f"{engine_name}: catalog of {args.catalog:,} products, feed of {args.rows:,} rows")
            _, seller = set_up(container, args)
            data = "".join(json.dumps(r) + "\n" for r in feed_rows(args)).encode()
            container.listing_feeds.submit(seller, data, FeedFormat.JSONL)

            _, import_s = timed(container.listing_workers.feeds.drain)
            cpu0 = time.process_time()
            validated, validate_s = timed(lambda: validate_with_runners(container, url, tmp, args))
            validate_cpu_s = time.process_time() - cpu0
            states = outcomes(container)
            publish_s = None
            if args.publish:
                _, publish_s = timed(lambda: container.dispatcher.drain(max_passes=10**6))
            baseline_n, baseline_s = pure_baseline(container, seller)
            host_images_per_s = image_host_alone()
        finally:
            container.close()
    results = {
        "engine": engine_name,
        "rows": args.rows,
        "import_rows_per_s": args.rows / import_s,
        "validation_rows_per_s": validated / validate_s,
        # this process only: with --runners > 1 the work is in the workers, and on
        # PostgreSQL the server's share is not counted
        "validation_rows_per_cpu_s": validated / validate_cpu_s if args.runners <= 1 else None,
        "end_to_end_rows_per_s": args.rows / (import_s + validate_s),
        "baseline_rows_per_s": baseline_n / baseline_s,
        "publish_rows_per_s": (
            (states["approved"] + states["fixed_and_approved"]) / publish_s if publish_s else None
        ),
        "image_host_images_per_s": host_images_per_s,
        "outcomes": dict(states),
    }
    ratio = results["validation_rows_per_s"] / results["baseline_rows_per_s"]
    log("")
    log(f"{'phase':<28}{'rows/s':>12}")
    log(f"{'import (feed -> listings)':<28}{results['import_rows_per_s']:>12,.0f}")
    log(f"{'validation (to outcome)':<28}{results['validation_rows_per_s']:>12,.0f}")
    if results["validation_rows_per_cpu_s"] is not None:
        per_cpu = results["validation_rows_per_cpu_s"]
        log(f"{'  per CPU-second (client)':<28}{per_cpu:>12,.0f}")
    log(f"{'import + validation':<28}{results['end_to_end_rows_per_s']:>12,.0f}")
    if results["publish_rows_per_s"] is not None:
        log(f"{'publishing (approved)':<28}{results['publish_rows_per_s']:>12,.0f}")
    log(f"{'baseline: pure workflow':<28}{results['baseline_rows_per_s']:>12,.0f}")
    log(f"{'ratio validation/baseline':<28}{ratio:>12.2f}x")
    log(f"{'image host alone, images/s':<28}{host_images_per_s:>12,.0f}")
    log(f"outcomes: {dict(states)}")
    target_met = results["validation_rows_per_s"] >= TARGET_ROWS_PER_S
    log(f"target >= {TARGET_ROWS_PER_S:,.0f} rows/s: {'met' if target_met else 'NOT met'}")
    unfinished = sum(
        n for s, n in states.items() if s in (ListingState.SUBMITTED, ListingState.VALIDATING)
    )
    path = write_results(
        SCENARIO,
        {
            "scenario": SCENARIO,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "settings": {k: v for k, v in vars(args).items() if k != "db"}
            | {"engine": engine_name},
            "results": results,
            "ratio": ratio,
            "target_rows_per_s": TARGET_ROWS_PER_S,
            "machine_before": before,
            "machine_after": machine_info(),
        },
    )
    log(f"written to {path}")
    return 0 if unfinished == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
