"""Scenario ``http_products``: Bazaar's public catalog reads against a bare Starlette baseline.

Measures requests/s and p50/p99 latency of ``GET /api/v1/products?limit=20`` and
``GET /api/v1/products/{id}`` served by Bazaar, next to a bare Starlette app returning
byte-identical JSON, both under the same uvicorn (1 worker, same loop/http flags, access log
off, log level warning), alternately, in the same run. Prints Bazaar/bare ratios of the
medians and writes everything to ``bench/results/http_products-<timestamp>.json``.

    .venv/bin/python bench/http_products.py [--duration 10] [--connections 32] [--products 500]
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import (
    BENCH_DIR,
    LoadResult,
    Server,
    ServerFlags,
    http_get,
    machine_info,
    median,
    run_python_load,
    run_wrk,
    spread_pct,
    start_uvicorn,
    stop_server,
    terminate_on_sigterm,
    uvicorn_version,
    wait_ready,
    write_results,
    wrk_path,
    wrk_version,
)

SCENARIO = "http_products"
LIST_PATH = "/api/v1/products?limit=20"
OPERATOR_EMAIL = "bench-operator@bazaar.test"

Load = Callable[[int, str, float], LoadResult]


@dataclass(frozen=True)
class Endpoint:
    key: str
    label: str
    path: str


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--duration", type=float, default=10.0, help="seconds per measured run")
    p.add_argument("--connections", type=int, default=32, help="concurrent keep-alive connections")
    p.add_argument("--products", type=int, default=500, help="products seeded in the catalog")
    p.add_argument(
        "--db",
        help="serve a pre-generated catalog (bench/catalog_scale.py, bazaar demo --products N)"
        " at this database URL instead of seeding a temporary one",
    )
    p.add_argument("--seed", type=int, default=1, help="seed of the synthetic products")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds per server")
    p.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per server/endpoint")
    p.add_argument(
        "--loadgen",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="auto: wrk when installed, else the Python fallback",
    )
    p.add_argument("--threads", type=int, default=1, help="wrk threads (keep the server a core)")
    p.add_argument("--loop", default="auto", help="uvicorn --loop for both servers")
    p.add_argument("--http", default="auto", help="uvicorn --http for both servers")
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="BAZAAR_CACHE_TTL_S=0: render every Bazaar response (DB + serialisation)",
    )
    args = p.parse_args(argv)
    if args.duration <= 0 or args.connections < 1 or args.products < 1 or args.rounds < 1:
        p.error("--duration, --connections, --products and --rounds must be positive")
    if args.loadgen == "wrk" and wrk_path() is None:
        p.error("--loadgen wrk: wrk is not installed (apt-get install -y wrk)")
    return args


def venv_bin(name: str) -> Path:
    return Path(sys.executable).parent / name


def bazaar_env(tmp: Path, *, no_cache: bool, db: str | None = None) -> dict[str, str]:
    """The environment for every process of the run; stray ``BAZAAR_*`` settings are dropped."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAZAAR_")}
    env.update(
        BAZAAR_DATABASE_URL=db or f"sqlite:///{tmp}/bench.db",
        BAZAAR_RATE_LIMIT_PER_MINUTE="0",
        BAZAAR_LOG_LEVEL="WARNING",
        BAZAAR_SECRET_KEY=secrets.token_hex(16),
        BAZAAR_MEDIA_DIR=str(tmp / "media"),
    )
    if no_cache:
        env["BAZAAR_CACHE_TTL_S"] = "0"
    if db:
        # A generated catalog leaves event work pending (one stock-projection delivery per
        # product). In production `bazaar worker` processes do it; an API process working
        # through a million of them would measure the dispatcher, not the reads.
        env["BAZAAR_DISPATCHER_EMBEDDED"] = "false"
    return env


