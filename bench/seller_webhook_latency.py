"""Scenario ``seller_webhook_latency``: from an order's payment to its seller's webhook.

A marketplace seller subscribes to ``FulfillmentCreated`` at a webhook receiver run by this
script (127.0.0.1). Guests then buy the seller's products over HTTP, paid through the
built-in test gateway (``tok_success``), at a steady ``--rate`` (open loop: each order is
placed at its scheduled time, whatever happened to the previous ones). For every order the
script measures, on the same machine's clock:

* **from payment**: the webhook's arrival minus the ``occurred_at`` of the order's events
  (``OrderPaid`` and ``FulfillmentCreated`` are written in the transaction that records the
  payment);
* **from response**: the webhook's arrival minus the moment the ``201`` of
  ``POST /api/v1/orders`` was received;
* **in outbox**, the part of the first spent waiting for the worker: from ``occurred_at`` to
  the start of the delivery's first attempt (read from the outbox after the run).

Bazaar runs as in production: ``bazaar serve`` (uvicorn, 1 worker, the embedded dispatcher
off) and one ``bazaar worker`` process delivering events, on a fresh database per engine
(a SQLite file, or a PostgreSQL database created and dropped by the run). The target is
p95 <= 1 s from payment. Results: a table, and
``bench/results/seller_webhook_latency-<timestamp>.json``.

    .venv/bin/python bench/seller_webhook_latency.py [--engine sqlite|postgres|both]
        [--orders 300] [--rate 2] [--workers 1] [--offers 20] [--poll 0.5]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from harness import (
    BENCH_DIR,
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

SCENARIO = "seller_webhook_latency"
HOST = "127.0.0.1"
READY = "/readyz"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
OPERATOR_EMAIL = "bench-operator@bazaar.test"
SKU_PREFIX = "SELLER-"
STOCK = 1_000_000
PRICE = 2000
TARGET_P95_MS = 1000.0
ADDRESS = {
    "name": "Anna de Vries",
    "line1": "Keizersgracht 1",
    "postcode": "1015 CJ",
    "city": "Amsterdam",
    "country": "NL",
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    p.add_argument("--orders", type=int, default=300, help="orders measured per engine")
    p.add_argument("--rate", type=float, default=2.0, help="orders placed per second")
    p.add_argument("--workers", type=int, default=1, help="bazaar worker processes")
    p.add_argument("--offers", type=int, default=20, help="seller products (one offer each)")
    p.add_argument(
        "--poll",
        type=float,
        default=None,
        help="BAZAAR_DISPATCHER_POLL_S of the worker (default: Bazaar's default, 0.5 s)",
    )
    p.add_argument("--warmup", type=int, default=10, help="orders placed first, not measured")
    p.add_argument("--timeout", type=float, default=60.0, help="max wait for the last webhook")
    p.add_argument(
        "--postgres-url",
        default=os.environ.get("BAZAAR_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="a PostgreSQL database to connect to for creating (and dropping) the bench's",
    )
    p.add_argument("--loop", default="auto", help="uvicorn --loop")
    p.add_argument("--http", default="auto", help="uvicorn --http")
    return p.parse_args(argv)


# --- the webhook receiver ---------------------------------------------------------------------


@dataclass
class Arrival:
    at: float  # time.time() when the request was read
    order_id: str
    occurred_at: float
    signed: bool


@dataclass
class Receiver:
    """A loopback HTTP server recording each ``FulfillmentCreated`` as it arrives."""

    secret: str = ""
    arrivals: dict[str, Arrival] = field(default_factory=dict)
    duplicates: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def start(self) -> str:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                arrived = time.time()
                receiver.record(arrived, self.headers.get("Bazaar-Signature", ""), body)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://{HOST}:{self.server.server_address[1]}/hooks/bazaar"

    def record(self, arrived: float, signature: str, body: bytes) -> None:
        from bazaar.webhooks.signature import verify_signature

        event = json.loads(body)
        if event["type"] != "FulfillmentCreated":
            return
        order_id = event["data"]["order_id"]
        occurred = datetime.fromisoformat(event["occurred_at"]).timestamp()
        signed = verify_signature(self.secret, signature, body)
        with self.lock:
            if order_id in self.arrivals:
                self.duplicates += 1
                return
            self.arrivals[order_id] = Arrival(arrived, order_id, occurred, signed)

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


# --- set-up -----------------------------------------------------------------------------------


@contextlib.contextmanager
def fresh_database(engine: str, tmp: Path, admin_url: str) -> Iterator[str]:
    """A new, migrated database; a SQLite file in ``tmp`` or a PostgreSQL database dropped
    at the end."""
    import sqlalchemy as sa

    from bazaar import migrate
    from bazaar.infra.db import create_db_engine

    name = None
    if engine == "sqlite":
        url = f"sqlite:///{tmp}/bench-{uuid.uuid4().hex[:8]}.db"
    else:
        name = f"bazaar_bench_webhooks_{uuid.uuid4().hex[:10]}"
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


def bazaar_env(db_url: str, tmp: Path, poll_s: float | None) -> dict[str, str]:
    """The environment of every Bazaar process; stray ``BAZAAR_*`` variables are dropped."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAZAAR_")}
    env.update(
        BAZAAR_DATABASE_URL=db_url,
        BAZAAR_RATE_LIMIT_PER_MINUTE="0",
        BAZAAR_LOG_LEVEL="WARNING",
        BAZAAR_SECRET_KEY=secrets.token_hex(16),
        BAZAAR_MEDIA_DIR=str(tmp / "media"),
        BAZAAR_DISPATCHER_EMBEDDED="false",  # events are the worker's job, as in production
        BAZAAR_WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8",  # the receiver is on loopback
    )
    if poll_s is not None:
        env["BAZAAR_DISPATCHER_POLL_S"] = str(poll_s)
    return env


