"""Inventory on real databases: holds for orders, concurrency, expiry, feeds, stock events.

Every test runs on SQLite and on PostgreSQL (the ``container`` fixture).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, cast

import pytest
import sqlalchemy as sa

from bazaar import migrate
from bazaar.bootstrap import Container
from bazaar.catalog.drafts import OfferPatch
from bazaar.identity.model import Principal, Role
from bazaar.infra.db import create_db_engine
from bazaar.infra.outbox import events_table
from bazaar.inventory import hold_store, store
from bazaar.inventory.allocation import Allocation, AllocationLine, InsufficientStock
from bazaar.inventory.drafts import WarehouseDraft
from bazaar.inventory.model import RETAILER, HoldReleased, StockLevel, Warehouse
from bazaar.inventory.sync import SyncItem, SyncOutcome
from bazaar.kernel.errors import Conflict, NotFound
from bazaar.kernel.events import Actor
from bazaar.kernel.ids import new_id
from tests.support.factories import T0, Account, make_product

TEST_ACTOR = Actor.system("test")


# --- factories -------------------------------------------------------------------------------


def warehouse(
    container: Container,
    operator: Account,
    owner: str = RETAILER,
    *,
    country: str = "NL",
    priority: int = 0,
) -> Warehouse:
    draft = WarehouseDraft(f"{owner} {country} {priority}", owner, country, priority)
    return container.inventory.create_warehouse(operator.principal, draft)


def stocked(container: Container, operator: Account, sku: str, w: Warehouse, n: int) -> None:
    container.inventory.set_stock(operator.principal, sku, w.id, n)


def line(sku: str, quantity: int, fulfiller: str = RETAILER, line_id: str = "") -> AllocationLine:
    return AllocationLine(line_id or f"line-{sku}", sku, quantity, fulfiller)


def reserve(
    container: Container,
    order_id: str,
    lines: Sequence[AllocationLine],
    *,
    country: str = "NL",
    at: Any = T0,
) -> Allocation:
    with container.uow(TEST_ACTOR) as uow:
        held = container.inventory.reserve(
            uow, order_id, lines, destination_country=country, now=at
        )
        uow.commit()
    return held.allocation


def level(container: Container, sku: str, w: Warehouse) -> StockLevel:
    with container.db.read() as conn:
        [found] = store.levels(conn, [sku], [w.id])
    return found


def events(container: Container, *types: str) -> list[dict[str, Any]]:
    query = sa.select(events_table.c.type, events_table.c.payload).order_by(events_table.c.id)
    with container.db.read() as conn:
        rows = conn.execute(query).all()
    return [{"type": t, **cast(dict[str, Any], p)} for t, p in rows if not types or t in types]


def partner(container: Container, operator: Account, scopes: list[str]) -> Principal:
    partner_id = new_id("prt")
    issued = container.identity.create_api_key(
        operator.principal,
        name="wms",
        scopes=scopes,
        owner_type=Role.PARTNER,
        owner_id=partner_id,
    )
    return container.identity.authenticate(issued.secret)


def feed(sku: str, w: Warehouse, **fields: Any) -> SyncItem:
    return SyncItem(sku=sku, warehouse_id=w.id, **fields)


# --- reserving -------------------------------------------------------------------------------


def test_a_reservation_holds_the_units_of_the_chosen_warehouses(
    container: Container, operator: Account
) -> None:
    # given the retailer's NL and DE warehouses, NL ranked first
    nl = warehouse(container, operator, country="NL", priority=0)
    de = warehouse(container, operator, country="DE", priority=1)
    stocked(container, operator, "TEE-1", nl, 5)
    stocked(container, operator, "TEE-1", de, 5)

    # when an order shipping to Germany reserves 3
    allocation = reserve(container, "ord_1", [line("TEE-1", 3)], country="DE")

    # then the domestic warehouse holds them, whatever its rank
    assert [(d.warehouse_id, d.quantity) for d in allocation.draws()] == [(de.id, 3)]
    assert (level(container, "TEE-1", de).reserved, level(container, "TEE-1", nl).reserved) == (
        3,
        0,
    )
    [reserved] = events(container, "StockReserved")
    assert reserved["order_id"] == "ord_1"
    assert reserved["units"] == [{"sku": "TEE-1", "warehouse_id": de.id, "quantity": 3}]
    changed = events(container, "StockChanged")[-1]
    assert (changed["old_available"], changed["new_available"]) == (10, 7)


def test_a_short_line_reserves_nothing_and_rolls_back_the_callers_work(
    container: Container, operator: Account
) -> None:
    # given one SKU in stock and one nearly sold out
    w = warehouse(container, operator)
    stocked(container, operator, "MUG-1", w, 10)
    stocked(container, operator, "MUG-2", w, 1)
    before = len(events(container))

    # when checkout's unit of work reserves too much of MUG-2
    lines = [line("MUG-1", 2, line_id="a"), line("MUG-2", 2, line_id="b")]
    with pytest.raises(InsufficientStock) as caught:
        reserve(container, "ord_1", lines)

    # then the error names the short line, and nothing was held or recorded
    assert [e.field for e in caught.value.errors] == ["lines[1].quantity"]
    assert caught.value.skus == ("MUG-2",)
    assert (level(container, "MUG-1", w).reserved, level(container, "MUG-2", w).reserved) == (0, 0)
    assert len(events(container)) == before
    with container.db.read() as conn:
        assert hold_store.reservations_of_order(conn, "ord_1") == []


def test_a_second_reservation_for_the_same_order_is_a_conflict(
    container: Container, operator: Account
) -> None:
    w = warehouse(container, operator)
    stocked(container, operator, "CAP-1", w, 10)
    reserve(container, "ord_1", [line("CAP-1", 1)])
    with pytest.raises(Conflict) as caught:
        reserve(container, "ord_1", [line("CAP-1", 1)])
    assert caught.value.errors[0].code == "already_reserved"
    assert level(container, "CAP-1", w).reserved == 1


def test_two_hundred_concurrent_checkouts_never_oversell(
    container: Container, operator: Account
) -> None:
    # given 10 units of one SKU
    w = warehouse(container, operator)
    stocked(container, operator, "HOT-1", w, 10)
    threads = 200
    start = threading.Barrier(threads)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def checkout(n: int) -> None:
        start.wait()
        try:
            reserve(container, f"ord_{n:03d}", [line("HOT-1", 1)])
            outcome = "reserved"
        except InsufficientStock:
            outcome = "sold_out"
        except Exception as exc:  # anything else fails the test below, with its name
            outcome = type(exc).__name__
        with lock:
            outcomes[outcome] += 1

    # when 200 threads each reserve 1 unit in their own unit of work, all at once
    workers = [threading.Thread(target=checkout, args=(n,)) for n in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()

    # then exactly 10 succeed and every other one is told the SKU is sold out
    assert outcomes == Counter(reserved=10, sold_out=190)
    final = level(container, "HOT-1", w)
    assert (final.on_hand, final.reserved, final.allocated, final.available) == (10, 10, 0, 0)
    assert final.on_hand == final.reserved + final.allocated + final.available
    with container.db.read() as conn:
        held = conn.execute(
            sa.select(sa.func.count(), sa.func.sum(store.stock_reservations.c.quantity))
        ).one()
    assert tuple(held) == (10, 10)


# --- allocating, releasing, shipping ---------------------------------------------------------


def test_payment_allocates_the_reserved_units_once(container: Container, operator: Account) -> None:
    w = warehouse(container, operator)
    stocked(container, operator, "BAG-1", w, 5)
    reserve(container, "ord_1", [line("BAG-1", 2)])

    # when payment allocates twice (a replayed confirmation)
    for _ in range(2):
        with container.uow(TEST_ACTOR) as uow:
            container.inventory.allocate(uow, "ord_1")
            uow.commit()

    # then the units moved from reserved to allocated once; available did not change
    got = level(container, "BAG-1", w)
    assert (got.on_hand, got.reserved, got.allocated, got.available) == (5, 0, 2, 3)
    assert len(events(container, "StockAllocated")) == 1


def test_release_gives_back_reserved_and_unshipped_allocated_units_once(
    container: Container, operator: Account
) -> None:
    # given one paid order (allocated) and one unpaid (reserved)
    w = warehouse(container, operator)
    stocked(container, operator, "PAN-1", w, 10)
    reserve(container, "ord_paid", [line("PAN-1", 3)])
    reserve(container, "ord_unpaid", [line("PAN-1", 2)])
    with container.uow(TEST_ACTOR) as uow:
        container.inventory.allocate(uow, "ord_paid")
        uow.commit()

    # when both are released, twice
    def release(order_id: str) -> int:
        with container.uow(TEST_ACTOR) as uow:
            units = container.inventory.release(uow, order_id, reason="cancelled")
            uow.commit()
        return units

    first = [release("ord_paid"), release("ord_unpaid")]
    again = [release("ord_paid"), release("ord_unpaid")]

    # then every unit is back on sale, once
    assert (first, again) == ([3, 2], [0, 0])
    got = level(container, "PAN-1", w)
    assert (got.on_hand, got.reserved, got.allocated, got.available) == (10, 0, 0, 10)
    released = events(container, "ReservationsReleased")
    assert [(e["order_id"], e["reason"]) for e in released] == [
        ("ord_paid", "cancelled"),
        ("ord_unpaid", "cancelled"),
    ]


def test_shipping_takes_allocated_units_off_hand(container: Container, operator: Account) -> None:
    w = warehouse(container, operator)
    stocked(container, operator, "BOOT-1", w, 6)
    reserve(container, "ord_1", [line("BOOT-1", 3)])
    with container.uow(TEST_ACTOR) as uow:
        container.inventory.allocate(uow, "ord_1")
        container.inventory.ship(uow, "ord_1", "BOOT-1", 2)
        uow.commit()
    got = level(container, "BOOT-1", w)
    assert (got.on_hand, got.reserved, got.allocated, got.available) == (4, 0, 1, 3)

    # shipping more than is left is refused, naming the quantity
    with pytest.raises(Conflict) as caught, container.uow(TEST_ACTOR) as uow:
        container.inventory.ship(uow, "ord_1", "BOOT-1", 2)
    assert caught.value.errors[0].field == "quantity"

    # and a release after a partial shipment gives back only the unshipped unit
    with container.uow(TEST_ACTOR) as uow:
        assert container.inventory.release(uow, "ord_1", reason="cancelled") == 1
        uow.commit()
    got = level(container, "BOOT-1", w)
    assert (got.on_hand, got.allocated, got.available) == (4, 0, 4)


def test_restock_puts_units_back_on_hand(container: Container, operator: Account) -> None:
    w = warehouse(container, operator)
    with container.uow(TEST_ACTOR) as uow:
        container.inventory.restock(uow, "RET-1", w.id, 2)  # no level yet: one is created
        container.inventory.restock(uow, "RET-1", w.id, 3)
        uow.commit()
    assert level(container, "RET-1", w).on_hand == 5
    # one StockChanged for the whole unit of work
    assert [
        (e["old_available"], e["new_available"]) for e in events(container, "StockChanged")
    ] == [(0, 5)]


# --- expiry ----------------------------------------------------------------------------------


def test_the_sweeper_releases_expired_holds_and_names_the_order(
    container: Container, operator: Account
) -> None:
    # given an order reserved at T0 and another ten minutes later
    w = warehouse(container, operator)
    stocked(container, operator, "LAMP-1", w, 5)
    reserve(container, "ord_old", [line("LAMP-1", 2)], at=T0)
    reserve(container, "ord_new", [line("LAMP-1", 1)], at=T0 + timedelta(minutes=10))
    ttl = container.inventory.reservation_ttl

    # when the sweeper runs at the first one's deadline, then again
    swept = container.inventory.sweep_expired(now=T0 + ttl, batch=1)
    swept_again = container.inventory.sweep_expired(now=T0 + ttl)

    # then only the expired hold went back on sale, once, with an event naming its order
    assert (swept, swept_again) == (1, 0)
    got = level(container, "LAMP-1", w)
    assert (got.reserved, got.available) == (1, 4)
    [expired] = events(container, "ReservationsExpired")
    assert expired["order_id"] == "ord_old"
    assert expired["units"] == [{"sku": "LAMP-1", "warehouse_id": w.id, "quantity": 2}]

    # and a payment arriving after the sweep cannot allocate units nobody holds
    with pytest.raises(HoldReleased), container.uow(TEST_ACTOR) as uow:
        container.inventory.allocate(uow, "ord_old")


def test_a_payment_before_the_sweep_keeps_an_expired_hold(
    container: Container, operator: Account
) -> None:
    w = warehouse(container, operator)
    stocked(container, operator, "LAMP-2", w, 5)
    reserve(container, "ord_1", [line("LAMP-2", 2)], at=T0)
    with container.uow(TEST_ACTOR) as uow:
        container.inventory.allocate(uow, "ord_1")
        uow.commit()
    assert container.inventory.sweep_expired(now=T0 + timedelta(hours=1)) == 0
    assert level(container, "LAMP-2", w).allocated == 2
    assert events(container, "ReservationsExpired") == []


def test_allocating_an_order_without_holds_is_not_found(container: Container) -> None:
    with pytest.raises(NotFound), container.uow(TEST_ACTOR) as uow:
        container.inventory.allocate(uow, "ord_unknown")


# --- stock events ----------------------------------------------------------------------------


def test_stock_changes_are_coalesced_per_sku_and_low_stock_fires_once(
    container: Container, operator: Account
) -> None:
    # given 10 units with a low-stock threshold of 5
    w = warehouse(container, operator)
    container.inventory.set_stock(operator.principal, "SOCK-1", w.id, 10, low_stock_threshold=5)
    baseline = len(events(container, "StockChanged"))

    # when one unit of work reserves for two orders, crossing the threshold
    with container.uow(TEST_ACTOR) as uow:
        for n in (1, 2):
            container.inventory.reserve(
                uow, f"ord_{n}", [line("SOCK-1", 3)], destination_country="NL", now=T0
            )
        uow.commit()
    # and a later sale goes further below it
    reserve(container, "ord_3", [line("SOCK-1", 1)])

    # then one StockChanged per commit, and one LowStock: at the crossing only
    changes = events(container, "StockChanged")[baseline:]
    assert [(e["old_available"], e["new_available"]) for e in changes] == [(10, 4), (4, 3)]
    [low] = events(container, "LowStock")
    assert (low["sku"], low["available"], low["threshold"]) == ("SOCK-1", 4, 5)


# --- stock feeds -----------------------------------------------------------------------------


def test_a_feed_ignores_stale_sequences_and_repeated_keys(
    container: Container, operator: Account
) -> None:
    # given a partner's warehouse
    wms = partner(container, operator, ["stock:write"])
    assert wms.org_id is not None
    w = warehouse(container, operator, wms.org_id)

    # when its WMS sends counts, some out of order and some twice
    first = container.inventory.sync(
        wms,
        "wms-1",
        [
            feed("SKU-A", w, on_hand=10, sequence=5),
            feed("SKU-A", w, on_hand=3, sequence=4),  # older than 5
            feed("SKU-B", w, delta=4, idempotency_key="k-1"),
            feed("SKU-B", w, delta=4, idempotency_key="k-1"),  # repeated in the batch
        ],
    )
    second = container.inventory.sync(
        wms,
        "wms-1",
        [
            feed("SKU-A", w, on_hand=7, sequence=5),  # the same sequence again
            feed("SKU-A", w, on_hand=8, sequence=6),
            feed("SKU-B", w, delta=4, idempotency_key="k-1"),  # a retried batch
        ],
    )

    # then each item's outcome says what happened, and only fresh counts were applied
    assert [(d.outcome, d.reason) for d in first.decisions] == [
        (SyncOutcome.APPLIED, None),
        (SyncOutcome.STALE, "stale_sequence"),
        (SyncOutcome.APPLIED, None),
        (SyncOutcome.DUPLICATE, "duplicate_key"),
    ]
    assert [d.outcome for d in second.decisions] == [
        SyncOutcome.STALE,
        SyncOutcome.APPLIED,
        SyncOutcome.DUPLICATE,
    ]
    assert (level(container, "SKU-A", w).on_hand, level(container, "SKU-B", w).on_hand) == (8, 4)
    synced = events(container, "StockSynced")
    assert [(e["applied"], e["stale"], e["duplicate"]) for e in synced] == [(2, 1, 1), (1, 1, 1)]

    # and keys past their retention are forgotten, so they could apply again
    assert container.inventory.purge_sync_keys(container.clock.now() + timedelta(days=1)) == 1


def test_a_feed_rejects_counts_that_would_break_stock_invariants(
    container: Container, operator: Account
) -> None:
    wms = partner(container, operator, ["stock:write"])
    assert wms.org_id is not None
    mine = warehouse(container, operator, wms.org_id)
    theirs = warehouse(container, operator)  # the retailer's
    container.inventory.sync(wms, "wms-1", [feed("SKU-C", mine, on_hand=3, sequence=1)])
    reserve(container, "ord_1", [line("SKU-C", 2, wms.org_id)])

    report = container.inventory.sync(
        wms,
        "wms-1",
        [
            feed("SKU-C", mine, delta=-5, idempotency_key="d-1"),  # 3 - 5 < 0
            feed("SKU-C", mine, on_hand=1, sequence=2),  # 2 units are reserved
            feed("SKU-C", theirs, on_hand=50, sequence=1),  # not the partner's warehouse
            feed("SKU-C", mine, on_hand=2, sequence=3),  # exactly what is promised
        ],
    )

    assert [(d.outcome, d.reason, d.on_hand) for d in report.decisions] == [
        (SyncOutcome.REJECTED, "negative_on_hand", None),
        (SyncOutcome.REJECTED, "below_committed", None),
        (SyncOutcome.REJECTED, "unknown_warehouse", None),
        (SyncOutcome.APPLIED, None, 2),
    ]
    got = level(container, "SKU-C", mine)
    assert (got.on_hand, got.reserved, got.available) == (2, 2, 0)
    # a rejected change is not remembered: corrected, the same key applies
    fixed = container.inventory.sync(
        wms, "wms-1", [feed("SKU-C", mine, delta=1, idempotency_key="d-1")]
    )
    assert fixed.decisions[0].outcome is SyncOutcome.APPLIED


def test_sources_are_scoped_to_their_owner(container: Container, operator: Account) -> None:
    a = partner(container, operator, ["stock:write"])
    b = partner(container, operator, ["stock:write"])
    assert a.org_id is not None
    assert b.org_id is not None
    wa, wb = warehouse(container, operator, a.org_id), warehouse(container, operator, b.org_id)
    container.inventory.sync(a, "wms", [feed("S-1", wa, on_hand=1, idempotency_key="same")])
    report = container.inventory.sync(
        b, "wms", [feed("S-1", wb, on_hand=1, idempotency_key="same")]
    )
    assert report.decisions[0].outcome is SyncOutcome.APPLIED


# --- the catalog's offers --------------------------------------------------------------------


def offer_stock(container: Container, product_id: str) -> int:
    [offer] = container.catalog.product_view(product_id, staff=True).offers
    return offer.stock


def settle(container: Container) -> None:
    container.dispatcher.drain()
    stats = container.outbox_stats()
    assert (stats.pending, stats.dead) == (0, 0), "a handler failed"


def test_offers_get_stock_records_and_show_what_is_available(
    container: Container, operator: Account
) -> None:
    # given a product whose retailer offer has 7 in stock (no feed)
    product = make_product(container, operator, sku="FEEDLESS-1", stock=7)
    settle(container)
    [view] = container.inventory.levels(["FEEDLESS-1"])
    assert (view.owner, view.level.on_hand) == (RETAILER, 7)

    # when a checkout reserves 2
    reserve(container, "ord_1", [line("FEEDLESS-1", 2)])
    settle(container)

    # then the offer shows the 5 still available (buy box, in-stock filter)
    assert offer_stock(container, product.id) == 5

    # when staff edit the offer's stock to 20
    [offer] = container.catalog.product_view(product.id, staff=True).offers
    container.catalog.update_offer(operator.principal, offer.id, OfferPatch(stock=20))
    settle(container)

    # then 20 are available beside the 2 still reserved, and nothing loops
    [view] = container.inventory.levels(["FEEDLESS-1"])
    assert (view.level.on_hand, view.level.reserved, view.level.available) == (22, 2, 20)
    assert offer_stock(container, product.id) == 20
    assert container.dispatcher.drain() == 0


def test_a_feed_managed_sku_ignores_staff_edits_of_the_offer(
    container: Container, operator: Account
) -> None:
    # given the retailer's SKU counted in a real warehouse by its WMS
    product = make_product(container, operator, sku="FED-1", stock=0)
    settle(container)
    dc = warehouse(container, operator, country="NL")
    container.inventory.sync(operator.principal, "wms", [feed("FED-1", dc, on_hand=9, sequence=1)])
    settle(container)
    assert offer_stock(container, product.id) == 9

    # when staff type another number into the offer
    [offer] = container.catalog.product_view(product.id, staff=True).offers
    container.catalog.update_offer(operator.principal, offer.id, OfferPatch(stock=50))
    settle(container)

    # then the warehouses' count wins and the offer is corrected
    assert offer_stock(container, product.id) == 9
    assert sum(v.level.on_hand for v in container.inventory.levels(["FED-1"])) == 9


def test_backfill_gives_offers_without_records_their_stock(
    container: Container, operator: Account
) -> None:
    make_product(container, operator, sku="OLD-1", stock=4)
    make_product(container, operator, sku="OLD-2", stock=0)
    # (the dispatcher has not run: no handler created records yet)
    assert container.inventory.backfill_from_offers(batch=1) == 2
    assert container.inventory.backfill_from_offers() == 0
    assert [
        (v.level.sku, v.level.on_hand) for v in container.inventory.levels(["OLD-1", "OLD-2"])
    ] == [
        ("OLD-1", 4),
        ("OLD-2", 0),
    ]
    settle(container)  # the handlers find the records and leave them alone
    assert [v.level.on_hand for v in container.inventory.levels(["OLD-1", "OLD-2"])] == [4, 0]


def test_migration_0006_backfills_existing_catalogs(
    container: Container, operator: Account, db_url: str
) -> None:
    # given a catalog from before inventory existed
    make_product(container, operator, sku="LEGACY-1", stock=3)
    container.db.dispose()
    engine = create_db_engine(db_url, pool_size=1)
    try:
        migrate.downgrade(engine, "0005")
        # when the inventory migration runs
        migrate.upgrade(engine)
    finally:
        engine.dispose()

    # then the retailer has a default warehouse holding the offer's stock
    [view] = container.inventory.levels(["LEGACY-1"])
    assert (view.owner, view.level.on_hand, view.level.available) == (RETAILER, 3, 3)
    reserve(container, "ord_1", [line("LEGACY-1", 3)])
