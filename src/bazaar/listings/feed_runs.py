"""A seller's feed import: an asynchronous job turning a CSV or JSONL file into listings.

Pure Python. The checkpoint (``lines_done``) moves forward in the same transaction that
inserts a batch's listings, so a run that a crash interrupted resumes exactly after its last
committed batch: no row becomes two listings and none is skipped. Rows that cannot become a
listing at all (unreadable, unknown category, a price that is not a price) are row errors in
the report; every other row becomes a listing whose own validation says what is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from bazaar.catalog.import_runs import MAX_REPORT_ERRORS, RowError
from bazaar.kernel.events import Event

MAX_FEED_ATTEMPTS = 3  # a feed whose worker died this often fails for good
DEFAULT_FEED_BATCH = 500  # rows per transaction


class FeedFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


class FeedStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class FeedRun:
    id: str
    seller_id: str
    owner_type: str  # who uploaded it: "user" or "api_key"
    owner_id: str
    format: FeedFormat
    status: FeedStatus
    input_key: str
    lines_done: int  # the last line of the last batch committed
    listings: int  # rows that became listings
    failed: int  # rows with row errors
    error_count: int
    errors: tuple[RowError, ...]  # the first MAX_REPORT_ERRORS
    attempts: int
    created_at: datetime
    updated_at: datetime
    error: str | None = None  # why the run failed, or its last crash
    started_at: datetime | None = None
    finished_at: datetime | None = None
    lease_token: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in (FeedStatus.SUCCEEDED, FeedStatus.FAILED)

    @property
    def more_errors(self) -> int:
        return self.error_count - len(self.errors)

    def advanced(
        self, lines_done: int, *, listings: int, errors: Sequence[RowError], now: datetime
    ) -> FeedRun:
        """The run after one more batch: ``listings`` created, ``errors`` on other rows."""
        room = max(MAX_REPORT_ERRORS - len(self.errors), 0)
        return replace(
            self,
            lines_done=lines_done,
            listings=self.listings + listings,
            failed=self.failed + len({e.line for e in errors}),
            error_count=self.error_count + len(errors),
            errors=self.errors + tuple(errors[:room]),
            updated_at=now,
        )


@dataclass(frozen=True, kw_only=True)
class ListingFeedQueued(Event):
    subject_type = "listing_feed"
    subject_field = "feed_id"
    feed_id: str
    seller_id: str
    format: str

    def audience(self) -> tuple[str, ...]:
        return (f"seller:{self.seller_id}",)


@dataclass(frozen=True, kw_only=True)
class ListingFeedFinished(Event):
    subject_type = "listing_feed"
    subject_field = "feed_id"
    feed_id: str
    seller_id: str
    status: str
    listings: int
    failed: int

    def audience(self) -> tuple[str, ...]:
        return (f"seller:{self.seller_id}",)