def seed(env: dict[str, str], offers: int, receiver: Receiver, url: str) -> list[str]:
    """A seller with ``offers`` products of large stock and a webhook subscription at
    ``url``; returns the offer ids. Runs in this process on the bench's database."""
    for key in [k for k in os.environ if k.startswith("BAZAAR_")]:
        del os.environ[key]
    os.environ.update({k: v for k, v in env.items() if k.startswith("BAZAAR_")})
    from bazaar.bootstrap import build
    from bazaar.catalog.drafts import CategoryDraft, OfferDraft, ProductDraft
    from bazaar.catalog.model import VariantDraft
    from bazaar.config import Settings
    from bazaar.identity.model import Role
    from bazaar.kernel.money import Money
    from listing_feed import active_seller

    container = build(Settings())
    try:
        password = secrets.token_urlsafe(18)
        container.identity.create_user(None, OPERATOR_EMAIL, password, Role.OPERATOR)
        operator = container.identity.authenticate(
            container.identity.issue_token(OPERATOR_EMAIL, password, HOST).token
        )
        # on file and active: deliveries go only to sellers whose status allows them
        seller_id = active_seller(container)
        container.taxonomy.set_fulfiller(operator, seller_id, "Bench Seller", None)
        seller_email = "bench-seller@bazaar.test"
        container.identity.create_user(None, seller_email, password, Role.SELLER, seller_id)
        seller = container.identity.authenticate(
            container.identity.issue_token(seller_email, password, HOST).token
        )
        sub = container.webhooks.subscribe(seller, url=url, event_types=["FulfillmentCreated"])
        receiver.secret = sub.secret
        category = container.taxonomy.create_category(
            operator, CategoryDraft(name="Bench", slug="bench")
        )
        currency = container.settings.currency
        created = container.catalog.create_products(
            operator,
            [
                ProductDraft(
                    title=f"Seller product {i}",
                    category=category.id,
                    variants=[VariantDraft(f"{SKU_PREFIX}{i:05d}")],
                    offers=[
                        OfferDraft(
                            f"{SKU_PREFIX}{i:05d}",
                            Money(PRICE, currency),
                            stock=STOCK,
                            fulfiller_id=seller_id,
                        )
                    ],
                )
                for i in range(offers)
            ],
        )
        container.dispatcher.drain(max_passes=100_000)  # inventory takes the stock
        return [container.catalog.product_view(p.id, staff=True).offers[0].id for p in created]
    finally:
        container.close()


# --- load -------------------------------------------------------------------------------------


@dataclass
class Placed:
    order_id: str
    responded_at: float  # time.time() when the 201 was read


def make_cart(client: httpx.Client, offer_id: str) -> tuple[str, dict[str, str]]:
    """Create a guest cart with one unit of ``offer_id``; (cart id, its headers)."""
    cart = client.post("/api/v1/carts", json={"country": "NL"})
    cart.raise_for_status()
    headers = {"Cart-Token": cart.json()["cart_token"]}
    cart_id = cart.json()["id"]
    item = client.post(
        f"/api/v1/carts/{cart_id}/items",
        json={"offer_id": offer_id, "quantity": 1},
        headers=headers,
    )
    item.raise_for_status()
    return cart_id, headers


