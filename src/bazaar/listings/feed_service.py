"""Feed use cases for sellers: upload a CSV or JSONL feed, follow its import row by row.

The upload is checked only as far as its first row (a CSV header that cannot be used is a
422 at once), stored in the blob store, and queued for the feed runner; the answer is the
queued import. Its progress, row errors and per-row results (the listing each row became,
with its validation status) are read with :meth:`FeedService.get`.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bazaar.catalog.importing import UnusableInput
from bazaar.identity.model import Principal
from bazaar.infra.blobs import BlobStore
from bazaar.infra.db import Database
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import NotFound, ValidationFailed
from bazaar.kernel.events import Actor
from bazaar.kernel.ids import is_valid_id, new_id
from bazaar.kernel.pagination import CursorCodec, scope_for
from bazaar.listings import feed_store, store
from bazaar.listings.facts import CatalogFacts
from bazaar.listings.feed_parsing import parse_feed
from bazaar.listings.feed_runs import FeedFormat, FeedRun, FeedStatus, ListingFeedQueued
from bazaar.listings.ports import SellerGate
from bazaar.listings.records import ListingRecord
from bazaar.listings.service import seller_of

UowFactory = Callable[[Actor], SqlUnitOfWork]

CONTENT_TYPES = {FeedFormat.JSONL: "application/x-ndjson", FeedFormat.CSV: "text/csv"}


@dataclass(frozen=True)
class FeedView:
    """A feed import with its listings by status and one page of its per-row results."""

    run: FeedRun
    states: Mapping[str, int]
    rows: list[ListingRecord]
    next_cursor: str | None


class FeedService:
    def __init__(
        self,
        db: Database,
        uow: UowFactory,
        clock: Clock,
        blobs: BlobStore,
        facts: CatalogFacts,
        cursors: CursorCodec,
        *,
        sellers: SellerGate,
        currency: str,
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self._db = db
        self._uow = uow
        self._clock = clock
        self._blobs = blobs
        self._facts = facts
        self._cursors = cursors
        self._sellers = sellers
        self._currency = currency
        self._on_queued = on_queued or (lambda: None)

    def submit(self, principal: Principal, data: bytes, fmt: FeedFormat) -> FeedRun:
        """Queue a feed import. 422 on ``file`` for an empty file or one without a row, and
        on the header's columns for a CSV header that cannot be used."""
        seller_id = seller_of(principal, self._sellers, write=True)
        if not data or data.isspace():
            raise ValidationFailed.on("file", "The file is empty", "empty")
        rows = parse_feed(
            io.BytesIO(data),
            fmt,
            seller_id=seller_id,
            currency=self._currency,
            categories=self._facts.category,
        )
        if next(rows, None) is None:  # reads the header and the first row only
            raise UnusableInput.on("file", "The file holds no listings", "empty")
        feed_id = new_id("feed")
        key = f"listing-feeds/{feed_id}.{fmt.value}"
        # the file first: a queued feed never points at a missing file
        self._blobs.put(key, data, CONTENT_TYPES[fmt])
        now = self._clock.now()
        run = FeedRun(
            id=feed_id,
            seller_id=seller_id,
            owner_type=principal.kind,
            owner_id=principal.id,
            format=fmt,
            status=FeedStatus.QUEUED,
            input_key=key,
            lines_done=0,
            listings=0,
            failed=0,
            error_count=0,
            errors=(),
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        with self._uow(principal.actor) as uow:
            feed_store.insert_feed(uow.conn, run)
            uow.record(ListingFeedQueued(feed_id=feed_id, seller_id=seller_id, format=fmt.value))
            uow.commit()
        self._on_queued()
        return run

    def get(
        self, principal: Principal, feed_id: str, *, limit: int, cursor: str | None = None
    ) -> FeedView:
        """The seller's feed import: status, progress, row errors, and a page of per-row
        results in file order. Another seller's feed is a 404."""
        seller_id = seller_of(principal, self._sellers, write=False)
        scope = scope_for("listing-feed-rows", feed=feed_id)
        after_line = 0
        if cursor:
            line = self._cursors.decode(cursor, scope=scope).get("line")
            if not isinstance(line, int):
                raise ValidationFailed.on("cursor", "Invalid or tampered cursor", "invalid_cursor")
            after_line = line
        with self._db.read() as conn:
            run = feed_store.get_feed(conn, feed_id) if is_valid_id(feed_id, "feed") else None
            if run is None or run.seller_id != seller_id:
                raise NotFound("No such feed import")
            states = store.feed_states(conn, feed_id)
            rows = store.feed_listings(conn, feed_id, after_line=after_line, limit=limit + 1)
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = self._cursors.encode({"line": rows[-1].feed_line}, scope=scope)
        return FeedView(run, states, rows, next_cursor)
