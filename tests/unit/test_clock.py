"""Clocks: the system clock and a controllable one for tests."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bazaar.kernel.clock import Clock, FixedClock, SystemClock, utcnow

START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_system_clock_and_utcnow_are_aware_utc() -> None:
    # given
    clock: Clock = SystemClock()
    # when
    first, second = clock.now(), utcnow()
    # then
    assert first.tzinfo == UTC
    assert second.tzinfo == UTC
    assert first <= second


def test_fixed_clock_stands_still_until_advanced() -> None:
    # given
    clock = FixedClock(START)
    # when
    unchanged = clock.now()
    moved = clock.advance(90.5)
    # then
    assert unchanged == START
    assert moved == START + timedelta(seconds=90.5)
    assert clock.now() == moved


def test_fixed_clock_converts_to_utc_and_can_be_set() -> None:
    # given
    clock = FixedClock(datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))))
    # when
    start = clock.now()
    clock.set(datetime(2025, 1, 1, tzinfo=UTC))
    # then
    assert start == START
    assert start.tzinfo == UTC
    assert clock.now() == datetime(2025, 1, 1, tzinfo=UTC)


def test_fixed_clock_refuses_naive_times_and_backwards_steps() -> None:
    # given
    clock = FixedClock(START)
    # when / then
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(datetime(2024, 5, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.set(datetime(2024, 5, 1))
    with pytest.raises(ValueError, match="negative"):
        clock.advance(-1)


def test_fixed_clock_advances_are_not_lost_across_threads() -> None:
    # given
    clock = FixedClock(START)

    def tick() -> None:
        for _ in range(1_000):
            clock.advance(1)

    threads = [threading.Thread(target=tick) for _ in range(8)]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert clock.now() == START + timedelta(seconds=8_000)