def pay(client: httpx.Client, cart_id: str, headers: dict[str, str]) -> Placed:
    response = client.post(
        "/api/v1/orders",
        json={
            "cart_id": cart_id,
            "email": "anna@example.com",
            "shipping_address": ADDRESS,
            "payment": {"token": "tok_success"},
        },
        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    responded = time.time()
    if response.status_code != 201 or response.json()["status"] != "paid":
        raise RuntimeError(f"order not paid: {response.status_code} {response.text[:300]}")
    return Placed(response.json()["id"], responded)


def run_orders(port: int, offer_ids: list[str], count: int, rate: float) -> list[Placed]:
    """Carts first (not timed), then ``count`` orders paid at ``rate`` per second."""
    base = f"http://{HOST}:{port}"
    local = threading.local()

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=base, timeout=30.0)
        c: httpx.Client = local.client
        return c

    def paying(cart_id: str, headers: dict[str, str]) -> Placed:
        return pay(client(), cart_id, headers)

    workers = max(4, min(32, int(rate) * 2))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        carts = list(
            pool.map(lambda i: make_cart(client(), offer_ids[i % len(offer_ids)]), range(count))
        )
        started = time.monotonic()
        futures = []
        for i, (cart_id, headers) in enumerate(carts):
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(paying, cart_id, headers))
        return [f.result() for f in futures]


def queue_waits(db_url: str) -> dict[str, float]:
    """Order id -> seconds its ``FulfillmentCreated`` waited in the outbox before the worker
    started delivering it (first attempt's ``started_at`` minus the event's ``occurred_at``)."""
    import sqlalchemy as sa

    from bazaar.infra.db import create_db_engine
    from bazaar.infra.outbox import deliveries_table, delivery_attempts_table, events_table

    d, a, e = deliveries_table, delivery_attempts_table, events_table
    query = (
        sa.select(e.c.payload, e.c.occurred_at, a.c.started_at)
        .join(d, d.c.event_id == e.c.id)
        .join(a, a.c.delivery_id == d.c.id)
        .where(e.c.type == "FulfillmentCreated", a.c.attempt == 1)
    )
    engine = create_db_engine(db_url, pool_size=1)
    try:
        with engine.connect() as conn:
            return {
                row.payload["order_id"]: (row.started_at - row.occurred_at).total_seconds()
                for row in conn.execute(query)
            }
    finally:
        engine.dispose()


