"""The listing validation workflow: a state machine persisted on :class:`ListingValidation`.

Pure Python: the service loads what a step needs into a :class:`ValidationContext`, calls
:meth:`ListingValidation.run_step` and saves the result with its events. Steps run in order

    schema -> normalise -> checks -> images -> outcome

``schema`` also decides what the listing is: an offer on a catalog product found by
:func:`match_product` (GTIN first, then brand + MPN), or a new product. Each step runs once
per submission: running a step that is not the current one (a redelivered message) changes
nothing, so every step is idempotent. A step that cannot finish for a technical reason (a
context that failed to load, an image host timing out) is reported as a
:class:`TechnicalFailure`; it is retried after an exponential backoff with jitter and, after
``RetryPolicy.max_attempts`` failures, the listing is ``dead_lettered`` - kept, visible to
operators, and resumable at the same step with :meth:`~ListingValidation.retry_dead_letter`.

The outcome rule (:func:`decide_outcome`):

* any ``failed`` check (bad GTIN, prohibited term, missing required attribute, broken image)
  -> ``rejected``, the failed checks being the reasons;
* otherwise any ``warning`` (price outlier, probable duplicate) -> ``needs_review``, where
  an operator approves (optionally with edits) or rejects;
* otherwise, if normalisation changed anything -> ``fixed_and_approved`` (the seller sees
  each fix);
* otherwise -> ``approved``.

A seller may resubmit a rejected, in-review or dead-lettered listing; validation restarts.

The events live in :mod:`bazaar.listings.events`, product matching in
:mod:`bazaar.listings.matching` and the operator's queue in :mod:`bazaar.listings.review`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Generic, TypedDict, TypeVar

from bazaar.catalog.attributes import AttributeDef
from bazaar.kernel.errors import Conflict, ValidationFailed
from bazaar.kernel.events import Event
from bazaar.listings.checks import (
    CheckResult,
    CheckStatus,
    ExistingOffer,
    ImageOutcome,
    ImageProbe,
    PriceDistribution,
    ProductRef,
    check_attributes,
    check_duplicate_offer,
    check_gtin_digit,
    check_images,
    check_price,
    check_prohibited_terms,
    check_schema,
)
from bazaar.listings.events import (
    ListingApproved,
    ListingDeadLettered,
    ListingNeedsReview,
    ListingRejected,
    ListingRetried,
    ListingSubmitted,
)
from bazaar.listings.matching import ProductMatch, match_product
from bazaar.listings.normalise import Fix, FixRule, ListingDraft, normalise_listing

T = TypeVar("T")


@dataclass(frozen=True)
class Changed(Generic[T]):
    """The new state of an aggregate and the events recording the change (none: no-op)."""

    value: T
    events: tuple[Event, ...] = ()


class IllegalTransition(Conflict):
    code = "illegal_transition"
    title = "Not allowed in the current state"


class ListingState(StrEnum):
    SUBMITTED = "submitted"
    VALIDATING = "validating"
    APPROVED = "approved"
    FIXED_AND_APPROVED = "fixed_and_approved"
    NEEDS_REVIEW = "needs_review"
    REJECTED = "rejected"
    DEAD_LETTERED = "dead_lettered"


class Step(StrEnum):
    SCHEMA = "schema"
    NORMALISE = "normalise"
    CHECKS = "checks"
    IMAGES = "images"
    OUTCOME = "outcome"


STEPS: tuple[Step, ...] = tuple(Step)
_RUNNING = (ListingState.SUBMITTED, ListingState.VALIDATING)
_RESUBMITTABLE = (ListingState.REJECTED, ListingState.NEEDS_REVIEW, ListingState.DEAD_LETTERED)
_EDITABLE = ("title", "description", "brand", "gtin", "mpn")
_STEADY = (ListingState.VALIDATING, 0, None, None)  # a step that ran without trouble


# -- retries and inputs ------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_s: float = 2.0
    max_s: float = 600.0

    def delay(self, attempt: int, jitter: float) -> timedelta:
        """Wait before retrying after failure number ``attempt`` (1-based): exponential,
        capped at ``max_s``, "equal jitter" as the event dispatcher uses - half fixed, half
        ``jitter`` (0..1, from the caller's random source) - so listings that failed
        together do not all return at once."""
        if not 0 <= jitter <= 1:
            raise ValueError(f"Jitter must be between 0 and 1, got {jitter}")
        ceiling = min(self.max_s, self.base_s * 2 ** max(attempt - 1, 0))
        return timedelta(seconds=ceiling / 2 + jitter * ceiling / 2)


@dataclass(frozen=True)
class TechnicalFailure:
    """A step could not run; nothing about the listing itself is known to be wrong."""

    error: str


@dataclass(frozen=True)
class ValidationContext:
    """What a step reads, loaded by the service: ``schema`` reads ``attributes`` and the
    product lookups, ``normalise`` ``attributes`` and ``known_brands``, ``checks`` the terms,
    price distribution and the seller's offers, ``images`` the probes of the listing's
    (normalised) image URLs."""

    attributes: Mapping[str, AttributeDef] = field(default_factory=dict)
    by_gtin: Mapping[str, ProductRef] = field(default_factory=dict)
    by_brand_mpn: Mapping[tuple[str, str], ProductRef] = field(default_factory=dict)
    known_brands: Sequence[str] = ()
    prohibited_terms: Sequence[str] = ()
    price_distribution: PriceDistribution | None = None
    existing_offers: Sequence[ExistingOffer] = ()
    image_probes: Sequence[ImageProbe] = ()


def decide_outcome(results: Iterable[CheckResult], fixes: Sequence[Fix]) -> ListingState:
    """The outcome rule of the module docstring."""
    statuses = {r.status for r in results}
    if CheckStatus.FAILED in statuses:
        return ListingState.REJECTED
    if CheckStatus.WARNING in statuses:
        return ListingState.NEEDS_REVIEW
    return ListingState.FIXED_AND_APPROVED if fixes else ListingState.APPROVED


def _reason(r: CheckResult) -> str:
    return f"{r.field}: {r.reason}" if r.field else r.reason


class _Subject(TypedDict):
    listing_id: str
    seller_id: str
    revision: int


# -- the aggregate ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListingValidation:
    """One submission of a listing and how far its validation has got.

    ``submitted`` is the draft as the seller sent it, ``draft`` the current (normalised,
    then reviewer-edited) one. ``step`` is the next step to run, None once decided;
    ``attempts`` counts technical failures of that step, ``next_attempt_at`` says when it
    is due again.
    """

    id: str
    submitted: ListingDraft
    submitted_at: datetime
    draft: ListingDraft
    state: ListingState = ListingState.SUBMITTED
    revision: int = 1
    step: Step | None = Step.SCHEMA
    match: ProductMatch | None = None
    fixes: tuple[Fix, ...] = ()
    results: tuple[CheckResult, ...] = ()
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    reasons: tuple[str, ...] = ()

    @property
    def seller_id(self) -> str:
        return self.submitted.seller_id

    @classmethod
    def submit(
        cls, listing_id: str, draft: ListingDraft, now: datetime
    ) -> Changed[ListingValidation]:
        """A new submission, due to start validation at once."""
        v = cls(listing_id, draft, now, draft)
        return Changed(v, (ListingSubmitted(**v._subject()),))

    def _subject(self) -> _Subject:
        return {"listing_id": self.id, "seller_id": self.seller_id, "revision": self.revision}

    def is_due(self, now: datetime) -> bool:
        """Whether a step is waiting to run now (the service's polling condition)."""
        waiting = self.next_attempt_at is None or self.next_attempt_at <= now
        return self.state in _RUNNING and self.step is not None and waiting

    def run_step(
        self,
        step: Step,
        outcome: ValidationContext | TechnicalFailure,
        *,
        now: datetime,
        policy: RetryPolicy = RetryPolicy(),
        jitter: float = 0.5,
    ) -> Changed[ListingValidation]:
        """Run ``step`` with what the service loaded, or record that it could not.

        Does nothing (no events) unless ``step`` is the current step and it is due: a
        duplicate or early delivery is harmless. A :class:`TechnicalFailure`, or an image
        probe that found a host unreachable, schedules a retry or dead-letters the listing.
        """
        if step is not self.step or not self.is_due(now):
            return Changed(self)
        if isinstance(outcome, TechnicalFailure):
            return self._technical_failure(step, outcome.error, now, policy, jitter)
        if step is Step.IMAGES:
            unreachable = [
                p.url for p in outcome.image_probes if p.outcome is ImageOutcome.UNREACHABLE
            ]
            if unreachable:
                error = f"Image host unreachable: {', '.join(unreachable)}"
                return self._technical_failure(step, error, now, policy, jitter)
        v = self
        if (v.state, v.attempts, v.next_attempt_at, v.last_error) != _STEADY:
            # copying a validation is a large share of a step's cost: only when it changes
            v = replace(
                v, state=ListingState.VALIDATING, attempts=0, next_attempt_at=None, last_error=None
            )
        return v._advance(step, outcome)

    def _technical_failure(
        self, step: Step, error: str, now: datetime, policy: RetryPolicy, jitter: float
    ) -> Changed[ListingValidation]:
        attempts = self.attempts + 1
        if attempts >= policy.max_attempts:
            v = replace(
                self,
                state=ListingState.DEAD_LETTERED,
                attempts=attempts,
                last_error=error,
                next_attempt_at=None,
            )
            event = ListingDeadLettered(
                **self._subject(), step=step.value, error=error, attempts=attempts
            )
            return Changed(v, (event,))
        due = now + policy.delay(attempts, jitter)
        return Changed(replace(self, attempts=attempts, last_error=error, next_attempt_at=due))

    def _advance(self, step: Step, ctx: ValidationContext) -> Changed[ListingValidation]:
        new_product = self.match is None
        if step is Step.SCHEMA:
            match = match_product(self.draft, ctx.by_gtin, ctx.by_brand_mpn)
            results = check_schema(self.draft, ctx.attributes, new_product=match is None)
            return Changed(
                replace(self, match=match, results=(*self.results, *results), step=Step.NORMALISE)
            )
        if step is Step.NORMALISE:
            normalised = normalise_listing(self.draft, ctx.attributes, ctx.known_brands)
            return Changed(
                replace(self, draft=normalised.draft, fixes=normalised.fixes, step=Step.CHECKS)
            )
        if step is Step.CHECKS:
            d = self.draft
            results = [
                *(check_attributes(d, ctx.attributes) if new_product else []),
                *check_gtin_digit(d),
                *check_duplicate_offer(
                    d, self.match.product if self.match else None, ctx.existing_offers
                ),
                *check_price(d.price, ctx.price_distribution),
                *check_prohibited_terms(d, ctx.prohibited_terms),
            ]
            return Changed(replace(self, results=(*self.results, *results), step=Step.IMAGES))
        if step is Step.IMAGES:
            probed = {p.url for p in ctx.image_probes}
            if probed != set(self.draft.image_urls):
                raise ValueError(f"Listing {self.id}: image probes do not match its image URLs")
            results = check_images(ctx.image_probes, required=new_product)
            return Changed(replace(self, results=(*self.results, *results), step=Step.OUTCOME))
        return self._decide()

    def _decide(self) -> Changed[ListingValidation]:
        state = decide_outcome(self.results, self.fixes)
        subject = self._subject()
        if state is ListingState.REJECTED:
            reasons = tuple(_reason(r) for r in self.results if r.status is CheckStatus.FAILED)
            event: Event = ListingRejected(**subject, reasons=reasons)
        elif state is ListingState.NEEDS_REVIEW:
            reasons = tuple(_reason(r) for r in self.results if r.status is CheckStatus.WARNING)
            event = ListingNeedsReview(**subject, reasons=reasons)
        else:
            reasons = ()
            fixed = state is ListingState.FIXED_AND_APPROVED
            event = ListingApproved(**subject, fixed=fixed, reviewed=False)
        return Changed(replace(self, state=state, step=None, reasons=reasons), (event,))

    # -- operators and sellers ------------------------------------------------------------------

    def _require(self, states: Sequence[ListingState], verb: str) -> None:
        if self.state not in states:
            raise IllegalTransition(f"Listing {self.id} is {self.state}: cannot {verb}")

    def retry_dead_letter(self) -> Changed[ListingValidation]:
        """``dead_lettered`` -> ``validating`` at the step that failed, due at once, with a
        fresh allowance of attempts."""
        self._require((ListingState.DEAD_LETTERED,), "retry")
        v = replace(self, state=ListingState.VALIDATING, attempts=0, next_attempt_at=None)
        return Changed(v, (ListingRetried(**self._subject(), step=str(self.step)),))

    def approve_after_review(
        self, edits: Mapping[str, object] | None = None
    ) -> Changed[ListingValidation]:
        """``needs_review`` -> approved, applying a reviewer's ``edits`` first.

        Edits name ``title``, ``description``, ``brand``, ``gtin``, ``mpn`` (text) or
        ``attributes.<name>`` (any attribute value); each is recorded as a :class:`Fix`
        (rule ``operator_edit``) so the seller sees it. The price is the seller's and cannot
        be edited. The result is ``fixed_and_approved`` when anything was changed along the
        way, else ``approved``. Raises ``ValidationFailed`` on ``edits.<name>``.
        """
        self._require((ListingState.NEEDS_REVIEW,), "approve")
        draft, fixes = self.draft, list(self.fixes)
        for name, value in (edits or {}).items():
            if name.startswith("attributes."):
                attribute = name.removeprefix("attributes.")
                before = draft.attributes.get(attribute)
                draft = replace(draft, attributes={**draft.attributes, attribute: value})
            elif name not in _EDITABLE:
                raise ValidationFailed.on(f"edits.{name}", "Not an editable field", "not_editable")
            elif not isinstance(value, str):
                raise ValidationFailed.on(f"edits.{name}", "Must be text", "invalid")
            else:
                before = getattr(draft, name)
                draft = replace(draft, **{name: value})  # type: ignore[arg-type]
            shown = ("" if before is None else str(before), str(value))
            fixes.append(Fix(name, *shown, FixRule.OPERATOR_EDIT))
        state = ListingState.FIXED_AND_APPROVED if fixes else ListingState.APPROVED
        v = replace(self, draft=draft, fixes=tuple(fixes), state=state, reasons=())
        event = ListingApproved(**self._subject(), fixed=bool(fixes), reviewed=True)
        return Changed(v, (event,))

    def reject(self, reason: str) -> Changed[ListingValidation]:
        """``needs_review`` or ``dead_lettered`` -> ``rejected`` with the operator's reason."""
        self._require((ListingState.NEEDS_REVIEW, ListingState.DEAD_LETTERED), "reject")
        if not reason.strip():
            raise ValidationFailed.on("reason", "Say why the listing is rejected", "required")
        reasons = (reason.strip(),)
        v = replace(self, state=ListingState.REJECTED, step=None, reasons=reasons)
        return Changed(v, (ListingRejected(**self._subject(), reasons=reasons),))

    def resubmit(self, draft: ListingDraft, now: datetime) -> Changed[ListingValidation]:
        """A seller's corrected listing: validation starts over as a new revision."""
        self._require(_RESUBMITTABLE, "resubmit")
        if draft.seller_id != self.seller_id:
            raise ValueError(f"Listing {self.id} belongs to seller {self.seller_id}")
        v = ListingValidation(self.id, draft, now, draft, revision=self.revision + 1)
        return Changed(v, (ListingSubmitted(**v._subject()),))
