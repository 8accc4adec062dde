"""Scenario ``checkout_turns``: how long a placement holds SQLite's write lock, in-process.

One SQLite database allows one writer at a time, so on SQLite the orders/s of
``checkout_http`` can never exceed one over the time an order spends inside write
transactions. This scenario measures that time without HTTP, threads or other load: it
seeds the ``checkout_http`` shop (200 offers) in a temporary SQLite file, makes ``--orders``
guest carts, then places the orders one after another in this process exactly as the
route does (``open_order``, then ``pay_order`` rendering the response), and finally runs
their event handlers (``dispatcher.drain``).

    .venv/bin/python bench/checkout_turns.py
    .venv/bin/python bench/checkout_turns.py --orders 1000

It reports, per order: CPU ms of the placement and of its events; each kind of write
transaction (named by the functions that opened it) with its count and milliseconds held,
from the moment this process's write turn is granted until it is released; and the SQL
statements of the placement with their driver time (``after_cursor_execute`` minus
``before_cursor_execute``) and ``COMMIT`` percentiles. The write turn is timed by wrapping
``Database.writer`` in this process only; nothing of Bazaar is changed.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, default

import checkout_http as shop
from bazaar import migrate
from bazaar.infra import db as bazaar_db
from bazaar.infra.db import create_db_engine
from harness import machine_info, write_results

SCENARIO = "checkout_turns"
WARMUP = 50  # orders placed before measuring: caches, statement compilation


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--orders", type=int, default=400, help="orders measured")
    return p.parse_args(argv)


class Timers:
    """Write turns by opener, statements by text, commits: seconds and counts."""

    def __init__(self) -> None:
        self.on = False
        self.turns: defaultdict[str, list[float]] = defaultdict(list)
        self.statements: defaultdict[str, list[float]] = defaultdict(list)
        self._started: dict[int, float] = {}

    def reset(self) -> None:
        self.turns.clear()
        self.statements.clear()

    def turn(self, opener: str, held_s: float) -> None:
        if self.on:
            self.turns[opener].append(held_s)

    def before(self, conn: Connection, *_: Any) -> None:
        self._started[id(conn)] = time.perf_counter()

    def after(self, conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if self.on:
            key = re.sub(r"\s+", " ", statement)[:90]
            self.statements[key].append(time.perf_counter() - self._started[id(conn)])


def _opener(frame: FrameType | None) -> str:
    """The two innermost Bazaar functions outside the database plumbing that asked to write."""
    names: list[str] = []
    plumbing = ""  # the first of it, for a write the plumbing makes itself (the dispatcher)
    while frame is not None and len(names) < 2:
        path = frame.f_code.co_filename
        if "/bazaar/" in path and "/infra/" not in path and "/kernel/uow" not in path:
            names.append(frame.f_code.co_name)
        elif "/bazaar/infra/" in path and not plumbing and "/infra/db.py" not in path:
            plumbing = f"{Path(path).stem}.{frame.f_code.co_name}"
        frame = frame.f_back
    return " < ".join(names) or plumbing or "?"


def instrument(timers: Timers) -> None:
    writer = bazaar_db.Database.writer

    @contextmanager
    def timed_writer(self: bazaar_db.Database) -> Iterator[Connection]:
        opener = _opener(sys._getframe(2))
        with writer(self) as conn:
            granted = time.perf_counter()
            try:
                yield conn
            finally:
                timers.turn(opener, time.perf_counter() - granted)

    bazaar_db.Database.writer = timed_writer  # type: ignore[method-assign]
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", timers.before)
    sa.event.listen(sa.engine.Engine, "after_cursor_execute", timers.after)
    commit = default.DefaultDialect.do_commit

    def timed_commit(dialect: default.DefaultDialect, dbapi_connection: Any) -> None:
        started = time.perf_counter()
        commit(dialect, dbapi_connection)
        if timers.on:
            timers.statements["COMMIT"].append(time.perf_counter() - started)

    default.DefaultDialect.do_commit = timed_commit  # type: ignore[method-assign]


def cpu_ms_each(run: Callable[[], None], n: int) -> float:
    started = time.process_time()
    run()
    return 1000 * (time.process_time() - started) / n


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from bazaar.checkout.api import _render, _scope
    from bazaar.checkout.schemas import OrderCreate
    from bazaar.infra.idempotency import KeyToClaim, fingerprint

    tmp = Path(tempfile.mkdtemp(prefix="bazaar-turns-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    engine = create_db_engine(url)
    migrate.upgrade(engine, "head")
    engine.dispose()
    env = shop.bazaar_env(url, tmp, embedded_dispatcher=False)
    container = shop.build_container(env)
    offers = shop.seed_offers(container, 200)
    carts = []
    for i in range(WARMUP + args.orders):
        view = container.carts.create_cart(None, "NL")
        container.carts.add_item(None, view.token, view.cart.id, offers[i % len(offers)], 1)
        carts.append(view)

    def place(view: Any) -> None:
        body = OrderCreate.model_validate(shop.order_payload(view.cart.id))
        claim = KeyToClaim(
            _scope(None, view.cart.id),
            str(uuid.uuid4()),
            fingerprint(body.model_dump(mode="json")),
        )
        opened = container.checkout.open_order(None, view.token, body.to_draft(), claim)
        container.checkout.pay_order(opened, _render)

    timers = Timers()
    instrument(timers)
    for view in carts[:WARMUP]:
        place(view)
    container.dispatcher.drain(max_passes=100_000)

    n = args.orders
    timers.on = True

    def place_all() -> None:
        for view in carts[WARMUP:]:
            place(view)

    def drain() -> None:
        container.dispatcher.drain(max_passes=100_000)

    place_ms = cpu_ms_each(place_all, n)
    statements = {k: list(v) for k, v in timers.statements.items()}
    events_ms = cpu_ms_each(drain, n)
    timers.on = False

    print(f"{SCENARIO}: {n} orders in one thread on SQLite; {machine_info()['cpu_count']} CPUs")
    print(f"CPU ms/order: placement {place_ms:.2f}, its events {events_ms:.2f}")
    print("\nwrite transactions (ms held per transaction, per order):")
    turns = sorted(timers.turns.items(), key=lambda kv: -sum(kv[1]))
    for opener, held in turns:
        print(f"  {len(held) / n:5.2f}/order {1000 * sum(held) / len(held):7.3f} ms  {opener}")
    held_ms = 1000 * sum(sum(h) for h in timers.turns.values()) / n
    print(f"  total held {held_ms:.2f} ms/order: at most {1000 / held_ms:.0f} orders/s")
    sql_ms = 1000 * sum(sum(v) for v in statements.values()) / n
    count = sum(len(v) for k, v in statements.items() if k != "COMMIT") / n
    print(f"\nplacement SQL: {count:.1f} statements/order, {sql_ms:.2f} ms/order with commits")
    for key, times in sorted(statements.items(), key=lambda kv: -sum(kv[1]))[:12]:
        print(f"  {len(times) / n:5.2f}/order {1e6 * sum(times) / len(times):7.1f} us  {key}")
    commits = sorted(statements.get("COMMIT", [0.0]))
    pct = " / ".join(f"{1e6 * commits[int(q * (len(commits) - 1))]:.0f}" for q in (0.5, 0.9, 0.99))
    slowest = sum(commits[-max(1, len(commits) // 100) :]) / (sum(commits) or 1)
    print(f"  COMMIT p50 / p90 / p99 us: {pct}; the slowest 1 % take {100 * slowest:.0f} % of it")
    path = write_results(
        SCENARIO,
        {
            "orders": n,
            "machine": machine_info(),
            "cpu_ms_per_order": {"placement": place_ms, "events": events_ms},
            "turns_ms": {k: [len(v), 1000 * sum(v)] for k, v in timers.turns.items()},
            "statements_us": {k: [len(v), 1e6 * sum(v)] for k, v in statements.items()},
        },
    )
    print(f"results: {path}")
    container.db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
