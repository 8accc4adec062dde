"""Inventory rules without a database: stock levels, allocation, reservations, feeds, low stock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bazaar.inventory.allocation import (
    Allocation,
    AllocationLine,
    InsufficientStock,
    Pick,
    StockDraw,
    choose_allocation,
)
from bazaar.inventory.model import (
    RESERVATION_TTL,
    RETAILER,
    Reservation,
    ReservationStatus,
    StockChange,
    StockLevel,
    Warehouse,
    became_low,
    check_owner,
    coalesce_changes,
    is_low,
    on_hand_from_offer,
)
from bazaar.inventory.sync import (
    SyncItem,
    SyncOutcome,
    build_items,
    decide_sync,
    decide_sync_batch,
)
from bazaar.kernel.errors import Conflict, ValidationFailed

T = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
SELLER = "sel_01jd3w7k6q8r2m4n5p6s7t8v9x"


def line(line_id: str, sku: str, quantity: int, fulfiller: str = RETAILER) -> AllocationLine:
    return AllocationLine(line_id, sku, quantity, fulfiller)


def allocate(
    lines: Sequence[AllocationLine],
    stock: Sequence[StockLevel],
    warehouses: Sequence[Warehouse],
    country: str = "DE",
) -> Allocation:
    return choose_allocation(lines, stock, warehouses, destination_country=country)


# --- warehouses and stock levels -------------------------------------------------------------


def test_available_is_on_hand_minus_reserved_minus_allocated() -> None:
    # given
    level = StockLevel("SKU-1", "wh_1", on_hand=10, reserved=3, allocated=2)
    # when / then
    assert level.available == 5
    assert level.committed == 5


@pytest.mark.parametrize(
    ("on_hand", "reserved", "allocated", "field", "code"),
    [
        (-1, 0, 0, "on_hand", "negative"),
        (5, -1, 0, "reserved", "negative"),
        (5, 0, -1, "allocated", "negative"),
        (5, 3, 3, "on_hand", "below_committed"),
        (True, 0, 0, "on_hand", "not_an_integer"),
    ],
)
def test_invalid_stock_levels_are_refused(
    on_hand: int, reserved: int, allocated: int, field: str, code: str
) -> None:
    # when
    with pytest.raises(ValidationFailed) as caught:
        StockLevel("SKU-1", "wh_1", on_hand, reserved, allocated)
    # then
    assert (caught.value.errors[0].field, caught.value.errors[0].code) == (field, code)


@pytest.mark.parametrize("country", ["de", "DEU", "", "D1"])
def test_warehouse_country_must_be_alpha_2(country: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Warehouse("wh_1", RETAILER, country)
    assert caught.value.errors[0].code == "invalid_country"


def test_warehouse_needs_an_owner() -> None:
    with pytest.raises(ValidationFailed):
        Warehouse("wh_1", "", "DE")


# --- allocation -------------------------------------------------------------------------------


def test_a_line_goes_to_the_best_single_warehouse_that_can_serve_it_whole() -> None:
    # given: the preferred warehouse has too little, two others could serve the whole line
    warehouses = [
        Warehouse("wh_a", RETAILER, "DE", priority=1),
        Warehouse("wh_b", RETAILER, "DE", priority=2),
        Warehouse("wh_c", RETAILER, "DE", priority=3),
    ]
    stock = [
        StockLevel("SKU", "wh_a", 2),
        StockLevel("SKU", "wh_b", 5),
        StockLevel("SKU", "wh_c", 9),
    ]
    # when
    allocation = allocate([line("l1", "SKU", 4)], stock, warehouses)
    # then: no split, even though wh_a is preferred
    assert allocation.picks_for("l1") == (Pick("wh_b", 4),)


def test_domestic_warehouses_come_before_priority_and_id_breaks_ties() -> None:
    # given
    warehouses = [
        Warehouse("wh_fr", RETAILER, "FR", priority=0),
        Warehouse("wh_de2", RETAILER, "DE", priority=5),
        Warehouse("wh_de1", RETAILER, "DE", priority=5),
    ]
    stock = [StockLevel("SKU", w.id, 10) for w in warehouses]
    # when
    to_de = allocate([line("l1", "SKU", 1)], stock, warehouses, "DE")
    to_fr = allocate([line("l1", "SKU", 1)], stock, warehouses, "FR")
    to_it = allocate([line("l1", "SKU", 1)], stock, warehouses, "IT")
    # then
    assert to_de.picks_for("l1") == (Pick("wh_de1", 1),)
    assert to_fr.picks_for("l1") == (Pick("wh_fr", 1),)
    assert to_it.picks_for("l1") == (Pick("wh_fr", 1),)  # nobody is domestic: priority decides


def test_a_foreign_warehouse_serving_the_whole_line_beats_a_domestic_split() -> None:
    # given
    warehouses = [Warehouse("wh_de", RETAILER, "DE"), Warehouse("wh_fr", RETAILER, "FR")]
    stock = [StockLevel("SKU", "wh_de", 3), StockLevel("SKU", "wh_fr", 5)]
    # when
    allocation = allocate([line("l1", "SKU", 5)], stock, warehouses, "DE")
    # then
    assert allocation.picks_for("l1") == (Pick("wh_fr", 5),)


def test_lines_of_one_fulfiller_prefer_one_warehouse_for_all_of_them() -> None:
    # given: wh_a is preferred and could serve each line alone, but only wh_b has both SKUs
    warehouses = [
        Warehouse("wh_a", RETAILER, "DE", priority=1),
        Warehouse("wh_b", RETAILER, "DE", priority=2),
    ]
    stock = [
        StockLevel("RED", "wh_a", 5),
        StockLevel("RED", "wh_b", 5),
        StockLevel("BLUE", "wh_b", 5),
    ]
    # when
    allocation = allocate([line("l1", "RED", 2), line("l2", "BLUE", 2)], stock, warehouses)
    # then
    assert allocation.picks_for("l1") == (Pick("wh_b", 2),)
    assert allocation.picks_for("l2") == (Pick("wh_b", 2),)


def test_without_a_common_warehouse_each_line_gets_its_best_whole_warehouse() -> None:
    # given
    warehouses = [
        Warehouse("wh_a", RETAILER, "DE", priority=1),
        Warehouse("wh_b", RETAILER, "DE", priority=2),
    ]
    stock = [StockLevel("RED", "wh_a", 5), StockLevel("BLUE", "wh_b", 5)]
    # when
    allocation = allocate([line("l1", "RED", 2), line("l2", "BLUE", 2)], stock, warehouses)
    # then
    assert allocation.picks_for("l1") == (Pick("wh_a", 2),)
    assert allocation.picks_for("l2") == (Pick("wh_b", 2),)


def test_a_line_no_warehouse_can_serve_whole_is_split_in_preference_order() -> None:
    # given
    warehouses = [
        Warehouse("wh_a", RETAILER, "DE", priority=1),
        Warehouse("wh_b", RETAILER, "DE", priority=2),
        Warehouse("wh_c", RETAILER, "DE", priority=3),
    ]
    stock = [
        StockLevel("SKU", "wh_a", 3),
        StockLevel("SKU", "wh_b", 0),
        StockLevel("SKU", "wh_c", 4),
    ]
    # when
    allocation = allocate([line("l1", "SKU", 6)], stock, warehouses)
    # then
    assert allocation.picks_for("l1") == (Pick("wh_a", 3), Pick("wh_c", 3))
    assert allocation.lines[0].is_split


def test_only_the_lines_fulfiller_warehouses_are_used() -> None:
    # given: the retailer has plenty, the seller has just enough
    warehouses = [
        Warehouse("wh_retail", RETAILER, "DE"),
        Warehouse("wh_seller", SELLER, "DE", priority=9),
    ]
    stock = [StockLevel("SKU", "wh_retail", 100), StockLevel("SKU", "wh_seller", 2)]
    # when
    allocation = allocate(
        [line("l1", "SKU", 2, SELLER), line("l2", "SKU", 3, RETAILER)], stock, warehouses
    )
    # then
    assert allocation.picks_for("l1") == (Pick("wh_seller", 2),)
    assert allocation.picks_for("l2") == (Pick("wh_retail", 3),)


def test_inactive_warehouses_and_reserved_units_are_not_allocated() -> None:
    # given
    warehouses = [
        Warehouse("wh_a", RETAILER, "DE", priority=1, active=False),
        Warehouse("wh_b", RETAILER, "DE", priority=2),
    ]
    stock = [StockLevel("SKU", "wh_a", 50), StockLevel("SKU", "wh_b", 10, reserved=6, allocated=1)]
    # when / then
    assert allocate([line("l1", "SKU", 3)], stock, warehouses).picks_for("l1") == (Pick("wh_b", 3),)
    with pytest.raises(InsufficientStock):
        allocate([line("l1", "SKU", 4)], stock, warehouses)


def test_two_lines_of_the_same_sku_share_the_stock() -> None:
    # given
    warehouses = [
        Warehouse("wh_a", RETAILER, "DE", priority=1),
        Warehouse("wh_b", RETAILER, "DE", priority=2),
    ]
    stock = [StockLevel("SKU", "wh_a", 3), StockLevel("SKU", "wh_b", 3)]
    # when
    allocation = allocate([line("l1", "SKU", 2), line("l2", "SKU", 2)], stock, warehouses)
    # then: the second line no longer fits in wh_a
    assert allocation.picks_for("l1") == (Pick("wh_a", 2),)
    assert allocation.picks_for("l2") == (Pick("wh_b", 2),)
    assert allocation.draws() == (StockDraw("wh_a", "SKU", 2), StockDraw("wh_b", "SKU", 2))


def test_insufficient_stock_names_every_short_sku_and_line() -> None:
    # given
    warehouses = [Warehouse("wh_a", RETAILER, "DE"), Warehouse("wh_s", SELLER, "DE")]
    stock = [
        StockLevel("RED", "wh_a", 1),
        StockLevel("BLUE", "wh_a", 9),
        StockLevel("GREEN", "wh_s", 5),
    ]
    lines = [line("l1", "RED", 2), line("l2", "BLUE", 2), line("l3", "BLUE", 1, SELLER)]
    # when
    with pytest.raises(InsufficientStock) as caught:
        allocate(lines, stock, warehouses)
    # then
    error = caught.value
    assert isinstance(error, Conflict)
    assert error.skus == ("RED", "BLUE")
    assert "sku RED" in error.detail
    assert [e.field for e in error.errors] == ["lines[0].quantity", "lines[2].quantity"]


def test_a_fulfiller_without_warehouses_has_no_stock() -> None:
    with pytest.raises(InsufficientStock) as caught:
        allocate([line("l1", "SKU", 1, SELLER)], [], [Warehouse("wh_a", RETAILER, "DE")])
    assert caught.value.shortages[0].available == 0


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([line("l1", "SKU", 0)], "lines[0].quantity"),
        ([line("l1", "SKU", 1), line("l1", "SKU", 1)], "lines[1].line_id"),
    ],
)
def test_bad_lines_are_refused(lines: list[AllocationLine], field: str) -> None:
    stock = [StockLevel("SKU", "wh_a", 5)]
    with pytest.raises(ValidationFailed) as caught:
        allocate(lines, stock, [Warehouse("wh_a", RETAILER, "DE")])
    assert caught.value.errors[0].field == field


def test_allocation_is_deterministic_whatever_the_input_order() -> None:
    # given
    warehouses = [Warehouse(f"wh_{i}", RETAILER, "DE", priority=i % 2) for i in range(6)]
    stock = [StockLevel("SKU", w.id, 2) for w in warehouses]
    lines = [line("l1", "SKU", 7)]
    # when
    forward = allocate(lines, stock, warehouses)
    backward = allocate(lines, stock[::-1], warehouses[::-1])
    # then
    assert forward == backward
    assert forward.picks_for("l1") == (
        Pick("wh_0", 2),
        Pick("wh_2", 2),
        Pick("wh_4", 2),
        Pick("wh_1", 1),
    )


# --- allocation properties --------------------------------------------------------------------

FULFILLERS = (RETAILER, "sel_a", "sel_b")
SKUS = ("A", "B", "C", "D")


@st.composite
def scenarios(
    draw: st.DrawFn,
) -> tuple[list[Warehouse], list[StockLevel], list[AllocationLine], str]:
    count = draw(st.integers(min_value=0, max_value=6))
    warehouses = [
        Warehouse(
            f"wh_{i}",
            draw(st.sampled_from(FULFILLERS)),
            draw(st.sampled_from(("DE", "FR"))),
            draw(st.integers(min_value=0, max_value=3)),
            draw(st.booleans()),
        )
        for i in range(count)
    ]
    stock = []
    for w in warehouses:
        for sku in draw(st.sets(st.sampled_from(SKUS))):
            on_hand = draw(st.integers(min_value=0, max_value=12))
            reserved = draw(st.integers(min_value=0, max_value=on_hand))
            stock.append(StockLevel(sku, w.id, on_hand, reserved))
    # distinct skus per line, so "one warehouse can serve the whole line" is about the
    # stock as given, not as left by an earlier line of the same sku
    skus = draw(st.lists(st.sampled_from(SKUS), min_size=1, max_size=4, unique=True))
    lines = [
        line(f"l{i}", sku, draw(st.integers(1, 10)), draw(st.sampled_from(FULFILLERS)))
        for i, sku in enumerate(skus)
    ]
    return warehouses, stock, lines, draw(st.sampled_from(("DE", "FR", "IT")))


@given(scenarios())
def test_allocation_properties(
    scenario: tuple[list[Warehouse], list[StockLevel], list[AllocationLine], str],
) -> None:
    warehouses, stock, lines, country = scenario
    by_id = {w.id: w for w in warehouses}
    available = {(s.warehouse_id, s.sku): s.available for s in stock}

    def eligible(ln: AllocationLine) -> list[str]:
        return [w.id for w in warehouses if w.owner == ln.fulfiller_id and w.active]

    try:
        allocation = allocate(lines, stock, warehouses, country)
    except InsufficientStock as error:
        # then: some sku really is short for its fulfiller
        for shortage in error.shortages:
            demand = sum(
                ln.quantity
                for ln in lines
                if (ln.sku, ln.fulfiller_id) == (shortage.sku, shortage.fulfiller_id)
            )
            supply = sum(
                available.get((w.id, shortage.sku), 0)
                for w in warehouses
                if w.owner == shortage.fulfiller_id and w.active
            )
            assert shortage.requested == demand > supply == shortage.available
        return

    for ln, allocated in zip(lines, allocation.lines, strict=True):
        assert allocated.line_id == ln.line_id
        # picks sum to the line quantity, each positive
        assert sum(p.quantity for p in allocated.picks) == ln.quantity
        assert all(p.quantity > 0 for p in allocated.picks)
        # only the line's fulfiller's active warehouses
        assert all(
            by_id[p.warehouse_id].owner == ln.fulfiller_id and by_id[p.warehouse_id].active
            for p in allocated.picks
        )
        # one warehouse whenever one can serve the whole line
        if any(available.get((w, ln.sku), 0) >= ln.quantity for w in eligible(ln)):
            assert len(allocated.picks) == 1
    # never more than available
    for draw_ in allocation.draws():
        assert draw_.quantity <= available[(draw_.warehouse_id, draw_.sku)]


# --- reservations -----------------------------------------------------------------------------


def test_a_reservation_expires_after_the_default_ttl() -> None:
    # given
    reservation = Reservation.hold("res_1", "ord_1", "SKU", 2, now=T)
    # then
    assert timedelta(minutes=15) == RESERVATION_TTL
    assert reservation.expires_at == T + RESERVATION_TTL
    assert reservation.warehouse_id is None
    assert not reservation.is_expired(T + timedelta(minutes=14, seconds=59))
    assert reservation.is_expired(T + RESERVATION_TTL)
    assert reservation.is_expired(T + timedelta(hours=1))


def test_reservation_times_must_be_timezone_aware() -> None:
    reservation = Reservation.hold("res_1", "ord_1", "SKU", 2, now=T, warehouse_id="wh_1")
    with pytest.raises(ValueError, match="timezone-aware"):
        reservation.is_expired(datetime(2026, 11, 21, 12, 30))  # naive on purpose
    with pytest.raises(ValueError, match="timezone-aware"):
        Reservation("res_1", "ord_1", "SKU", None, 1, datetime(2026, 11, 21))


def test_a_reservation_holds_at_least_one_unit() -> None:
    with pytest.raises(ValidationFailed):
        Reservation.hold("res_1", "ord_1", "SKU", 0, now=T)


# --- stock feeds ------------------------------------------------------------------------------


def test_an_absolute_count_with_a_newer_sequence_is_applied() -> None:
    # given
    level = StockLevel("SKU", "wh_1", 10, reserved=2)
    item = SyncItem("SKU", "wh_1", on_hand=7, sequence=5)
    # when
    decision = decide_sync(item, level, last_sequence=4)
    # then
    assert (decision.outcome, decision.on_hand, decision.reason) == (SyncOutcome.APPLIED, 7, None)


@pytest.mark.parametrize("sequence", [3, 4])
def test_a_sequence_not_above_the_last_is_stale(sequence: int) -> None:
    item = SyncItem("SKU", "wh_1", on_hand=7, sequence=sequence)
    decision = decide_sync(item, StockLevel("SKU", "wh_1", 10), last_sequence=4)
    assert (decision.outcome, decision.on_hand) == (SyncOutcome.STALE, None)


def test_a_first_sequence_and_an_unknown_sku_are_applied() -> None:
    decision = decide_sync(SyncItem("NEW", "wh_1", on_hand=3, sequence=1), None, last_sequence=None)
    assert (decision.outcome, decision.on_hand) == (SyncOutcome.APPLIED, 3)


def test_a_delta_is_added_and_a_seen_key_is_a_duplicate() -> None:
    # given
    level = StockLevel("SKU", "wh_1", 10)
    item = SyncItem("SKU", "wh_1", delta=-4, idempotency_key="move-1")
    # when
    first = decide_sync(item, level, last_sequence=None)
    again = decide_sync(item, level, last_sequence=None, key_seen=True)
    # then
    assert (first.outcome, first.on_hand) == (SyncOutcome.APPLIED, 6)
    assert (again.outcome, again.reason) == (SyncOutcome.DUPLICATE, "duplicate_key")


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (SyncItem("SKU", "wh_1", on_hand=-1, sequence=9), "negative_on_hand"),
        (SyncItem("SKU", "wh_1", delta=-11, sequence=9), "negative_on_hand"),
        (SyncItem("SKU", "wh_1", on_hand=4, sequence=9), "below_committed"),
        (SyncItem("SKU", "wh_1", delta=-6, idempotency_key="k"), "below_committed"),
    ],
)
def test_counts_that_break_stock_invariants_are_rejected(item: SyncItem, reason: str) -> None:
    # given: 5 units are promised to orders
    level = StockLevel("SKU", "wh_1", 10, reserved=3, allocated=2)
    # when
    decision = decide_sync(item, level, last_sequence=1)
    # then
    assert (decision.outcome, decision.reason, decision.on_hand) == (
        SyncOutcome.REJECTED,
        reason,
        None,
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"on_hand": 1, "delta": 1, "sequence": 1},
        {"sequence": 1},
        {"on_hand": 1},
        {"on_hand": 1, "sequence": 1, "idempotency_key": "k"},
        {"on_hand": 1, "idempotency_key": ""},
    ],
)
def test_sync_items_need_one_value_and_one_ordering(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValidationFailed):
        SyncItem("SKU", "wh_1", **kwargs)  # type: ignore[arg-type]


def test_a_batch_sees_its_own_earlier_items() -> None:
    # given
    levels = {("SKU", "wh_1"): StockLevel("SKU", "wh_1", 10, reserved=2)}
    items = [
        SyncItem("SKU", "wh_1", delta=-3, idempotency_key="a"),
        SyncItem("SKU", "wh_1", delta=-3, idempotency_key="a"),  # resent within the batch
        SyncItem("SKU", "wh_1", delta=-1, idempotency_key="old"),  # applied before the batch
        SyncItem("SKU", "wh_1", on_hand=20, sequence=8),
        SyncItem("SKU", "wh_1", on_hand=15, sequence=8),  # same sequence again: stale
        SyncItem("SKU", "wh_1", on_hand=1, sequence=9),  # below the 2 reserved
        SyncItem("SKU", "wh_1", delta=5, idempotency_key="b"),
        SyncItem("OTHER", "wh_1", on_hand=4, sequence=3),
    ]
    # when
    decisions = decide_sync_batch(items, levels, {("SKU", "wh_1"): 7}, {"old"})
    # then
    assert [(d.outcome, d.on_hand) for d in decisions] == [
        (SyncOutcome.APPLIED, 7),
        (SyncOutcome.DUPLICATE, None),
        (SyncOutcome.DUPLICATE, None),
        (SyncOutcome.APPLIED, 20),
        (SyncOutcome.STALE, None),
        (SyncOutcome.REJECTED, None),
        (SyncOutcome.APPLIED, 25),
        (SyncOutcome.APPLIED, 4),
    ]
    assert levels[("SKU", "wh_1")].on_hand == 10  # inputs untouched


# --- low stock --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("available", "threshold", "low"), [(6, 5, False), (5, 5, True), (0, 0, True), (1, 0, False)]
)
def test_low_means_at_or_below_the_threshold(available: int, threshold: int, low: bool) -> None:
    assert is_low(available, threshold) is low


def test_only_crossing_the_threshold_counts_as_becoming_low() -> None:
    assert became_low(StockChange("SKU", 6, 5), threshold=5)
    assert not became_low(StockChange("SKU", 5, 4), threshold=5)
    assert not became_low(StockChange("SKU", 9, 6), threshold=5)


def test_coalescing_keeps_the_first_old_and_the_last_new_value_per_sku() -> None:
    # given
    changes = [
        StockChange("A", 10, 9),
        StockChange("B", 3, 2),
        StockChange("A", 9, 7),
        StockChange("B", 2, 3),
        StockChange("A", 7, 4),
    ]
    # when
    merged = coalesce_changes(changes)
    # then
    assert merged == [StockChange("A", 10, 4), StockChange("B", 3, 3)]
    assert coalesce_changes([]) == []


# --- offers of fulfillers without a feed ------------------------------------------------------


def test_a_new_offer_seeds_stock_only_where_the_fulfiller_has_no_record() -> None:
    # a fulfiller that never counted the SKU gets the offer's stock
    assert on_hand_from_offer(7, [], "wh_default", staff_edit=False) == 7
    # one whose feed (or an earlier offer) counted it keeps that count
    counted = [StockLevel("SKU-1", "wh_dc", 3)]
    assert on_hand_from_offer(7, counted, "wh_default", staff_edit=False) is None


def test_a_staff_edit_means_available_in_the_default_warehouse_only() -> None:
    # given 2 units of the default warehouse's 10 reserved for an order
    default = [StockLevel("SKU-1", "wh_default", 10, reserved=2)]
    # when staff say 20 are available, then 20 more than what is promised are on hand
    assert on_hand_from_offer(20, default, "wh_default", staff_edit=True) == 22
    assert on_hand_from_offer(5, [], "wh_default", staff_edit=True) == 5
    # but a SKU also counted elsewhere (by a feed) is left to the warehouses
    both = [*default, StockLevel("SKU-1", "wh_dc", 4)]
    assert on_hand_from_offer(20, both, "wh_default", staff_edit=True) is None


def test_a_reservation_tracks_its_shipped_units() -> None:
    held = Reservation.hold("rsv_1", "ord_1", "SKU-1", 3, now=T, warehouse_id="wh_1")
    assert (held.status, held.unshipped) == (ReservationStatus.RESERVED, 3)
    with pytest.raises(ValidationFailed) as caught:
        Reservation("rsv_1", "ord_1", "SKU-1", "wh_1", 3, T, ReservationStatus.ALLOCATED, 4)
    assert caught.value.errors[0].field == "shipped"


def test_feed_items_are_built_with_every_bad_field_named_by_position() -> None:
    # given one good item and two bad ones
    raw = [
        {"sku": "SKU-1", "warehouse_id": "wh_1", "on_hand": 5, "sequence": 1},
        {"sku": "SKU 2", "warehouse_id": "wh_1", "on_hand": 5, "sequence": 1},
        {"sku": "SKU-3", "warehouse_id": "wh_1", "delta": 1},
    ]
    # when
    with pytest.raises(ValidationFailed) as caught:
        build_items(raw)
    # then
    assert [e.field for e in caught.value.errors] == ["items[1].sku", "items[2].sequence"]
    assert build_items(raw[:1]) == [SyncItem("SKU-1", "wh_1", on_hand=5, sequence=1)]


@pytest.mark.parametrize(
    ("owner", "ok"),
    [
        ("retailer", True),
        (SELLER, True),
        ("prt_01abcdefgh", True),
        ("Retailer", False),
        ("", False),
    ],
)
def test_warehouse_owners_are_fulfiller_ids(owner: str, ok: bool) -> None:
    if ok:
        check_owner(owner, "owner")
    else:
        with pytest.raises(ValidationFailed):
            check_owner(owner, "owner")
