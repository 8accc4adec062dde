"""Scenario ``checkout_http``: orders per second over HTTP with the built-in test gateway.

For each target (SQLite, PostgreSQL with one uvicorn worker, PostgreSQL with two workers and
a ``bazaar worker`` for events) on a fresh database seeded with ``--offers`` products of
large stock, it measures:

* **flow**: the whole guest flow per order (``POST /api/v1/carts``, ``POST .../items``,
  ``POST /api/v1/orders``), closed loop over ``--connections`` keep-alive connections;
* **place**: ``POST /api/v1/orders`` alone, on carts created beforehand (not measured), one
  offer per cart round-robin so orders do not queue on one stock row, closed loop: the
  maximum orders/s;
* **half rate**: the same at a constant arrival rate of half the measured maximum (open
  loop; latency counted from each order's scheduled time, so a stall is not hidden);
* **hot**: ``place`` with every cart holding the same offer (one contended stock row).

Beside Bazaar, a bare Starlette app answering the same three routes with byte-identical
bodies runs under the same uvicorn; its rates with the same load generator are the
generator's ceiling and the baseline of the ratios. After every phase the run waits until
the outbox is empty, so each phase's CPU figures include the event work its orders caused.
Results: a table, and ``bench/results/checkout_http-<timestamp>.json``.

    .venv/bin/python bench/checkout_http.py [--engine sqlite|postgres|both] [--duration 15]
        [--connections 16] [--orders 3000] [--offers 200] [--pg-workers 1,2] [--no-hot]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import itertools
import json
import math
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from harness import (
    BENCH_DIR,
    LoadResult,
    Server,
    ServerFlags,
    machine_info,
    start_uvicorn,
    stop_server,
    terminate_on_sigterm,
    uvicorn_version,
    wait_ready,
    write_results,
)

SCENARIO = "checkout_http"
HOST = "127.0.0.1"
CARTS = "/api/v1/carts"
ORDERS = "/api/v1/orders"
READY = "/readyz"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
OPERATOR_EMAIL = "bench-operator@bazaar.test"
SKU_PREFIX = "BENCH-"
STOCK = 1_000_000  # per offer: no run sells out
PRICE = 2000  # minor units; one unit is below the free-shipping threshold
ADDRESS = {
    "name": "Anna de Vries",
    "line1": "Keizersgracht 1",
    "postcode": "1015 CJ",
    "city": "Amsterdam",
    "country": "NL",
}
BARE_DIR_ENV = "BENCH_CHECKOUT_BARE_DIR"
IDLE_REUSE_S = 4.0  # uvicorn closes a keep-alive connection idle for 5 s (--timeout-keep-alive)
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

T = TypeVar("T")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- options and targets ----------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One server set-up to measure: a database engine and a number of uvicorn workers."""

    engine: str  # "sqlite" | "postgres"
    workers: int

    @property
    def key(self) -> str:
        return f"{self.engine}-{self.workers}w"

    @property
    def label(self) -> str:
        name = "SQLite" if self.engine == "sqlite" else "PostgreSQL"
        if self.workers == 1:
            return f"{name}, 1 worker (embedded dispatcher)"
        return f"{name}, {self.workers} workers + bazaar worker"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    p.add_argument("--duration", type=float, default=15.0, help="seconds per measured phase")
    p.add_argument("--connections", type=int, default=16, help="closed-loop connections")
    p.add_argument(
        "--orders",
        type=int,
        default=3000,
        help="at most this many carts are created beforehand for each closed-loop placement "
        "phase (3 x the flow's rate x --duration, capped by this); the phase ends early "
        "when they run out",
    )
    p.add_argument("--offers", type=int, default=200, help="products (one offer each) seeded")
    p.add_argument(
        "--pg-workers",
        default="1,2",
        help="uvicorn worker counts to measure on PostgreSQL (comma-separated)",
    )
    p.add_argument(
        "--sqlite-workers",
        default="1",
        help="uvicorn worker counts to measure on SQLite (comma-separated); with more than one, "
        "a bazaar worker process handles the events",
    )
    p.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds per server")
    p.add_argument(
        "--baseline-duration", type=float, default=5.0, help="seconds per baseline phase"
    )
    p.add_argument("--no-hot", action="store_true", help="skip the one-offer (hot SKU) phase")
    p.add_argument(
        "--postgres-url",
        default=os.environ.get("BAZAAR_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="a PostgreSQL database to connect to for creating (and dropping) the bench's",
    )
    p.add_argument(
        "--settle-timeout", type=float, default=180.0, help="max seconds to wait for the outbox"
    )
    p.add_argument("--loop", default="auto", help="uvicorn --loop")
    p.add_argument("--http", default="auto", help="uvicorn --http")
    args = p.parse_args(argv)
    try:
        args.pg_workers = sorted({int(w) for w in args.pg_workers.split(",") if w.strip()})
    except ValueError:
        p.error("--pg-workers: comma-separated integers, e.g. 1,2")
    try:
        args.sqlite_workers = sorted({int(w) for w in args.sqlite_workers.split(",") if w.strip()})
    except ValueError:
        p.error("--sqlite-workers: comma-separated integers, e.g. 1,2")
    if (
        args.duration <= 0
        or args.connections < 1
        or args.orders < 1
        or args.offers < 1
        or not args.pg_workers
        or min(args.pg_workers) < 1
        or not args.sqlite_workers
        or min(args.sqlite_workers) < 1
    ):
        p.error(
            "--duration, --connections, --orders, --offers, --sqlite-workers and --pg-workers"
            " must be positive"
        )
    return args


def targets_of(args: argparse.Namespace) -> list[Target]:
    targets = []
    if args.engine in ("sqlite", "both"):
        targets += [Target("sqlite", w) for w in args.sqlite_workers]
    if args.engine in ("postgres", "both"):
        targets += [Target("postgres", w) for w in args.pg_workers]
    return targets


# --- databases, settings, seeding -------------------------------------------------------------


@contextlib.contextmanager
def fresh_database(engine: str, tmp: Path, admin_url: str) -> Iterator[str]:
    """A new, migrated database; a SQLite file in ``tmp`` or a PostgreSQL database dropped
    at the end."""
    import sqlalchemy as sa

    from bazaar import migrate
    from bazaar.infra.db import create_db_engine

    if engine == "sqlite":
        url = f"sqlite:///{tmp}/bench-{uuid.uuid4().hex[:8]}.db"
        name = None
    else:
        name = f"bazaar_bench_checkout_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        db_engine = create_db_engine(url, pool_size=1)
        migrate.upgrade(db_engine)
        db_engine.dispose()
        yield url
    finally:
        if name is not None:
            admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def bazaar_env(db_url: str, tmp: Path, *, embedded_dispatcher: bool) -> dict[str, str]:
    """The environment of every Bazaar process of a target; stray ``BAZAAR_*`` are dropped."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAZAAR_")}
    env.update(
        BAZAAR_DATABASE_URL=db_url,
        BAZAAR_RATE_LIMIT_PER_MINUTE="0",  # the whole load comes from one address
        BAZAAR_LOG_LEVEL="WARNING",
        BAZAAR_SECRET_KEY=secrets.token_hex(16),
        BAZAAR_MEDIA_DIR=str(tmp / "media"),
        BAZAAR_DISPATCHER_EMBEDDED="true" if embedded_dispatcher else "false",
    )
    return env


def use_environment(env: dict[str, str]) -> None:
    """Make this process read the same settings as the servers."""
    for key in [k for k in os.environ if k.startswith("BAZAAR_")]:
        del os.environ[key]
    os.environ.update({k: v for k, v in env.items() if k.startswith("BAZAAR_")})


def build_container(env: dict[str, str]) -> Any:
    """A container of this process on the target's database (its dispatcher is not started)."""
    use_environment(env)
    from bazaar.bootstrap import build
    from bazaar.config import Settings

    return build(Settings())


def seed_offers(container: Any, count: int) -> list[str]:
    """``count`` active retailer products, one offer each with ``STOCK`` units; offer ids.

    Created through ``CatalogService.create_products``; the outbox is then drained so that
    inventory holds the stock and the server starts with no event work pending.
    """
    import sqlalchemy as sa

    from bazaar.catalog.drafts import CategoryDraft, OfferDraft, ProductDraft
    from bazaar.catalog.model import VariantDraft
    from bazaar.catalog.store import offers, variants
    from bazaar.identity.model import Role
    from bazaar.kernel.money import Money

    password = secrets.token_urlsafe(18)
    container.identity.create_user(None, OPERATOR_EMAIL, password, Role.OPERATOR)
    issued = container.identity.issue_token(OPERATOR_EMAIL, password, HOST)
    operator = container.identity.authenticate(issued.token)
    category = container.taxonomy.create_category(
        operator, CategoryDraft(name="Bench", slug="bench")
    )
    currency = container.settings.currency
    skus = [f"{SKU_PREFIX}{i:05d}" for i in range(count)]
    for batch in _chunks(skus, 100):
        container.catalog.create_products(
            operator,
            [
                ProductDraft(
                    title=f"Bench product {sku}",
                    category=category.id,
                    variants=[VariantDraft(sku)],
                    offers=[OfferDraft(sku, Money(PRICE, currency), stock=STOCK)],
                )
                for sku in batch
            ],
        )
    container.dispatcher.drain(max_passes=100_000)
    with container.db.read() as conn:
        ids = conn.execute(
            sa.select(offers.c.id)
            .join(variants, variants.c.id == offers.c.variant_id)
            .where(variants.c.sku.like(f"{SKU_PREFIX}%"))
            .order_by(variants.c.sku)
        ).scalars()
        return list(ids)


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- HTTP client and load generation ----------------------------------------------------------


class ProtocolError(Exception):
    """An answer this client cannot frame (no Content-Length)."""


class HttpClient:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1, one request at a time.

    Responses are framed by Content-Length, which uvicorn sends for every answer here.
    """

    def __init__(self, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.port = port
        self._reader = reader
        self._writer = writer
        self.last_used = time.perf_counter()

    @property
    def reusable(self) -> bool:
        """False once the server may have closed the idle connection (a request sent on it
        then would fail without being processed)."""
        return time.perf_counter() - self.last_used < IDLE_REUSE_S

    @classmethod
    async def open(cls, port: int) -> HttpClient:
        reader, writer = await asyncio.open_connection(HOST, port)
        return cls(port, reader, writer)

    async def post_json(
        self, path: str, payload: object, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        body = json.dumps(payload, separators=(",", ":")).encode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
        )
        self._writer.write(head.encode() + body)
        raw = await self._reader.readuntil(b"\r\n\r\n")
        status_line, _, rest = raw.decode("latin-1").partition("\r\n")
        length: int | None = None
        for line in rest.split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if length is None:
            raise ProtocolError(f"no Content-Length in the answer to {path}")
        answer = await self._reader.readexactly(length)
        self.last_used = time.perf_counter()
        return int(status_line.split(" ", 2)[1]), answer

    def close(self) -> None:
        self._writer.close()


CLIENT_ERRORS = (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ProtocolError)

Job = Callable[[HttpClient], Awaitable[int]]  # runs one unit of work, returns the last status


@dataclass
class Recorder:
    latencies_s: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0

    def record(self, latency_s: float, status: int) -> None:
        self.latencies_s.append(latency_s)
        self.statuses[status] += 1

    def result(self, elapsed_s: float) -> LoadResult:
        lat = sorted(self.latencies_s)
        n = len(lat)
        return LoadResult(
            requests=n,
            duration_s=elapsed_s,
            rps=n / elapsed_s if elapsed_s > 0 else 0.0,
            p50_ms=percentile(lat, 50) * 1000,
            p90_ms=percentile(lat, 90) * 1000,
            p99_ms=percentile(lat, 99) * 1000,
            mean_ms=sum(lat) / n * 1000 if n else 0.0,
            max_ms=lat[-1] * 1000 if n else 0.0,
            errors=self.errors,
            non_2xx=sum(c for s, c in self.statuses.items() if not 200 <= s < 300),
        )


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[max(0, math.ceil(pct / 100 * len(sorted_values)) - 1)]


async def closed_loop(
    port: int, jobs: Iterator[Job], *, connections: int, duration_s: float
) -> Recorder:
    """``connections`` connections each running jobs back to back until the deadline or
    until ``jobs`` runs out; a job's latency is from its first byte sent to its last read."""
    rec = Recorder()
    deadline = time.perf_counter() + duration_s

    async def connection() -> None:
        client: HttpClient | None = None
        try:
            while time.perf_counter() < deadline:
                job = next(jobs, None)
                if job is None:
                    return
                try:
                    if client is None:
                        client = await HttpClient.open(port)
                    started = time.perf_counter()
                    status = await job(client)
                    rec.record(time.perf_counter() - started, status)
                except CLIENT_ERRORS:
                    rec.errors += 1
                    if client is not None:
                        client.close()
                    client = None
        finally:
            if client is not None:
                client.close()

    await _finish([asyncio.create_task(connection()) for _ in range(connections)], rec)
    return rec


async def _finish(tasks: list[asyncio.Task[None]], rec: Recorder, grace_s: float = 60) -> None:
    """Wait for ``tasks``; those still running ``grace_s`` later are cancelled and count as
    errors (a server that stopped answering must not hang the run)."""
    deadline = time.perf_counter() + grace_s
    pending = {t for t in tasks if not t.done()}
    while pending:
        _, pending = await asyncio.wait(pending, timeout=max(0.0, deadline - time.perf_counter()))
        if time.perf_counter() >= deadline:
            break
    for task in pending:
        task.cancel()
    rec.errors += len(pending)
    await asyncio.gather(*tasks, return_exceptions=True)


async def open_loop(
    port: int, jobs: Sequence[Job], *, rate: float, max_connections: int
) -> Recorder:
    """Start job ``i`` at ``i / rate`` seconds whatever the earlier ones are doing (open
    loop); latency counts from that scheduled time, so queueing in the client counts too."""
    rec = Recorder()
    idle = [await HttpClient.open(port) for _ in range(min(16, max_connections))]
    slots = asyncio.Semaphore(max_connections)

    async def one(job: Job, due: float) -> None:
        async with slots:
            client = None
            while idle and client is None:
                client = idle.pop()
                if not client.reusable:
                    client.close()
                    client = None
            try:
                if client is None:
                    client = await HttpClient.open(port)
                status = await job(client)
            except CLIENT_ERRORS:
                rec.errors += 1
                if client is not None:
                    client.close()
                return
            rec.record(time.perf_counter() - due, status)
            idle.append(client)

    start = time.perf_counter() + 0.05
    tasks = []
    for i, job in enumerate(jobs):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(job, due)))
    try:
        await _finish(tasks, rec)
    finally:
        for client in idle:
            client.close()
    return rec


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on a fresh event loop (uvloop when installed, as the servers use)."""
    factory: Any = None
    if importlib.util.find_spec("uvloop"):
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(coro)


# --- the guest's requests ---------------------------------------------------------------------


@dataclass(frozen=True)
class Cart:
    id: str
    token: str


def order_payload(cart_id: str) -> dict[str, Any]:
    return {
        "cart_id": cart_id,
        "email": "anna@example.com",
        "shipping_address": ADDRESS,
        "payment": {"token": "tok_success"},
    }


async def create_cart(client: HttpClient, offer_id: str) -> tuple[int, Cart | None]:
    """A guest cart holding one unit of ``offer_id``: (last status, the cart if created)."""
    status, body = await client.post_json(CARTS, {"country": "NL"})
    if status != 201:
        return status, None
    created = json.loads(body)
    cart = Cart(created["id"], created["cart_token"])
    status, _ = await client.post_json(
        f"{CARTS}/{cart.id}/items",
        {"offer_id": offer_id, "quantity": 1},
        {"Cart-Token": cart.token},
    )
    return status, cart if status == 201 else None


async def place_order(client: HttpClient, cart: Cart) -> int:
    status, _ = await client.post_json(
        ORDERS,
        order_payload(cart.id),
        {"Cart-Token": cart.token, "Idempotency-Key": str(uuid.uuid4())},
    )
    return status


def placing(carts: Iterable[Cart]) -> Iterator[Job]:
    """One job per cart: place its order."""
    for cart in carts:

        async def job(client: HttpClient, cart: Cart = cart) -> int:
            return await place_order(client, cart)

        yield job


def guest_flows(offer_ids: Sequence[str]) -> Iterator[Job]:
    """Endless jobs, offers round-robin: create a cart, add one unit, place the order."""
    for offer_id in itertools.cycle(offer_ids):

        async def job(client: HttpClient, offer_id: str = offer_id) -> int:
            status, cart = await create_cart(client, offer_id)
            return await place_order(client, cart) if cart is not None else status

        yield job


def make_carts(port: int, offer_ids: Sequence[str], count: int, connections: int) -> list[Cart]:
    """Create ``count`` one-item guest carts over HTTP, offers round-robin (set-up only)."""
    carts: list[Cart] = []

    def jobs() -> Iterator[Job]:
        for offer_id in itertools.islice(itertools.cycle(offer_ids), count):

            async def job(client: HttpClient, offer_id: str = offer_id) -> int:
                status, cart = await create_cart(client, offer_id)
                if cart is not None:
                    carts.append(cart)
                return status

            yield job

    rec = run_async(closed_loop(port, jobs(), connections=connections, duration_s=3600))
    if len(carts) != count:
        raise RuntimeError(
            f"created {len(carts)} of {count} carts: statuses {dict(rec.statuses)}, "
            f"{rec.errors} errors"
        )
    return carts


# --- the baseline app -------------------------------------------------------------------------


def create_baseline_app() -> Any:
    """A bare Starlette app answering the three routes with bodies captured from Bazaar.

    Run as ``uvicorn --app-dir bench --factory checkout_http:create_baseline_app`` with
    ``BENCH_CHECKOUT_BARE_DIR`` holding ``cart.json``, ``item.json`` and ``order.json``. It
    reads each request body, as Bazaar does, and answers 201: its rate is what uvicorn,
    Starlette and the load generator cost, with no Bazaar at all.
    """
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    root = Path(os.environ[BARE_DIR_ENV])
    bodies = {name: (root / f"{name}.json").read_bytes() for name in ("cart", "item", "order")}

    def answer(name: str) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            await request.body()
            return Response(bodies[name], 201, media_type="application/json")

        return endpoint

    async def ready(request: Request) -> Response:
        return Response(b'{"status":"ready"}', media_type="application/json")

    return Starlette(
        routes=[
            Route(CARTS, answer("cart"), methods=["POST"]),
            Route(CARTS + "/{cart_id}/items", answer("item"), methods=["POST"]),
            Route(ORDERS, answer("order"), methods=["POST"]),
            Route(READY, ready),
        ]
    )


def capture_bodies(port: int, offer_id: str, bare_dir: Path) -> None:
    """One real guest flow against Bazaar; its three answers become the baseline's bodies."""

    async def flow() -> None:
        client = await HttpClient.open(port)
        try:
            status, cart_body = await client.post_json(CARTS, {"country": "NL"})
            cart = json.loads(cart_body)
            status_item, item_body = await client.post_json(
                f"{CARTS}/{cart['id']}/items",
                {"offer_id": offer_id, "quantity": 1},
                {"Cart-Token": cart["cart_token"]},
            )
            status_order, order_body = await client.post_json(
                ORDERS,
                order_payload(cart["id"]),
                {"Cart-Token": cart["cart_token"], "Idempotency-Key": str(uuid.uuid4())},
            )
        finally:
            client.close()
        if (status, status_item, status_order) != (201, 201, 201):
            raise RuntimeError(
                f"guest flow answered {status}/{status_item}/{status_order}: {order_body[:300]!r}"
            )
        bare_dir.mkdir(parents=True, exist_ok=True)
        for name, body in (("cart", cart_body), ("item", item_body), ("order", order_body)):
            (bare_dir / f"{name}.json").write_bytes(body)

    run_async(flow())


