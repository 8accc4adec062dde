"""Scenario ``listing_prices``: what effective prices add to a 48-product listing page.

The issue's target: effective prices for a 48-product listing page add at most 10 % to
that page's time. In-process, on a temporary SQLite database seeded with ``--products``
synthetic products (the catalog ``bazaar demo --products N`` makes), with the rules of
``bench/pricing_quote.py`` built over the real offers: ``--promotions`` active promotions,
5 price lists (two for customer groups, one per channel, one dated, a third of the offers
each), sale prices on a tenth of the offers and two experiments. The page cache is off:
each call renders what ``GET /api/v1/products?limit=48`` renders on a cache miss (the
search, facets, labels and the JSON), exactly as the route does:

1. ``base``: no pricing at all (what the route did before effective prices);
2. ``guest``: the prices a guest sees (price lists of no group, sales);
3. ``business``: a signed-in customer of the ``business`` group (their price list too)
   assigned to both running experiments, including the statement that reads their group,
   made in the page's own read transaction as the route makes it (their exposures go to a
   no-op log: the real one costs a repeat no statement);
4. ``guest cold`` and ``business cold``: the same pages with nothing kept from an earlier
   one (decoded offers, priced cards), as for products no page has shown since the rules
   or the offers changed, or since the process started.

Calls are interleaved in rounds so a busy spell of the machine hits each alike; it prints
p50 / p99 (wall and thread CPU) and the ratio of each priced page to ``base`` (the figure
the target is about), and writes ``bench/results/listing_prices-<UTC timestamp>.json``.

    .venv/bin/python bench/listing_prices.py
    .venv/bin/python bench/listing_prices.py --runs 600 --products 5000
"""

from __future__ import annotations

import argparse
import gc
import random
import secrets
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from harness import machine_info, write_results
from pricing_quote import Catalogue, Timings, build_rules

SCENARIO = "listing_prices"
TARGET_RATIO = 1.10
PAGE = 48


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--runs", type=int, default=400, help="measured pages of each kind")
    p.add_argument("--rounds", type=int, default=8, help="interleaved rounds the runs split into")
    p.add_argument("--warmup", type=int, default=40, help="unmeasured pages of each kind first")
    p.add_argument("--products", type=int, default=2000, help="products in the catalog")
    p.add_argument("--promotions", type=int, default=200, help="active promotions")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    if min(args.runs, args.rounds, args.promotions) < 1 or args.products < PAGE:
        p.error(f"counts must be positive; --products >= {PAGE}")
    return args


