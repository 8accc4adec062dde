"""The validation runner: claims due listings in batches, runs their steps, saves them.

A pass claims up to ``batch_size`` listings whose next step is due (a lease, see
``claims.claim_due``, so two runners never work on one listing), then runs every step it can
for all of them together, each phase loading what it needs for the whole batch in a few
queries:

1. ``schema`` and ``normalise``: category declarations, catalog products by GTIN and by
   brand + MPN, known brand spellings, prohibited terms;
2. ``checks``: the seller's offers on the matched products, category price distributions;
3. ``images``: every image URL probed (outside any transaction, in parallel, each URL
   once per pass). The probes start as soon as the batch is claimed, so image hosts and
   the decoder work while the earlier phases run; a pass still waiting on them after half
   a lease renews its lease;
4. ``outcome``.

It then saves every listing, with the events its steps recorded, in one transaction, on
condition it still holds the lease. A phase whose loading fails is a technical failure of
that step for the listings waiting on it (retried with backoff, dead-lettered in the end).
A runner that dies mid-pass loses only time: its lease runs out, another runner claims the
listings again and, the steps being deterministic and idempotent, redoes the same work.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bazaar.infra.db import Database
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import Clock
from bazaar.kernel.events import Actor, Event
from bazaar.kernel.ids import new_id
from bazaar.listings import claims
from bazaar.listings.background import PollingLoop
from bazaar.listings.checks import ImageProbe
from bazaar.listings.facts import CatalogFacts
from bazaar.listings.ports import ImageProber
from bazaar.listings.records import ListingRecord
from bazaar.listings.workflow import (
    ListingValidation,
    RetryPolicy,
    Step,
    TechnicalFailure,
    ValidationContext,
)

log = logging.getLogger("bazaar.listings")

UowFactory = Callable[[Actor], SqlUnitOfWork]
RUNNER = Actor.system("listing-validation")


_PROBED_STEPS = (Step.SCHEMA, Step.NORMALISE, Step.CHECKS, Step.IMAGES)


@dataclass
class _Progress:
    """One listing during a pass: where it is, and the events its steps recorded."""

    record: ListingRecord
    validation: ListingValidation
    events: list[Event] = field(default_factory=list)


class ValidationRunner:
    def __init__(
        self,
        db: Database,
        uow: UowFactory,
        clock: Clock,
        facts: CatalogFacts,
        prober: ImageProber,
        *,
        prohibited_terms: Sequence[str],
        policy: RetryPolicy,
        batch_size: int,
        lease_s: float,
        poll_s: float,
        probe_threads: int = 8,
        rng: random.Random | None = None,
    ) -> None:
        self._db = db
        self._uow = uow
        self._clock = clock
        self._facts = facts
        self._prober = prober
        self._terms = tuple(prohibited_terms)
        self._policy = policy
        self.batch_size = batch_size
        self.lease_s = lease_s
        self._probe_threads = probe_threads
        self._rng = rng or random.Random()
        self.loop = PollingLoop("bazaar-listing-validation", lambda: self.run_once() > 0, poll_s)

    def run_once(self) -> int:
        """Claim one batch of due listings, advance them as far as they go, save them;
        return how many were claimed."""
        token = new_id("lse")
        now = self._clock.now()
        with self._db.write() as conn:
            claimed = claims.claim_due(
                conn,
                now=now,
                lease_s=self.lease_s,
                limit=self.batch_size,
                token=token,
                skip_locked=self._db.is_postgres,
            )
        if not claimed:
            return 0
        batch = [_Progress(r, r.validation) for r in claimed]
        pool = ThreadPoolExecutor(self._probe_threads, "bazaar-image-probe")
        try:
            probes = _Probes(pool, self._probe, self._renewal([r.id for r in claimed], token))
            probes.start(url for p in batch if _will_probe(p.validation, now) for url in _urls(p))
            self._advance(batch, now, probes)
        finally:
            pool.shutdown(cancel_futures=True)
        with self._uow(RUNNER) as uow:
            saves = [(p.record, p.validation) for p in batch]
            kept = set(claims.save_claimed(uow.conn, saves, self._clock.now(), token))
            for p in batch:
                if p.record.id in kept:
                    uow.record(*p.events)
            uow.commit()
        if len(kept) < len(batch):
            log.warning("listing leases lost", extra={"lost": len(batch) - len(kept)})
        return len(batch)

    def drain(self, max_passes: int = 10_000) -> int:
        """Run passes until no listing is due (tests and the CLI); return how many ran."""
        total = 0
        for _ in range(max_passes):
            ran = self.run_once()
            if ran == 0:
                break
            total += ran
        return total

    # --- the phases --------------------------------------------------------------------------

    def _renewal(self, listing_ids: list[str], token: str) -> _Renewal:
        """While the pass waits on image hosts, which may take their time, it renews its
        lease every half lease (a pass whose probes are back in time renews nothing)."""

        def renew() -> None:
            with self._db.write() as conn:
                until = self._clock.now() + timedelta(seconds=self.lease_s)
                claims.extend_lease(conn, listing_ids, token, until)

        return _Renewal(renew, self.lease_s / 2)

    def _advance(self, batch: list[_Progress], now: datetime, probes: _Probes) -> None:
        self._phase(batch, (Step.SCHEMA, Step.NORMALISE), now, self._base_contexts)
        self._phase(batch, (Step.CHECKS,), now, self._check_contexts)
        self._phase(batch, (Step.IMAGES,), now, probes.contexts)
        self._phase(batch, (Step.OUTCOME,), now, lambda ps: [ValidationContext()] * len(ps))

    def _phase(
        self,
        batch: list[_Progress],
        steps: Collection[Step],
        now: datetime,
        load: Callable[[list[_Progress]], Sequence[ValidationContext | TechnicalFailure]],
    ) -> None:
        waiting = [p for p in batch if p.validation.step in steps and p.validation.is_due(now)]
        if not waiting:
            return
        try:
            contexts = load(waiting)
        except Exception as exc:  # an outage or a bug while loading: the step failed, retry
            log.exception("listing validation phase failed", extra={"steps": sorted(steps)})
            contexts = [TechnicalFailure(f"{type(exc).__name__}: {exc}")] * len(waiting)
        for p, context in zip(waiting, contexts, strict=True):
            # steps of one phase read the same context; each runs only if it is the current one
            for step in steps:
                if p.validation.step is not step or not p.validation.is_due(now):
                    break
                jitter = self._rng.random()
                try:
                    changed = p.validation.run_step(
                        step, context, now=now, policy=self._policy, jitter=jitter
                    )
                except Exception as exc:  # a rule that crashes on one listing stalls no other
                    log.exception("listing step crashed", extra={"listing_id": p.record.id})
                    failure = TechnicalFailure(f"{type(exc).__name__}: {exc}")
                    changed = p.validation.run_step(
                        step, failure, now=now, policy=self._policy, jitter=jitter
                    )
                p.validation = changed.value
                p.events.extend(changed.events)

    def _base_contexts(self, batch: list[_Progress]) -> list[ValidationContext]:
        with self._db.reading():  # one read transaction for the lookups
            lookups = self._facts.product_lookups([p.validation.draft for p in batch])
            attributes = {c: self._facts.attributes(c) for c in _categories(batch)}
        return [
            ValidationContext(
                attributes=attributes[p.validation.draft.category_id],
                by_gtin=found.by_gtin,
                by_brand_mpn=found.by_brand_mpn,
                known_brands=found.known_brands,
                prohibited_terms=self._terms,
            )
            for p, found in zip(batch, lookups, strict=True)
        ]

    def _check_contexts(self, batch: list[_Progress]) -> list[ValidationContext]:
        products = {p.validation.match.product.product_id for p in batch if p.validation.match}
        categories = _categories(batch)
        with self._db.reading():
            sellers = {p.validation.seller_id for p in batch}
            offers = self._facts.existing_offers(sellers, products)
            attributes = {c: self._facts.attributes(c) for c in categories}
            prices = {c: self._facts.price_distribution(c) for c in categories}
        return [
            ValidationContext(
                attributes=attributes[p.validation.draft.category_id],
                prohibited_terms=self._terms,
                price_distribution=prices[p.validation.draft.category_id],
                existing_offers=(
                    offers.get(p.validation.match.product.product_id, ())
                    if p.validation.match
                    else ()
                ),
            )
            for p in batch
        ]

    def _probe(self, url: str) -> ImageProbe | Exception:
        try:
            return self._prober.probe(url)
        except Exception as exc:  # a prober bug is this listing's technical failure, not all
            log.exception("image probe failed", extra={"url": url})
            return exc


def _categories(batch: list[_Progress]) -> set[str]:
    return {p.validation.draft.category_id for p in batch}


def _will_probe(v: ListingValidation, now: datetime) -> bool:
    """Whether this pass reaches ``v``'s images step (unless an earlier step fails)."""
    return v.step in _PROBED_STEPS and v.is_due(now)