# --- CPU accounting (Linux /proc) -------------------------------------------------------------


def _proc_stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, user + system CPU seconds) of a process, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, ...
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK_TCK


def cpu_snapshot(root_pids: Sequence[int], db_name: str | None) -> dict[str, dict[int, float]]:
    """CPU seconds so far of the app processes (``root_pids`` and their children) and of the
    PostgreSQL backends serving ``db_name``; empty where /proc is not available."""
    app: dict[int, float] = {}
    db: dict[int, float] = {}
    if not Path("/proc").is_dir():
        return {"app": app, "db": db}
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _proc_stat(int(entry.name))) is not None:
            stats[int(entry.name)] = stat
    for pid, (ppid, cpu) in stats.items():
        if pid in root_pids or ppid in root_pids:
            app[pid] = cpu
        elif db_name is not None:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if cmdline.startswith(b"postgres: ") and f" {db_name} ".encode() in cmdline:
                db[pid] = cpu
    return {"app": app, "db": db}


def cpu_used(
    before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]
) -> dict[str, float]:
    return {
        part: sum(cpu - before[part].get(pid, 0.0) for pid, cpu in after[part].items())
        for part in ("app", "db")
    }


# --- phases -----------------------------------------------------------------------------------


@dataclass
class Phase:
    """One measured load phase against one server."""

    name: str
    load: LoadResult
    statuses: dict[str, int]
    target_rate: float | None = None  # open loop only
    outbox_backlog: int = 0  # pending deliveries when the load stopped
    outbox_drain_s: float = 0.0  # then, until the outbox was empty
    outbox_left: int = 0  # deliveries still waiting when ``--settle-timeout`` ran out
    app_cpu_ms_per_order: float | None = None  # until drained: includes the event work
    db_cpu_ms_per_order: float | None = None  # PostgreSQL backends
    loadgen_cpu_ms_per_order: float = 0.0

    @property
    def ok(self) -> bool:
        """Every request answered 2xx and the outbox drained."""
        return self.load.ok and self.outbox_left == 0


