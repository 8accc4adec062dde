"""The feed runner: claims queued feed imports with a lease and turns their rows into listings.

Each batch of rows is one transaction: the feed's checkpoint moves (on condition this runner
still holds the lease and nobody moved the checkpoint), the batch's listings are inserted
(unique per feed and line) and their ``ListingSubmitted`` events recorded. A runner that dies
mid-batch leaves nothing of that batch; its lease runs out, another runner claims the feed
and resumes after the last committed batch, so every row becomes exactly one listing. A feed
whose runner crashed ``MAX_FEED_ATTEMPTS`` times fails for good, its report kept.
"""

from __future__ import annotations

import io
import itertools
import logging
from collections.abc import Callable
from datetime import timedelta

from bazaar.catalog.importing import UnusableInput
from bazaar.infra.blobs import BlobStore
from bazaar.infra.db import Database
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import Clock
from bazaar.kernel.events import Actor
from bazaar.kernel.ids import new_id, new_ids
from bazaar.listings import feed_store, store
from bazaar.listings.background import PollingLoop
from bazaar.listings.facts import CatalogFacts
from bazaar.listings.feed_parsing import parse_feed
from bazaar.listings.feed_runs import (
    MAX_FEED_ATTEMPTS,
    FeedRun,
    FeedStatus,
    ListingFeedFinished,
)
from bazaar.listings.workflow import ListingValidation

log = logging.getLogger("bazaar.listings")

UowFactory = Callable[[Actor], SqlUnitOfWork]
AfterBatch = Callable[[FeedRun], None]


class LeaseLost(Exception):
    """Another runner took the feed over (this one was presumed dead): stop working on it."""


class ShuttingDown(Exception):
    """The worker is stopping: the feed goes back to the queue and resumes elsewhere."""


class FeedRunner:
    def __init__(
        self,
        db: Database,
        uow: UowFactory,
        clock: Clock,
        blobs: BlobStore,
        facts: CatalogFacts,
        *,
        currency: str,
        batch_size: int,
        lease_s: float,
        poll_s: float,
        on_listings: Callable[[], None] | None = None,
        after_batch: AfterBatch | None = None,
    ) -> None:
        self._db = db
        self._uow = uow
        self._clock = clock
        self._blobs = blobs
        self._facts = facts
        self._currency = currency
        self.batch_size = batch_size
        self.lease_s = lease_s
        self._on_listings = on_listings or (lambda: None)
        self.after_batch = after_batch  # called after each committed batch (tests, progress)
        self.loop = PollingLoop("bazaar-listing-feeds", self.run_once, poll_s)

    def run_once(self) -> bool:
        """Claim and run one feed; False when none was waiting."""
        token = new_id("lse")
        with self._db.write() as conn:
            run = feed_store.claim_next(
                conn,
                now=self._clock.now(),
                lease_s=self.lease_s,
                token=token,
                skip_locked=self._db.is_postgres,
            )
        if run is None:
            return False
        log.info("feed import started", extra={"feed_id": run.id, "attempt": run.attempts})
        try:
            if run.attempts > MAX_FEED_ATTEMPTS:
                self._finish(run, token, FeedStatus.FAILED, "Interrupted too often")
                return True
            run = self._import(run, token)
        except LeaseLost:
            log.warning("feed lease lost", extra={"feed_id": run.id})
            return True
        except ShuttingDown:
            self._finish(run, token, FeedStatus.QUEUED, None, attempts=run.attempts - 1)
            return True
        except UnusableInput as exc:
            self._finish(run, token, FeedStatus.FAILED, exc.detail)
            return True
        except Exception as exc:  # a bug or an outage: back to the queue while attempts last
            log.exception("feed import crashed", extra={"feed_id": run.id})
            status = FeedStatus.QUEUED if run.attempts < MAX_FEED_ATTEMPTS else FeedStatus.FAILED
            self._finish(run, token, status, f"{type(exc).__name__}: {exc}")
            return True
        self._finish(run, token, FeedStatus.SUCCEEDED, None)
        return True

    def drain(self, max_feeds: int = 100) -> int:
        """Run feeds until none is waiting (tests and the CLI); return how many ran."""
        ran = 0
        while ran < max_feeds and self.run_once():
            ran += 1
        return ran

    def _import(self, run: FeedRun, token: str) -> FeedRun:
        rows = parse_feed(
            io.BytesIO(self._blobs.get(run.input_key)),
            run.format,
            seller_id=run.seller_id,
            currency=self._currency,
            categories=self._facts.category,
            after_line=run.lines_done,
        )
        actor = Actor(run.owner_type, run.owner_id, "seller")
        while batch := list(itertools.islice(rows, self.batch_size)):
            if self.loop.stopping:
                raise ShuttingDown(run.id)
            now = self._clock.now()
            parsed = [(row.line, row.draft) for row in batch if row.draft is not None]
            ids = new_ids("lst", len(parsed))
            changes = [
                ListingValidation.submit(i, d, now) for i, (_, d) in zip(ids, parsed, strict=True)
            ]
            errors = [e for row in batch for e in row.errors]
            advanced = run.advanced(
                max(row.last_line for row in batch), listings=len(parsed), errors=errors, now=now
            )
            with self._uow(actor) as uow:
                if not feed_store.advance(
                    uow.conn,
                    advanced,
                    expected_lines_done=run.lines_done,
                    token=token,
                    lease_until=now + timedelta(seconds=self.lease_s),
                ):
                    raise LeaseLost(run.id)
                store.insert_listings(
                    uow.conn,
                    [c.value for c in changes],
                    now,
                    feed_id=run.id,
                    feed_lines=[line for line, _ in parsed],
                )
                uow.record(*(e for c in changes for e in c.events))
                uow.commit()
            run = advanced
            self._on_listings()
            if self.after_batch is not None:
                self.after_batch(run)
        return run

    def _finish(
        self,
        run: FeedRun,
        token: str,
        status: FeedStatus,
        error: str | None,
        *,
        attempts: int | None = None,
    ) -> None:
        with self._uow(Actor.system("listing-feeds")) as uow:
            kept = feed_store.finish(
                uow.conn,
                run.id,
                token,
                status=status,
                now=self._clock.now(),
                error=error,
                attempts=attempts,
            )
            if not kept:
                log.warning("feed lease lost before it finished", extra={"feed_id": run.id})
                return
            if status is not FeedStatus.QUEUED:
                current = feed_store.get_feed(uow.conn, run.id)
                uow.record(
                    ListingFeedFinished(
                        feed_id=run.id,
                        seller_id=run.seller_id,
                        status=status.value,
                        listings=current.listings if current else run.listings,
                        failed=current.failed if current else run.failed,
                    )
                )
            uow.commit()
        log.info("feed import ended", extra={"feed_id": run.id, "status": status.value})