def _urls(p: _Progress) -> list[str]:
    # the image URLs as normalisation leaves them (it strips them), before it has run
    return [url.strip() for url in p.validation.draft.image_urls]


class _Renewal:
    """Calls ``renew`` every ``every_s`` seconds (from its creation) while a wait lasts."""

    def __init__(self, renew: Callable[[], None], every_s: float) -> None:
        self._renew = renew
        self._every_s = every_s
        self._next = time.monotonic() + every_s

    def wait(self, futures: Iterable[Future[ImageProbe | Exception]]) -> None:
        pending = set(futures)
        while pending:
            _, pending = wait(pending, timeout=max(self._next - time.monotonic(), 0.0))
            if pending and time.monotonic() >= self._next:
                self._renew()
                self._next = time.monotonic() + self._every_s


class _Probes:
    """One pass's image probes, each URL probed once, on the pass's thread pool."""

    def __init__(
        self,
        pool: ThreadPoolExecutor,
        probe: Callable[[str], ImageProbe | Exception],
        renewal: _Renewal,
    ) -> None:
        self._pool = pool
        self._probe = probe
        self._renewal = renewal
        self._futures: dict[str, Future[ImageProbe | Exception]] = {}

    def start(self, urls: Iterable[str]) -> None:
        for url in urls:
            if url not in self._futures:
                self._futures[url] = self._pool.submit(self._probe, url)

    def contexts(self, batch: list[_Progress]) -> list[ValidationContext | TechnicalFailure]:
        """The images step's context of each listing: its probes, or the technical failure
        of the first probe that crashed."""
        urls = {url for p in batch for url in p.validation.draft.image_urls}
        self.start(urls)
        self._renewal.wait(self._futures[url] for url in urls)
        contexts: list[ValidationContext | TechnicalFailure] = []
        for p in batch:
            found = [self._futures[url].result() for url in p.validation.draft.image_urls]
            crashed = [f for f in found if isinstance(f, Exception)]
            if crashed:
                error = crashed[0]
                contexts.append(TechnicalFailure(f"{type(error).__name__}: {error}"))
            else:
                mine = [f for f in found if isinstance(f, ImageProbe)]
                contexts.append(ValidationContext(image_probes=mine))
        return contexts