def run_cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    exe = venv_bin("bazaar")
    cmd = (
        [str(exe)]
        if exe.exists()
        else [sys.executable, "-c", "from bazaar.cli import main; main()"]
    )
    proc = subprocess.run(
        [*cmd, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )
    if proc.returncode != 0:
        raise RuntimeError(f"bazaar {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout.strip()


def use_environment(env: dict[str, str]) -> None:
    """Make this process read the same settings as the servers (stray BAZAAR_* removed)."""
    for key in [k for k in os.environ if k.startswith("BAZAAR_")]:
        del os.environ[key]
    os.environ.update({k: v for k, v in env.items() if k.startswith("BAZAAR_")})


def seed(env: dict[str, str], products: int, seed: int) -> str:
    """Migrate, create an operator, then a synthetic catalog of ``products`` products.

    The catalog is the one ``bazaar demo --products N`` makes, created in-process through
    ``CatalogService.create_products``; returns the id of the middle product.
    """
    run_cli(env, "migrate")
    password = secrets.token_urlsafe(18)
    run_cli(env, "create-operator", OPERATOR_EMAIL, "--password-stdin", stdin=password + "\n")
    use_environment(env)
    from bazaar.bootstrap import build
    from bazaar.catalog import seeding
    from bazaar.catalog.synthetic import SyntheticCatalog
    from bazaar.config import Settings

    container = build(Settings())
    try:
        issued = container.identity.issue_token(OPERATOR_EMAIL, password, "127.0.0.1")
        operator = container.identity.authenticate(issued.token)
        synthetic = SyntheticCatalog(seed, currency=container.settings.currency)
        seeding.ensure_synthetic_world(container.db, container.taxonomy, operator, synthetic)
        seeding.load_synthetic_products(container.catalog, operator, synthetic, 0, products)
        container.dispatcher.drain(max_passes=10_000)  # an empty outbox: no event work later
        return middle_product(container, synthetic, products)
    finally:
        container.close()


def prepare_existing(env: dict[str, str], seed: int) -> tuple[str, int]:
    """Check a pre-generated catalog (``--db``) and settle its outbox; the middle product.

    Generating a large catalog leaves one pending delivery per event for the catalog's cache
    invalidation handlers (``handler:catalog.invalidate…``). Their only effect would be to
    invalidate caches of a server that has not started yet, but a server working through
    millions of them would invalidate its listing cache all through the run; so they are
    marked delivered here (the only change made to the database). Other pending deliveries
    are left alone and reported; the server runs without the embedded dispatcher.
    """
    use_environment(env)
    import sqlalchemy as sa

    from bazaar.bootstrap import build
    from bazaar.catalog import seeding
    from bazaar.catalog.synthetic import SyntheticCatalog
    from bazaar.config import Settings

    container = build(Settings())
    try:
        synthetic = SyntheticCatalog(seed, currency=container.settings.currency)
        products = seeding.synthetic_products_present(container.db, synthetic)
        if products == 0:
            raise RuntimeError(f"no synthetic products of seed {seed} in that database")
        with container.db.write() as conn:
            settled = conn.execute(
                sa.text(
                    "UPDATE deliveries SET status = 'delivered', delivered_at = :now,"
                    " updated_at = :now WHERE status = 'pending'"
                    " AND subscriber LIKE 'handler:catalog.invalidate%'"
                ),
                {"now": container.clock.now().replace(tzinfo=None)},
            ).rowcount
            others = conn.execute(
                sa.text("SELECT count(*) FROM deliveries WHERE status = 'pending'")
            ).scalar_one()
        log(
            f"  {products:,} products; outbox: {settled:,} cache deliveries settled, "
            f"{others:,} other deliveries pending"
        )
        return middle_product(container, synthetic, products), products
    finally:
        container.close()


def middle_product(container: Any, synthetic: Any, products: int) -> str:
    with container.db.read() as conn:
        import sqlalchemy as sa

        found: str = conn.execute(
            sa.text("SELECT product_id FROM variants WHERE sku = :sku"),
            {"sku": synthetic.sku(products // 2, 0)},
        ).scalar_one()
    return found


def capture_bodies(bazaar: Server, endpoints: list[Endpoint], bare_dir: Path) -> dict[str, Any]:
    """Fetch each document from Bazaar and store it for the bare app; return response facts."""
    (bare_dir / "products").mkdir(parents=True)
    facts: dict[str, Any] = {}
    for ep in endpoints:
        status, headers, body = http_get(bazaar.port, ep.path)
        if status != 200:
            raise RuntimeError(f"Bazaar answered {status} to {ep.path}: {body[:300]!r}")
        if ep.key == "list":
            (bare_dir / "list.json").write_bytes(body)
        else:
            product_id = ep.path.rsplit("/", 1)[1]
            (bare_dir / "products" / f"{product_id}.json").write_bytes(body)
        facts[ep.key] = {"body_bytes": len(body), "bazaar_headers": headers}
    return facts


def verify_identical(
    bazaar: Server, bare: Server, endpoints: list[Endpoint], facts: dict[str, Any]
) -> None:
    for ep in endpoints:
        s1, _, b1 = http_get(bazaar.port, ep.path)
        s2, h2, b2 = http_get(bare.port, ep.path)
        if (s1, s2) != (200, 200) or b1 != b2:
            raise RuntimeError(f"{ep.path}: Bazaar and bare answers differ ({s1} vs {s2})")
        facts[ep.key]["bare_headers"] = h2


def make_load(args: argparse.Namespace, loadgen: str, work_dir: Path) -> Load:
    if loadgen == "wrk":
        return lambda port, path, duration: run_wrk(
            port,
            path,
            duration_s=duration,
            connections=args.connections,
            threads=args.threads,
            work_dir=work_dir,
        )
    return lambda port, path, duration: run_python_load(
        port, path, duration_s=duration, connections=args.connections
    )


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def measure(
    args: argparse.Namespace, load: Load, servers: dict[str, Server], endpoints: list[Endpoint]
) -> dict[str, dict[str, list[LoadResult]]]:
    """Warm up, then alternate bare and Bazaar ``rounds`` times per endpoint."""
    runs: dict[str, dict[str, list[LoadResult]]] = {}
    for ep in endpoints:
        runs[ep.key] = {name: [] for name in servers}
        for server in servers.values():
            if args.warmup > 0:
                load(server.port, ep.path, args.warmup)
        for r in range(args.rounds):
            order = ["bare", "bazaar"] if r % 2 == 0 else ["bazaar", "bare"]
            for name in order:
                server = servers[name]
                result = load(server.port, ep.path, args.duration)
                if server.proc.poll() is not None:
                    raise RuntimeError(f"{name} died:\n{server.log_tail()}")
                if result.requests == 0:
                    raise RuntimeError(f"{name}: no request completed on {ep.path}")
                runs[ep.key][name].append(result)
                flag = "" if result.ok else f"  ! errors={result.errors} non2xx={result.non_2xx}"
                log(
                    f"  {ep.key:<7} round {r + 1}/{args.rounds}  {name:<6} "
                    f"{result.rps:>9,.0f} req/s  p50 {result.p50_ms:7.2f} ms  "
                    f"p99 {result.p99_ms:7.2f} ms{flag}"
                )
                time.sleep(0.5)
    return runs


def summarise(runs: list[LoadResult]) -> dict[str, float]:
    return {
        "rps": median([r.rps for r in runs]),
        "p50_ms": median([r.p50_ms for r in runs]),
        "p99_ms": median([r.p99_ms for r in runs]),
        "rps_spread_pct": spread_pct([r.rps for r in runs]),
    }


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def print_table(header: list[str], endpoints: list[Endpoint], summary: dict[str, Any]) -> None:
    width = max(len(ep.label) for ep in endpoints)
    print()
    for line in header:
        print(line)
    print()
    print(
        f"{'endpoint':<{width}}  {'server':<8}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}"
        f"{'spread':>9}"
    )
    for ep in endpoints:
        s = summary[ep.key]
        label = ep.label
        for name in ("bare", "bazaar"):
            m = s[name]
            print(
                f"{label:<{width}}  {name:<8}{m['rps']:>10,.0f}{m['p50_ms']:>10.2f}"
                f"{m['p99_ms']:>10.2f}{m['rps_spread_pct']:>8.0f}%"
            )
            label = ""
        q = s["ratio"]
        print(
            f"{'':<{width}}  {'ratio':<8}{q['rps']:>9.2f}x{q['p50_ms']:>9.2f}x{q['p99_ms']:>9.2f}x"
        )
    print()
    print("ratio = Bazaar / bare, from the medians: req/s below 1 and latency above 1 are")
    print("Bazaar's overhead. spread = (max - min) / median of req/s over the rounds.")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    loadgen = args.loadgen
    if loadgen == "auto":
        loadgen = "wrk" if wrk_path() else "python"
    flags = ServerFlags.detect(args.loop, args.http)
    started_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    machine_before = machine_info()

    with terminate_on_sigterm():
        tmp = Path(tempfile.mkdtemp(prefix="bazaar-bench-"))
        servers: dict[str, Server] = {}
        try:
            env = bazaar_env(tmp, no_cache=args.no_cache, db=args.db)
            t0 = time.monotonic()
            if args.db:
                log(f"using the catalog at {args.db} ...")
                product_id, args.products = prepare_existing(env, args.seed)
            else:
                log(f"seeding {args.products} products in {tmp} ...")
                product_id = seed(env, args.products, args.seed)
            log(f"  ready in {time.monotonic() - t0:.1f}s")
            endpoints = [
                Endpoint("list", "GET /api/v1/products?limit=20", LIST_PATH),
                Endpoint("product", "GET /api/v1/products/{id}", f"/api/v1/products/{product_id}"),
            ]

            log(
                f"starting servers (uvicorn {uvicorn_version()}, --loop {flags.loop} "
                f"--http {flags.http}) ..."
            )
            servers["bazaar"] = start_uvicorn(
                "bazaar", "bazaar.http.app:create_app_from_env", flags=flags, env=env, log_dir=tmp
            )
            wait_ready(servers["bazaar"], LIST_PATH)
            bare_dir = tmp / "bare"
            facts = capture_bodies(servers["bazaar"], endpoints, bare_dir)
            servers["bare"] = start_uvicorn(
                "bare",
                "bare_app:create_app",
                flags=flags,
                env={**env, "BENCH_BARE_DIR": str(bare_dir)},
                log_dir=tmp,
                app_dir=BENCH_DIR,
            )
            wait_ready(servers["bare"], LIST_PATH)
            verify_identical(servers["bazaar"], servers["bare"], endpoints, facts)

            lg_desc = (
                f"wrk {wrk_version()} ({args.threads} thread{'s' if args.threads > 1 else ''})"
                if loadgen == "wrk"
                else "python asyncio fallback (wrk not used; may understate fast servers)"
            )
            log(
                f"load generator: {lg_desc}; {args.connections} connections, "
                f"{args.duration:g}s x {args.rounds} rounds per server, warm-up {args.warmup:g}s"
            )
            ordered = {"bare": servers["bare"], "bazaar": servers["bazaar"]}
            runs = measure(args, make_load(args, loadgen, tmp), ordered, endpoints)
        finally:
            for server in servers.values():
                stop_server(server)
            shutil.rmtree(tmp, ignore_errors=True)

    summary: dict[str, Any] = {}
    valid = True
    for ep in endpoints:
        bare_m = summarise(runs[ep.key]["bare"])
        baz_m = summarise(runs[ep.key]["bazaar"])
        summary[ep.key] = {
            "bare": bare_m,
            "bazaar": baz_m,
            "ratio": {
                "rps": ratio(baz_m["rps"], bare_m["rps"]),
                "p50_ms": ratio(baz_m["p50_ms"], bare_m["p50_ms"]),
                "p99_ms": ratio(baz_m["p99_ms"], bare_m["p99_ms"]),
            },
        }
        valid = valid and all(r.ok for rs in runs[ep.key].values() for r in rs)

    header = [
        f"{SCENARIO}: Bazaar vs bare Starlette (byte-identical JSON), uvicorn {uvicorn_version()}, "
        f"1 worker, --loop {flags.loop} --http {flags.http}"
        + (", Bazaar page cache OFF" if args.no_cache else ""),
        f"load: {lg_desc}, {args.connections} connections, {args.duration:g}s x {args.rounds} "
        f"interleaved rounds, medians; {args.products} products; "
        f"{os.cpu_count()} CPUs, loadavg {machine_before['loadavg']}",
    ]
    print_table(header, endpoints, summary)
    if not valid:
        print("WARNING: some runs had errors or non-2xx answers; the figures are not valid.")

    data = {
        "scenario": SCENARIO,
        "started_at": started_at,
        "valid": valid,
        "args": vars(args),
        "loadgen": {
            "name": loadgen,
            "version": wrk_version() if loadgen == "wrk" else sys.version.split()[0],
            "threads": args.threads if loadgen == "wrk" else 1,
        },
        "servers": {
            "uvicorn": uvicorn_version(),
            "workers": 1,
            "loop": flags.loop,
            "http": flags.http,
            "bazaar_cache": not args.no_cache,
        },
        "machine": {"before": machine_before, "after": machine_info()},
        "endpoints": {
            ep.key: {
                "label": ep.label,
                "path": ep.path,
                **facts[ep.key],
                "runs": {name: runs[ep.key][name] for name in ("bare", "bazaar")},
                **summary[ep.key],
            }
            for ep in endpoints
        },
    }
    path = write_results(SCENARIO, data)
    print(f"results: {path.relative_to(BENCH_DIR.parent)}")
    return 0 if valid else 1


if __name__ == "__main__":
    sys.exit(main())