def wait_for(receiver: Receiver, order_ids: list[str], timeout_s: float) -> int:
    """Wait until every order's webhook arrived; return how many are missing."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with receiver.lock:
            missing = sum(1 for o in order_ids if o not in receiver.arrivals)
        if not missing:
            return 0
        time.sleep(0.05)
    return missing


# --- statistics and report --------------------------------------------------------------------


def percentile(sorted_ms: list[float], pct: float) -> float:
    if not sorted_ms:
        return float("nan")
    rank = max(0, math.ceil(pct / 100 * len(sorted_ms)) - 1)  # nearest rank
    return sorted_ms[rank]


@dataclass
class Summary:
    n: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float

    @classmethod
    def of(cls, values_ms: list[float]) -> Summary:
        v = sorted(values_ms)
        return cls(
            n=len(v),
            p50_ms=percentile(v, 50),
            p95_ms=percentile(v, 95),
            p99_ms=percentile(v, 99),
            max_ms=v[-1] if v else float("nan"),
            mean_ms=sum(v) / len(v) if v else float("nan"),
        )


@dataclass
class EngineResult:
    engine: str
    orders: int
    missing: int
    unsigned: int
    duplicates: int
    from_payment: Summary
    from_response: Summary
    in_outbox: Summary  # of from_payment: waiting for the worker to pick it up
    server_logs: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.orders > 0 and not self.missing and not self.unsigned

    @property
    def meets_target(self) -> bool:
        return self.ok and self.from_payment.p95_ms <= TARGET_P95_MS


def measure_engine(engine: str, args: argparse.Namespace, tmp: Path, flags: ServerFlags) -> Any:
    receiver = Receiver()
    url = receiver.start()
    server: Server | None = None
    workers: list[subprocess.Popen[bytes]] = []
    try:
        with fresh_database(engine, tmp, args.postgres_url) as db_url:
            env = bazaar_env(db_url, tmp, args.poll)
            log(f"{engine}: seeding a seller with {args.offers} products ...")
            offer_ids = seed(env, args.offers, receiver, url)
            server = start_uvicorn(
                f"serve-{engine}",
                "bazaar.http.app:create_app_from_env",
                flags=flags,
                env=env,
                log_dir=tmp,
            )
            worker_log = tmp / f"worker-{engine}.log"
            with worker_log.open("wb") as out:
                workers = [
                    subprocess.Popen(
                        [str(Path(sys.executable).parent / "bazaar"), "worker"],
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                    for _ in range(args.workers)
                ]
            wait_ready(server, READY)
            if args.warmup:
                log(f"{engine}: {args.warmup} warm-up orders ...")
                warm = run_orders(server.port, offer_ids, args.warmup, args.rate)
                wait_for(receiver, [p.order_id for p in warm], args.timeout)
            log(f"{engine}: {args.orders} orders at {args.rate:g}/s ...")
            placed = run_orders(server.port, offer_ids, args.orders, args.rate)
            missing = wait_for(receiver, [p.order_id for p in placed], args.timeout)
            arrivals = [receiver.arrivals.get(p.order_id) for p in placed]
            measured = {p.order_id for p in placed}
            pairs = [(p, a) for p, a in zip(placed, arrivals, strict=True) if a is not None]
            result = EngineResult(
                engine=engine,
                orders=len(placed),
                missing=missing,
                unsigned=sum(1 for _, a in pairs if not a.signed),
                duplicates=receiver.duplicates,
                from_payment=Summary.of([(a.at - a.occurred_at) * 1000 for _, a in pairs]),
                from_response=Summary.of([(a.at - p.responded_at) * 1000 for p, a in pairs]),
                in_outbox=Summary.of(
                    [w * 1000 for o, w in queue_waits(db_url).items() if o in measured]
                ),
            )
            if not result.ok:
                worker_tail = worker_log.read_text(errors="replace").splitlines()[-20:]
                result.server_logs = server.log_tail(20).splitlines() + worker_tail
            return result
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait(timeout=15)
        if server is not None:
            stop_server(server)
        receiver.stop()


def print_report(results: list[EngineResult], args: argparse.Namespace) -> None:
    print(
        f"{SCENARIO}: payment -> seller webhook, bazaar serve (1 worker) + "
        f"{args.workers} bazaar worker, {args.orders} orders at {args.rate:g}/s, "
        f"uvicorn {uvicorn_version()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'engine':<10} {'measured from':<14} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'max ms':>8}  target p95 <= {TARGET_P95_MS:g} ms"
    )
    for r in results:
        rows = (
            ("payment", r.from_payment),
            ("response", r.from_response),
            ("(in outbox)", r.in_outbox),
        )
        for label, s in rows:
            verdict = ""
            if label == "payment":
                verdict = "met" if r.meets_target else "NOT MET"
            print(
                f"{r.engine:<10} {label:<14} {s.n:>5} {s.p50_ms:>8.1f} {s.p95_ms:>8.1f} "
                f"{s.p99_ms:>8.1f} {s.max_ms:>8.1f}  {verdict}"
            )
        if not r.ok:
            print(f"  ! {r.missing} webhooks missing, {r.unsigned} with a bad signature")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    flags = ServerFlags.detect(args.loop, args.http)
    engines = ["sqlite", "postgres"] if args.engine == "both" else [args.engine]
    started_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    results: list[EngineResult] = []
    failures: dict[str, str] = {}
    with terminate_on_sigterm():
        tmp = Path(tempfile.mkdtemp(prefix="bazaar-bench-webhooks-"))
        try:
            for engine in engines:
                try:
                    results.append(measure_engine(engine, args, tmp, flags))
                except Exception as exc:  # keep what other engines measured
                    log(f"  ! {engine} failed: {exc}")
                    failures[engine] = str(exc)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print_report(results, args)
    valid = not failures and all(r.ok for r in results)
    if not valid:
        print("WARNING: some runs failed; their figures are not valid.")
    data = {
        "scenario": SCENARIO,
        "started_at": started_at,
        "valid": valid,
        "args": vars(args),
        "servers": {"uvicorn": uvicorn_version(), "loop": flags.loop, "http": flags.http},
        "machine": machine_info(),
        "failures": failures,
        "results": [{**asdict(r), "meets_target": r.meets_target} for r in results],
    }
    path = write_results(SCENARIO, data)
    print(f"results: {path.relative_to(BENCH_DIR.parent)}")
    return 0 if valid and all(r.meets_target for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