class RealCatalogue(Catalogue):
    """The seeded catalog's offers in the shape ``pricing_quote``'s rule builders take."""

    def __init__(self, rows: list[Any]) -> None:
        self.categories = sorted({r.category_id for r in rows})
        self.brands = sorted({r.brand_id for r in rows if r.brand_id}) or ["brd_none"]
        self.offers = [
            {
                "offer_id": r.id,
                "product_id": r.product_id,
                "category": r.category_id,
                "categories": frozenset({r.category_id}),
                "brand": r.brand_id,
                "seller": r.fulfiller_id,
                "price": r.price_amount,
            }
            for r in rows
        ]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import pricing_quote
    from bazaar.bootstrap import build
    from bazaar.catalog import seeding
    from bazaar.catalog.listing import ListingParams
    from bazaar.catalog.search_schemas import ProductSearchPage
    from bazaar.catalog.store import offers, products
    from bazaar.catalog.synthetic import SyntheticCatalog
    from bazaar.config import Settings
    from bazaar.identity.model import Role
    from bazaar.kernel.clock import FixedClock
    from bazaar.migrate import upgrade
    from bazaar.pricing import admin_store
    from bazaar.pricing.rules import RulesCache
    from bazaar.pricing.shelf import Audience, ShelfPricing
    from bazaar.search.offers import forget_decoded_offers

    before = machine_info()
    with tempfile.TemporaryDirectory(prefix="bazaar-bench-") as tmp:
        settings = Settings(
            database_url=f"sqlite:///{tmp}/bench.db",
            secret_key=secrets.token_hex(16),
            media_dir=Path(tmp) / "media",
            cache_ttl_s=0,
            log_level="WARNING",
            argon2_time_cost=1,
            argon2_memory_kib=1024,
        )
        container = build(settings, clock=FixedClock(pricing_quote.NOW))
        try:
            upgrade(container.db.engine)
            user = container.identity.create_user(
                None, "bench@bazaar.test", "bench-password-1", Role.OPERATOR, None
            )
            token = container.identity.issue_token(user.email, "bench-password-1", "127.0.0.1")
            operator = container.identity.authenticate(token.token)
            synthetic = SyntheticCatalog(args.seed, currency=settings.currency)
            seeding.ensure_synthetic_world(container.db, container.taxonomy, operator, synthetic)
            seeding.load_synthetic_products(
                container.catalog, operator, synthetic, 0, args.products
            )
            container.dispatcher.drain(max_passes=10_000)
            query = sa.select(
                offers.c.id,
                offers.c.product_id,
                offers.c.fulfiller_id,
                offers.c.price_amount,
                products.c.category_id,
                products.c.brand_id,
            ).join(products, products.c.id == offers.c.product_id)
            with container.db.read() as conn:
                rows = list(conn.execute(query.order_by(offers.c.id)))
            with container.db.write() as conn:
                admin_store.insert_group(conn, "business", "Business", pricing_quote.NOW)
                admin_store.set_member(conn, "usr_business", "business", pricing_quote.NOW)
            rules = build_rules(random.Random(args.seed), RealCatalogue(rows), args.promotions)
            cache = RulesCache(container.db, load=lambda conn: rules)
            shelf = ShelfPricing(
                container.db,
                container.clock,
                cache,
                currency=settings.currency,
                channel_id="web",
                log_exposures=lambda unit, exposures, now: None,
            )
            params = ListingParams(limit=PAGE)
            first = container.listing.search(params)
            if len(first.items) != PAGE:
                raise RuntimeError(f"the listing has {len(first.items)} products, not {PAGE}")

            def page(
                audience: Callable[[], Audience] | None, cold: bool = False, shared: bool = False
            ) -> Callable[[], object]:
                def priced() -> object:
                    pricer = shelf.pricer(audience()) if audience is not None else None
                    if cold and pricer is not None:
                        forget_decoded_offers()
                        pricer.memo.clear()
                    listed = container.listing.search(params, pricer)
                    return ProductSearchPage.of(listed).model_dump_json().encode()

                def render() -> object:
                    # a customer's group is read in the page's read transaction, as
                    # bazaar.catalog.priced_pages.priced_json resolves a customer's audience
                    if not shared:
                        return priced()
                    with container.db.reading():
                        return priced()

                return render

            calls = {
                "base": page(None),
                "guest": page(lambda: shelf.audience(None)),
                "business": page(lambda: shelf.audience("usr_business"), shared=True),
                "guest cold": page(lambda: shelf.audience(None), cold=True),
                "business cold": page(
                    lambda: shelf.audience("usr_business"), cold=True, shared=True
                ),
            }
            priced = container.listing.search(params, shelf.pricer(shelf.audience(None)))
            changed = sum(1 for c in priced.prices.values() if c.rule is not None)
            print(
                f"{args.products} products, {len(rows)} offers; {len(rules.promotions)} "
                f"promotions, 5 price lists; a guest's page of {PAGE}: {changed} cards "
                "priced by a rule"
            )
            timings = {name: Timings() for name in calls}
            for call in calls.values():
                for _ in range(args.warmup):
                    call()
            gc.collect()
            gc.freeze()
            for _ in range(args.rounds):
                for name, call in calls.items():
                    timings[name].run(call, max(1, args.runs // args.rounds))
        finally:
            container.close()
    results = {name: t.summary() for name, t in timings.items()}
    print(f"{'page':<15}{'wall p50':>10}{'wall p99':>10}{'cpu p50':>10}{'cpu p99':>10}  (us)")
    for name, f in results.items():
        figures = [f["wall_p50_us"], f["wall_p99_us"], f["cpu_p50_us"], f["cpu_p99_us"]]
        print(f"{name:<15}" + "".join(f"{x:>10.0f}" for x in figures))
    ratios = {
        f"{name} / base, {clock} p50": results[name][f"{clock}_p50_us"]
        / results["base"][f"{clock}_p50_us"]
        for name in calls
        if name != "base"
        for clock in ("wall", "cpu")
    }
    for name, ratio in ratios.items():
        verdict = "meets" if ratio <= TARGET_RATIO else "misses"
        print(f"{name:<33}{ratio:>7.3f}x  {verdict} the {TARGET_RATIO:.2f}x target")
    after = machine_info()
    path = write_results(
        SCENARIO,
        {
            "scenario": SCENARIO,
            "settings": vars(args),
            "machine_before": before,
            "machine_after": after,
            "results": results,
            "ratios": ratios,
            "target_ratio": TARGET_RATIO,
            "measured_at": datetime.now(UTC).isoformat(),
        },
    )
    print(f"load average before {before['loadavg']}, after {after['loadavg']}")
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
