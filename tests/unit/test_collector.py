"""Pausing the cyclic garbage collector around bulk work."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator

import pytest

from bazaar.infra import collector


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_the_collector_is_off_inside_and_back_on_after() -> None:
    # when
    with collector.paused():
        inside = gc.isenabled()
    # then
    assert (inside, gc.isenabled()) == (False, True)


def test_it_comes_back_even_when_the_block_fails() -> None:
    # when
    with pytest.raises(RuntimeError), collector.paused():
        raise RuntimeError("batch failed")
    # then
    assert gc.isenabled()


def test_nested_and_overlapping_pauses_end_with_the_last_one() -> None:
    # given a pause in another thread that outlives ours
    started, release, done = threading.Event(), threading.Event(), threading.Event()

    def other() -> None:
        with collector.paused():
            started.set()
            release.wait(5)
        done.set()

    thread = threading.Thread(target=other)
    # when ours (nested once) ends first
    with collector.paused():
        thread.start()
        started.wait(5)
        with collector.paused():
            pass
        nested_end = gc.isenabled()
    ours_end = gc.isenabled()
    release.set()
    done.wait(5)
    thread.join(5)
    # then the collector stayed off until the other pause ended too
    assert (nested_end, ours_end, gc.isenabled()) == (False, False, True)


def test_a_collector_that_was_off_stays_off() -> None:
    # given
    gc.disable()
    # when
    with collector.paused():
        pass
    # then
    assert not gc.isenabled()


def test_settling_the_heap_keeps_what_lives_out_of_later_collections() -> None:
    # given an object that lives as long as the process, and a cycle that is garbage
    kept = {"routes": ["a", "b"]}
    garbage = _Node()
    garbage.self = garbage
    gone = weakref.ref(garbage)
    del garbage
    try:
        # when
        collector.settle_heap()
        # then the garbage was collected first, and what lives is frozen, out of sight
        assert gone() is None
        assert gc.get_freeze_count() > 0
        assert not any(o is kept for o in gc.get_objects())
        assert kept == {"routes": ["a", "b"]}
    finally:
        gc.unfreeze()


class _Node:
    self: object
