"""Prefixed, time-sortable ids."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from bazaar.kernel.errors import ValidationFailed
from bazaar.kernel.ids import is_valid_id, new_id, new_ids, prefix_of, timestamp_of

CROCKFORD_LOWER = set("0123456789abcdefghjkmnpqrstvwxyz")


def test_new_id_has_prefix_and_26_char_crockford_body() -> None:
    # when
    value = new_id("prd")
    # then
    prefix, _, body = value.partition("_")
    assert prefix == "prd"
    assert len(body) == 26
    assert set(body) <= CROCKFORD_LOWER
    assert is_valid_id(value, "prd")
    assert prefix_of(value) == "prd"


def test_ids_from_a_tight_loop_are_unique_and_sorted() -> None:
    # when many ids are made within the same few milliseconds
    ids = [new_id("ord") for _ in range(20_000)]
    # then
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_ids_from_many_threads_are_unique_and_each_thread_sees_order() -> None:
    # given
    per_thread: list[list[str]] = [[] for _ in range(8)]

    def make(bucket: list[str]) -> None:
        for _ in range(2_000):
            bucket.append(new_id("usr"))

    threads = [threading.Thread(target=make, args=(bucket,)) for bucket in per_thread]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    everything = [value for bucket in per_thread for value in bucket]
    assert len(set(everything)) == len(everything)
    for bucket in per_thread:
        assert bucket == sorted(bucket)


def test_timestamp_of_round_trips_creation_time() -> None:
    # given
    before = datetime.now(UTC)
    # when
    value = new_id("inv")
    after = datetime.now(UTC)
    # then
    created = timestamp_of(value)
    assert created.tzinfo == UTC
    assert before - timedelta(milliseconds=1) <= created <= after


def test_known_id_decodes_to_known_time() -> None:
    # given the ULID spec example timestamp 01ARYZ6S41 = 1469918176385 ms
    value = "prd_01aryz6s41tsv4rrffq69g5fav"
    # when
    created = timestamp_of(value)
    # then
    assert created == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=1469918176385)


@pytest.mark.parametrize("prefix", ["", "p", "PRD", "prd1", "toolongpx", "pr_d", "prd ", "ç"])
def test_invalid_prefixes_are_rejected(prefix: str) -> None:
    # when / then
    with pytest.raises(ValueError, match="prefix"):
        new_id(prefix)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "prd",
        "prd_",
        "prd_01ARYZ6S41TSV4RRFFQ69G5FAV",  # uppercase is not canonical
        "prd_01aryz6s41tsv4rrffq69g5fa",  # 25 chars
        "prd_01aryz6s41tsv4rrffq69g5fav0",  # 27 chars
        "prd_81aryz6s41tsv4rrffq69g5fav",  # overflows 128 bits
        "prd_01aryz6s41tsv4rrffq69g5fau",  # u is not Crockford
        "prd_01aryz6s41tsv4rrffq69g5fav\n",
        "p_01aryz6s41tsv4rrffq69g5fav",
    ],
)
def test_malformed_ids_are_rejected(value: str) -> None:
    # when / then
    assert not is_valid_id(value)
    with pytest.raises(ValidationFailed):
        prefix_of(value)
    with pytest.raises(ValidationFailed):
        timestamp_of(value)


def test_is_valid_id_checks_the_expected_prefix() -> None:
    # given
    value = new_id("prd")
    # when / then
    assert is_valid_id(value)
    assert is_valid_id(value, "prd")
    assert not is_valid_id(value, "ord")


def test_a_forked_process_does_not_reuse_the_parents_random_bits() -> None:
    import os

    from bazaar.kernel import ids

    ids.new_id("prd")  # the parent has buffered entropy now
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next id's random part and leave at once
        os.write(write, ids.new_id("prd")[-16:].encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child_random = os.read(read, 64).decode()
    assert ids.new_id("prd")[-16:] != child_random


def test_ids_counted_up_in_a_burst_are_encoded_like_any_other(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bazaar.kernel import ids

    # given the last id lies ahead of the clock, its low ten bits about to wrap
    ahead = ((time.time_ns() // 1_000_000 + 60_000) << 80) | 1021
    monkeypatch.setattr(ids, "_last_value", ahead)
    monkeypatch.setattr(ids, "_last_body", ids._encode(ahead))
    # when ids are made (each counts up from the one before)
    made = [ids.new_id("prd") for _ in range(5)]
    # then each is its value's canonical encoding, across the wrap too
    values = [ids._decode(value.removeprefix("prd_")) for value in made]
    assert values == [ahead + n for n in range(1, 6)]
    assert made == [f"prd_{ids._encode(v)}" for v in values]


def test_new_ids_in_one_go_sort_between_the_ids_made_before_and_after() -> None:
    # when
    before = new_id("evt")
    batch = new_ids("evt", 3_000)
    after = new_id("evt")
    # then
    made = [before, *batch, after]
    assert made == sorted(made)
    assert len(set(made)) == len(made) == 3_002
    assert all(is_valid_id(value, "evt") for value in batch)
    assert new_ids("evt", 0) == []
    with pytest.raises(ValueError, match="prefix"):
        new_ids("EVT", 2)
