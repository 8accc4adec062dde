"""Loading many documents into the index: the import path of ``bazaar demo`` and bulk imports."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from bazaar.infra.db import Database
from bazaar.search.index import SearchIndex
from bazaar.search.model import SearchDocument

DEFAULT_BATCH = 2000


def bulk_upsert(
    db: Database,
    index: SearchIndex,
    docs: Iterable[SearchDocument],
    batch_size: int = DEFAULT_BATCH,
) -> int:
    """Upsert ``docs`` in write transactions of ``batch_size`` documents; returns how many.

    Each batch commits on its own, so an interrupted load keeps what it committed and can be
    resumed by upserting again (upsert replaces by product id).
    """
    loaded = 0
    iterator = iter(docs)
    while batch := list(itertools.islice(iterator, batch_size)):
        with db.write() as conn:
            index.upsert(conn, batch)
        loaded += len(batch)
    return loaded