@dataclass
class Running:
    """A started target: its servers, its database and a container on that database."""

    target: Target
    server: Server
    events_worker: Server | None
    container: Any
    db_name: str | None

    def pids(self) -> list[int]:
        procs = [self.server.proc] + ([self.events_worker.proc] if self.events_worker else [])
        return [p.pid for p in procs]

    def check_alive(self) -> None:
        for server in (self.server, self.events_worker):
            if server is not None and server.proc.poll() is not None:
                raise RuntimeError(f"{server.name} died:\n{server.log_tail()}")


def settle_outbox(running: Running, timeout_s: float) -> tuple[int, float, int]:
    """Wait until no delivery is pending or in flight, for at most ``timeout_s``.

    Returns (deliveries waiting at the start, seconds waited, deliveries still waiting). A
    delivery that failed waits out its back-off, so a run that overloaded the server can
    leave some for minutes.
    """
    started = time.perf_counter()
    backlog: int | None = None
    while True:
        stats = running.container.outbox_stats()
        waiting: int = stats.pending + stats.in_flight
        if backlog is None:
            backlog = waiting
        elapsed = time.perf_counter() - started
        if waiting == 0 or elapsed > timeout_s:
            if waiting:
                log(f"  ! the outbox still holds {waiting} deliveries after {timeout_s:g}s")
            return backlog, elapsed, waiting
        running.check_alive()
        time.sleep(0.2)


