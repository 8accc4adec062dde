from __future__ import annotations

import random
from typing import cast

import pytest

from bazaar.infra.db import Database
from bazaar.infra.dispatcher import Dispatcher
from bazaar.kernel.clock import SystemClock


def dispatcher(seed: int) -> Dispatcher:
    # backoff_s is pure arithmetic: no database is touched
    return Dispatcher(
        cast(Database, None),
        SystemClock(),
        {},
        backoff_base_s=2,
        backoff_max_s=600,
        rng=random.Random(seed),
    )


@pytest.mark.parametrize("seed", range(20))
def test_backoff_doubles_with_jitter_within_bounds(seed: int) -> None:
    d = dispatcher(seed)
    for attempt in range(1, 15):
        ceiling = min(600, 2 * 2 ** (attempt - 1))
        assert ceiling / 2 <= d.backoff_s(attempt) <= ceiling


def test_retry_after_is_honoured_but_capped() -> None:
    d = dispatcher(1)
    assert d.backoff_s(1, retry_after_s=120) >= 120
    assert d.backoff_s(1, retry_after_s=10_000) <= 600
