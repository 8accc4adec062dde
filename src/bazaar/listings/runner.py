"""The validation runner: claims due listings in batches, runs their steps, saves them.

A pass claims up to ``batch_size`` listings whose next step is due (a lease, see
``store.claim_due``, so two runners never work on one listing), then runs every step it can
for all of them together, each phase loading what it needs for the whole batch in a few
queries:

1. ``schema`` and ``normalise``: category declarations, catalog products by GTIN and by
   brand + MPN, known brand spellings, prohibited terms;
2. ``checks``: the seller's offers on the matched products, category price distributions;
3. ``images``: every image URL probed (outside any transaction, in parallel);
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
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bazaar.infra.db import Database
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import Clock
from bazaar.kernel.events import Actor, Event
from bazaar.kernel.ids import new_id
from bazaar.listings import store
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
            claimed = store.claim_due(
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
        self._advance(batch, now, token)
        with self._uow(RUNNER) as uow:
            saves = [(p.record, p.validation) for p in batch]
            kept = set(store.save_claimed(uow.conn, saves, self._clock.now(), token))
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

    def _advance(self, batch: list[_Progress], now: datetime, token: str) -> None:
        self._phase(batch, (Step.SCHEMA, Step.NORMALISE), now, self._base_contexts)
        self._phase(batch, (Step.CHECKS,), now, self._check_contexts)
        if any(p.validation.step is Step.IMAGES and p.validation.draft.image_urls for p in batch):
            # image hosts may take their time: hold the listings for a full lease from here
            with self._db.write() as conn:
                until = self._clock.now() + timedelta(seconds=self.lease_s)
                store.extend_lease(conn, [p.record.id for p in batch], token, until)
        self._phase(batch, (Step.IMAGES,), now, self._image_contexts)
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
        lookups = self._facts.product_lookups([p.validation.draft for p in batch])
        return [
            ValidationContext(
                attributes=self._facts.attributes(p.validation.draft.category_id),
                by_gtin=found.by_gtin,
                by_brand_mpn=found.by_brand_mpn,
                known_brands=found.known_brands,
                prohibited_terms=self._terms,
            )
            for p, found in zip(batch, lookups, strict=True)
        ]

    def _check_contexts(self, batch: list[_Progress]) -> list[ValidationContext]:
        products = {p.validation.match.product.product_id for p in batch if p.validation.match}
        offers = self._facts.existing_offers({p.validation.seller_id for p in batch}, products)
        return [
            ValidationContext(
                attributes=self._facts.attributes(p.validation.draft.category_id),
                prohibited_terms=self._terms,
                price_distribution=self._facts.price_distribution(p.validation.draft.category_id),
                existing_offers=(
                    offers.get(p.validation.match.product.product_id, ())
                    if p.validation.match
                    else ()
                ),
            )
            for p in batch
        ]

    def _image_contexts(self, batch: list[_Progress]) -> list[ValidationContext | TechnicalFailure]:
        urls = sorted({url for p in batch for url in p.validation.draft.image_urls})
        probes: dict[str, ImageProbe | Exception] = {}
        if urls:
            with ThreadPoolExecutor(min(self._probe_threads, len(urls))) as pool:
                for url, probe in zip(urls, pool.map(self._probe, urls), strict=True):
                    probes[url] = probe
        contexts: list[ValidationContext | TechnicalFailure] = []
        for p in batch:
            found = [probes[url] for url in p.validation.draft.image_urls]
            crashed = [f for f in found if isinstance(f, Exception)]
            if crashed:
                error = crashed[0]
                contexts.append(TechnicalFailure(f"{type(error).__name__}: {error}"))
            else:
                mine = [f for f in found if isinstance(f, ImageProbe)]
                contexts.append(ValidationContext(image_probes=mine))
        return contexts

    def _probe(self, url: str) -> ImageProbe | Exception:
        try:
            return self._prober.probe(url)
        except Exception as exc:  # a prober bug is this listing's technical failure, not all
            log.exception("image probe failed", extra={"url": url})
            return exc