def measure(
    running: Running,
    name: str,
    load: Callable[[], Recorder],
    *,
    settle_timeout_s: float,
    target_rate: float | None = None,
) -> Phase:
    """Run one load, wait for the outbox to drain, and account the CPU it cost."""
    cpu_before = cpu_snapshot(running.pids(), running.db_name)
    loadgen_before = time.process_time()
    started = time.perf_counter()
    rec = load()
    elapsed = time.perf_counter() - started
    loadgen_cpu = time.process_time() - loadgen_before
    running.check_alive()
    backlog, drain_s, left = settle_outbox(running, settle_timeout_s)
    cpu = cpu_used(cpu_before, cpu_snapshot(running.pids(), running.db_name))
    result = rec.result(elapsed)
    n = max(result.requests, 1)
    phase = Phase(
        name=name,
        load=result,
        statuses={str(s): c for s, c in sorted(rec.statuses.items())},
        target_rate=target_rate,
        outbox_backlog=backlog,
        outbox_drain_s=drain_s,
        outbox_left=left,
        app_cpu_ms_per_order=cpu["app"] / n * 1000 if cpu_before["app"] else None,
        db_cpu_ms_per_order=cpu["db"] / n * 1000 if running.db_name else None,
        loadgen_cpu_ms_per_order=loadgen_cpu / n * 1000,
    )
    flag = "" if phase.ok else f"  ! errors={result.errors} statuses={phase.statuses}"
    log(
        f"  {running.target.key:<12} {name:<10} {result.rps:8.1f}/s  p50 {result.p50_ms:8.1f} ms"
        f"  p99 {result.p99_ms:8.1f} ms  n={result.requests}  outbox {backlog} "
        f"({drain_s:.1f}s){flag}"
    )
    return phase


def start_target(
    target: Target, db_url: str, tmp: Path, flags: ServerFlags, offers: int
) -> tuple[Running, list[str]]:
    """Seed the target's database, then start its servers; (running target, offer ids)."""
    import sqlalchemy as sa

    # One worker runs the dispatcher in-process (``bazaar serve``'s embedded mode); several
    # workers leave events to one ``bazaar worker`` process, as production does.
    embedded = target.workers == 1
    env = bazaar_env(db_url, tmp, embedded_dispatcher=embedded)
    container = build_container(env)
    offer_ids = seed_offers(container, offers)
    server = start_uvicorn(
        target.key,
        "bazaar.http.app:create_app_from_env",
        flags=flags,
        env=env,
        log_dir=tmp,
        workers=target.workers,
    )
    events_worker = None
    if not embedded:
        log_path = tmp / f"{target.key}-events.log"
        with log_path.open("wb") as log_file:
            proc = subprocess.Popen(
                [str(Path(sys.executable).parent / "bazaar"), "worker"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        events_worker = Server(f"{target.key}-events", 0, proc, log_path)
    db_name = sa.make_url(db_url).database if target.engine == "postgres" else None
    running = Running(target, server, events_worker, container, db_name)
    try:
        wait_ready(server, READY)
    except BaseException:
        stop_target(running)
        raise
    return running, offer_ids


def server_log_tails(running: Running, lines: int = 20) -> list[str]:
    """The last lines of the target's server logs, long ones cut in the middle (a JSON log
    line holds a whole traceback: its start names the route, its end the error)."""
    tails = []
    for server in (running.server, running.events_worker):
        if server is None:
            continue
        for line in server.log_tail(lines).splitlines():
            cut = line if len(line) <= 1200 else f"{line[:400]} [...] {line[-800:]}"
            tails.append(f"{server.name}: {cut}")
    return tails


def stop_target(running: Running) -> None:
    for server in (running.server, running.events_worker):
        if server is None:
            continue
        stop_server(server)
        with contextlib.suppress(ProcessLookupError):  # workers left behind by a hard kill
            os.killpg(server.proc.pid, signal.SIGKILL)
    running.container.close()


def idle_cpu_per_s(running: Running, seconds: float = 3.0) -> dict[str, float]:
    """CPU ms per second the target burns with no load (its background loops polling)."""
    before = cpu_snapshot(running.pids(), running.db_name)
    time.sleep(seconds)
    used = cpu_used(before, cpu_snapshot(running.pids(), running.db_name))
    return {part: cpu / seconds * 1000 for part, cpu in used.items()}


def measure_target(
    running: Running,
    offer_ids: list[str],
    args: argparse.Namespace,
    phases: dict[str, Phase],
    idle_cpu: dict[str, float],
) -> None:
    """Run the target's phases in order, adding each to ``phases`` as it completes, and the
    target's idle CPU ms per second to ``idle_cpu``."""
    port = running.server.port
    settle = args.settle_timeout
    conns = args.connections

    def closed(jobs: Iterator[Job]) -> Callable[[], Recorder]:
        return lambda: run_async(
            closed_loop(port, jobs, connections=conns, duration_s=args.duration)
        )

    if args.warmup > 0:
        run_async(
            closed_loop(port, guest_flows(offer_ids), connections=conns, duration_s=args.warmup)
        )
        settle_outbox(running, settle)
    idle_cpu.update(idle_cpu_per_s(running))

    phases["flow"] = measure(
        running, "flow", closed(guest_flows(offer_ids)), settle_timeout_s=settle
    )
    # Placing alone is rarely 3x faster than the whole flow; carts are slow to make.
    count = min(args.orders, max(200, math.ceil(3 * phases["flow"].load.rps * args.duration)))
    setup_conns = min(conns, 8)

    carts = make_carts(port, offer_ids, count, setup_conns)
    phases["place"] = measure(running, "place", closed(placing(carts)), settle_timeout_s=settle)
    if phases["place"].load.duration_s < args.duration * 0.9:
        log(f"  (the {count} carts ran out early: raise --orders for a longer phase)")

    rate = phases["place"].load.rps / 2
    carts = make_carts(port, offer_ids, max(1, round(rate * args.duration)), setup_conns)
    jobs = list(placing(carts))
    phases["half_rate"] = measure(
        running,
        "half rate",
        lambda: run_async(open_loop(port, jobs, rate=rate, max_connections=256)),
        settle_timeout_s=settle,
        target_rate=rate,
    )

    if not args.no_hot:
        carts = make_carts(port, offer_ids[:1], count, setup_conns)
        phases["hot"] = measure(running, "hot SKU", closed(placing(carts)), settle_timeout_s=settle)


def measure_baseline(port: int, args: argparse.Namespace) -> dict[str, LoadResult]:
    """The baseline's rates for the flow and the placement, with this load generator."""
    fake = Cart("crt_baseline", "baseline-token")
    results = {}
    for name, jobs in (
        ("flow", guest_flows(["off_baseline"])),
        ("place", placing(itertools.repeat(fake))),
    ):
        started = time.perf_counter()
        rec = run_async(
            closed_loop(port, jobs, connections=args.connections, duration_s=args.baseline_duration)
        )
        results[name] = rec.result(time.perf_counter() - started)
        log(f"  {'baseline':<12} {name:<10} {results[name].rps:8.0f}/s")
    return results


# --- reporting --------------------------------------------------------------------------------


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def print_report(
    header: list[str],
    targets: list[Target],
    results: dict[str, dict[str, Phase]],
    baselines: dict[str, dict[str, LoadResult]],
    machine: dict[str, Any],
    failures: dict[str, str],
    idle: dict[str, dict[str, float]],
) -> None:
    print()
    for line in header:
        print(line)
    print()
    print(
        f"{'target':<14}{'phase':<11}{'orders/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'vs bare':>9}{'app ms':>8}{'db ms':>7}{'outbox':>8}"
    )
    for target in targets:
        base = baselines.get(target.key, {})
        label = target.key
        for key, phase in results[target.key].items():
            m = phase.load
            if phase.target_rate is not None:
                rate = f"{m.rps:.0f}/{phase.target_rate:.0f}"
                vs = ""
            else:
                rate = f"{m.rps:.1f}"
                bare = base.get("flow" if key == "flow" else "place")
                vs = f"{ratio(m.rps, bare.rps):.4f}x" if bare else ""
            app = f"{phase.app_cpu_ms_per_order:.1f}" if phase.app_cpu_ms_per_order else ""
            db = f"{phase.db_cpu_ms_per_order:.1f}" if phase.db_cpu_ms_per_order else ""
            flag = "" if phase.ok else "  !"
            print(
                f"{label:<14}{phase.name:<11}{rate:>10}{m.p50_ms:9.1f}{m.p99_ms:9.1f}{vs:>9}"
                f"{app:>8}{db:>7}{phase.outbox_backlog:8d}{flag}"
            )
            label = ""
        if base:
            print(
                f"{label:<14}{'bare':<11}flow {base['flow'].rps:,.0f}/s, place "
                f"{base['place'].rps:,.0f}/s (the load generator's ceiling)"
            )
        loads = [machine.get(target.key, {}).get(k, {}).get("loadavg") for k in ("before", "after")]
        shown = ["-" if x is None else " ".join(f"{v:.1f}" for v in x) for x in loads]
        print(f"{'':<14}load average before: {shown[0]}, after: {shown[1]}")
        if idle[target.key]:
            print(
                f"{'':<14}idle CPU: app {idle[target.key]['app']:.0f} ms/s, "
                f"db {idle[target.key]['db']:.0f} ms/s (background loops; in app/db ms)"
            )
        if target.key in failures:
            print(f"{'':<14}FAILED: {failures[target.key].splitlines()[0][:200]}")
    print()
    print("orders/s: closed loop over the connections; half rate: achieved/target rate, open")
    print("loop, latency from each order's scheduled start. vs bare: orders/s / the bare app's")
    print("rate for the same requests and load generator. app / db ms: CPU ms per order of the")
    print("Bazaar processes / the PostgreSQL backends, counted until the outbox drained (event")
    print("work included). outbox: deliveries pending when the load stopped. ! = a request")
    print("failed, answered non-2xx, or the outbox did not drain. Target: >= 200 orders/s.")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    flags = ServerFlags.detect(args.loop, args.http)
    targets = targets_of(args)
    started_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    machine_before = machine_info()
    results: dict[str, dict[str, Phase]] = {t.key: {} for t in targets}
    baselines: dict[str, dict[str, LoadResult]] = {}
    failures: dict[str, str] = {}
    machine: dict[str, Any] = {}
    logs: dict[str, list[str]] = {}  # server log tails of targets where something failed
    idle: dict[str, dict[str, float]] = {t.key: {} for t in targets}

    with terminate_on_sigterm():
        tmp = Path(tempfile.mkdtemp(prefix="bazaar-bench-checkout-"))
        bare: Server | None = None
        try:
            for target in targets:
                log(f"{target.label}: seeding {args.offers} offers ...")
                machine[target.key] = {"before": machine_info()}
                with fresh_database(target.engine, tmp, args.postgres_url) as db_url:
                    running, offer_ids = start_target(target, db_url, tmp, flags, args.offers)
                    try:
                        if bare is None:
                            bare_dir = tmp / "bare"
                            capture_bodies(running.server.port, offer_ids[0], bare_dir)
                            bare = start_uvicorn(
                                "bare",
                                "checkout_http:create_baseline_app",
                                flags=flags,
                                env={**os.environ, BARE_DIR_ENV: str(bare_dir)},
                                log_dir=tmp,
                                app_dir=BENCH_DIR,
                            )
                            wait_ready(bare, READY)
                        baselines[target.key] = measure_baseline(bare.port, args)
                        measure_target(
                            running, offer_ids, args, results[target.key], idle[target.key]
                        )
                    except RuntimeError as exc:  # a collapsed server: keep what was measured
                        log(f"  ! {target.key} failed: {exc}")
                        failures[target.key] = str(exc)
                    finally:
                        stop_target(running)
                        if target.key in failures or not all(
                            p.ok for p in results[target.key].values()
                        ):
                            logs[target.key] = server_log_tails(running)
                machine[target.key]["after"] = machine_info()
        finally:
            if bare is not None:
                stop_server(bare)
            shutil.rmtree(tmp, ignore_errors=True)

    valid = not failures and all(p.ok for phases in results.values() for p in phases.values())
    header = [
        f"{SCENARIO}: orders over HTTP, test gateway (tok_success), uvicorn {uvicorn_version()} "
        f"--loop {flags.loop} --http {flags.http}",
        f"{args.connections} connections, {args.duration:g}s phases, {args.offers} offers "
        f"(hot SKU: 1), asyncio load generator in the bench process; {os.cpu_count()} CPUs",
    ]
    print_report(header, targets, results, baselines, machine, failures, idle)
    if not valid:
        print("WARNING: some phases failed (see !); their figures are not valid.")
    data = {
        "scenario": SCENARIO,
        "started_at": started_at,
        "valid": valid,
        "args": vars(args),
        "servers": {"uvicorn": uvicorn_version(), "loop": flags.loop, "http": flags.http},
        "machine": {"before": machine_before, "after": machine_info()},
        "targets": {
            t.key: {
                "label": t.label,
                "engine": t.engine,
                "workers": t.workers,
                "machine": machine.get(t.key),
                "failure": failures.get(t.key),
                "idle_cpu_ms_per_s": idle[t.key],
                "server_log_tail": logs.get(t.key),
                "baseline": {k: asdict(v) for k, v in baselines.get(t.key, {}).items()},
                "phases": {k: {**asdict(p), "ok": p.ok} for k, p in results[t.key].items()},
            }
            for t in targets
        },
    }
    path = write_results(SCENARIO, data)
    print(f"results: {path.relative_to(BENCH_DIR.parent)}")
    return 0 if valid else 1


if __name__ == "__main__":
    sys.exit(main())
