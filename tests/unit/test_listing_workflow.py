"""The listing validation workflow: steps, outcomes, retries, dead letters and review."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bazaar.catalog.attributes import AttributeDef, AttributeType
from bazaar.kernel.errors import Conflict, ValidationFailed
from bazaar.kernel.money import Money
from bazaar.listings.checks import (
    CheckName,
    CheckResult,
    CheckStatus,
    ExistingOffer,
    ImageOutcome,
    ImageProbe,
    PriceDistribution,
    ProductRef,
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
from bazaar.listings.normalise import Fix, FixRule, ListingDraft
from bazaar.listings.review import review_queue
from bazaar.listings.workflow import (
    STEPS,
    IllegalTransition,
    ListingState,
    ListingValidation,
    RetryPolicy,
    Step,
    TechnicalFailure,
    ValidationContext,
    decide_outcome,
)

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
IMAGE = "https://img.example/bottle.jpg"
ATTRIBUTES = {
    "color": AttributeDef("color", AttributeType.ENUM, True, ("black", "gray")),
    "volume": AttributeDef("volume", AttributeType.NUMBER, False, unit="l"),
}


def draft(**changes: object) -> ListingDraft:
    base: dict[str, object] = {
        "seller_id": "sel_1",
        "category_id": "cat_bottles",
        "title": "Insulated bottle",
        "price": Money(2999, "EUR"),
        "brand": "Hydro",
        "gtin": "4006381333931",
        "attributes": {"color": "black", "volume": 1},
        "image_urls": (IMAGE,),
    }
    return ListingDraft(**{**base, **changes})  # type: ignore[arg-type]


def context(listing: ListingDraft | None = None, **changes: object) -> ValidationContext:
    urls = (listing or draft()).image_urls
    base: dict[str, object] = {
        "attributes": ATTRIBUTES,
        "known_brands": ["Hydro"],
        "prohibited_terms": ["replica"],
        "price_distribution": PriceDistribution(Money(3000, "EUR"), 100),
        "image_probes": [ImageProbe(url.strip(), ImageOutcome.OK) for url in urls],
    }
    return ValidationContext(**{**base, **changes})  # type: ignore[arg-type]


def submit(listing: ListingDraft | None = None) -> ListingValidation:
    return ListingValidation.submit("lst_1", listing or draft(), NOW).value


def run_all(
    v: ListingValidation, ctx: ValidationContext, now: datetime = NOW
) -> tuple[ListingValidation, list[object]]:
    events: list[object] = []
    while v.step is not None and v.is_due(now):
        changed = v.run_step(v.step, ctx, now=now)
        v = changed.value
        events += changed.events
    return v, events


# -- outcomes -----------------------------------------------------------------------------------


def test_a_clean_listing_is_approved_without_fixes() -> None:
    # Given a complete, clean listing for a new product
    submitted = ListingValidation.submit("lst_1", draft(), NOW)
    assert submitted.events == (
        ListingSubmitted(listing_id="lst_1", seller_id="sel_1", revision=1),
    )
    # When every step runs
    v, events = run_all(submitted.value, context())
    # Then it is approved, each step having run once, in order
    assert v.state is ListingState.APPROVED
    assert v.step is None
    assert v.fixes == ()
    assert {r.status for r in v.results} == {CheckStatus.PASSED}
    assert [r.check for r in v.results] == [
        CheckName.SCHEMA,
        CheckName.ATTRIBUTES,
        CheckName.GTIN,
        CheckName.DUPLICATE_OFFER,
        CheckName.PRICE,
        CheckName.PROHIBITED_TERMS,
        CheckName.IMAGES,
    ]
    assert events == [
        ListingApproved(
            listing_id="lst_1", seller_id="sel_1", revision=1, fixed=False, reviewed=False
        )
    ]


def test_fixes_applied_and_all_passed_is_fixed_and_approved() -> None:
    listing = draft(title=" Insulated  bottle", brand="HYDRO", attributes={"color": "Grey"})
    v, events = run_all(submit(listing), context(listing))
    assert v.state is ListingState.FIXED_AND_APPROVED
    assert v.submitted == listing
    assert (v.draft.title, v.draft.brand, v.draft.attributes) == (
        "Insulated bottle",
        "Hydro",
        {"color": "gray"},
    )
    assert [(f.field, f.rule) for f in v.fixes] == [
        ("title", FixRule.WHITESPACE),
        ("brand", FixRule.BRAND_CASING),
        ("attributes.color", FixRule.COLOUR_SYNONYM),
    ]
    assert events == [
        ListingApproved(
            listing_id="lst_1", seller_id="sel_1", revision=1, fixed=True, reviewed=False
        )
    ]


def test_a_hard_failure_rejects_with_every_reason() -> None:
    listing = draft(gtin="4006381333932", title="Replica bottle", attributes={})
    v, events = run_all(submit(listing), context(listing))
    assert v.state is ListingState.REJECTED
    assert v.reasons == (
        "attributes.color: Required by the category",
        "gtin: The check digit is wrong",
        "title: Contains 'replica'",
    )
    assert events == [
        ListingRejected(listing_id="lst_1", seller_id="sel_1", revision=1, reasons=v.reasons)
    ]


def test_a_soft_failure_goes_to_review() -> None:
    listing = draft(price=Money(99, "EUR"))
    v, events = run_all(submit(listing), context(listing))
    assert v.state is ListingState.NEEDS_REVIEW
    assert events == [
        ListingNeedsReview(
            listing_id="lst_1",
            seller_id="sel_1",
            revision=1,
            reasons=("price: 0.99 EUR is far below the category's usual 30.00 EUR",),
        )
    ]


def test_hard_failures_win_over_soft_ones() -> None:
    listing = draft(price=Money(99, "EUR"), title="replica")
    v, _ = run_all(submit(listing), context(listing))
    assert v.state is ListingState.REJECTED


@pytest.mark.parametrize(
    ("statuses", "fixed", "state"),
    [
        ((), False, ListingState.APPROVED),
        ((CheckStatus.PASSED,), True, ListingState.FIXED_AND_APPROVED),
        ((CheckStatus.PASSED, CheckStatus.WARNING), True, ListingState.NEEDS_REVIEW),
        ((CheckStatus.WARNING, CheckStatus.FAILED), False, ListingState.REJECTED),
    ],
)
def test_the_outcome_rule(
    statuses: tuple[CheckStatus, ...], fixed: bool, state: ListingState
) -> None:
    results = [CheckResult(CheckName.PRICE, s) for s in statuses]
    fixes = [Fix("title", "a ", "a", FixRule.WHITESPACE)] if fixed else []
    assert decide_outcome(results, fixes) is state


# -- offers on catalog products -----------------------------------------------------------------


def test_an_offer_on_a_catalog_product_skips_product_data_but_warns_of_a_duplicate() -> None:
    # Given a listing whose GTIN is a catalog variant the seller already sells
    listing = draft(title="", attributes={}, image_urls=())
    ctx = context(
        listing,
        by_gtin={"4006381333931": ProductRef("prd_1", "var_1")},
        existing_offers=[ExistingOffer("off_7", "sel_1", "prd_1", "var_1")],
    )
    # When validated
    v, _ = run_all(submit(listing), ctx)
    # Then no title, attributes or images were demanded, but the duplicate goes to review
    assert v.match == ProductMatch(ProductRef("prd_1", "var_1"), "gtin")
    assert v.state is ListingState.NEEDS_REVIEW
    assert [(r.check, r.status) for r in v.results if r.status is not CheckStatus.PASSED] == [
        (CheckName.DUPLICATE_OFFER, CheckStatus.WARNING)
    ]


def test_match_by_gtin_first_across_gtin_lengths() -> None:
    by_gtin = {"036000291452": ProductRef("prd_upc", "var_1")}  # stored as UPC-A (12 digits)
    by_brand_mpn = {("Hydro", "HF-21"): ProductRef("prd_mpn")}
    listing = draft(gtin="0036000291452", mpn="HF-21")  # the same item as EAN-13
    assert match_product(listing, by_gtin, by_brand_mpn) == ProductMatch(
        ProductRef("prd_upc", "var_1"), "gtin"
    )


def test_match_by_brand_and_mpn_ignores_case_and_spacing() -> None:
    by_brand_mpn = {("Hydro Flask", "HF-21 B"): ProductRef("prd_mpn")}
    listing = draft(gtin=None, brand=" hydro  FLASK", mpn="hf-21  b")
    assert match_product(listing, {}, by_brand_mpn) == ProductMatch(
        ProductRef("prd_mpn"), "brand_mpn"
    )


def test_a_gtin_with_a_bad_check_digit_matches_nothing() -> None:
    by_gtin = {"4006381333932": ProductRef("prd_x")}
    assert match_product(draft(gtin="4006381333932"), by_gtin, {}) is None
    assert match_product(draft(gtin=None, mpn=None), by_gtin, {}) is None


# -- idempotent steps, retries and dead letters ---------------------------------------------------


def test_running_a_step_again_or_out_of_order_changes_nothing() -> None:
    v = submit()
    after_schema = v.run_step(Step.SCHEMA, context(), now=NOW).value
    assert after_schema.step is Step.NORMALISE
    for step in (Step.SCHEMA, Step.CHECKS, Step.OUTCOME):
        changed = after_schema.run_step(step, context(), now=NOW)
        assert changed.value is after_schema
        assert changed.events == ()


def test_a_technical_failure_is_retried_with_backoff_then_dead_lettered() -> None:
    policy = RetryPolicy(max_attempts=3, base_s=2, max_s=600)
    v = submit()
    failure = TechnicalFailure("category service timed out")
    # First failure: the ceiling is base_s (2 s); jitter 1.0 takes all of it (0.0 would half)
    first = v.run_step(Step.SCHEMA, failure, now=NOW, policy=policy, jitter=1.0)
    v = first.value
    assert (v.attempts, v.step, v.state, first.events) == (
        1,
        Step.SCHEMA,
        ListingState.SUBMITTED,
        (),
    )
    assert v.next_attempt_at == NOW + timedelta(seconds=2)
    assert v.last_error == "category service timed out"
    # Not due yet: running early does nothing
    assert v.run_step(Step.SCHEMA, context(), now=NOW + timedelta(seconds=1)).value is v
    # Second failure: the ceiling doubles
    later = NOW + timedelta(seconds=2)
    v = v.run_step(Step.SCHEMA, failure, now=later, policy=policy, jitter=1.0).value
    assert (v.attempts, v.next_attempt_at) == (2, later + timedelta(seconds=4))
    # Third failure: attempts used up
    last = v.run_step(Step.SCHEMA, failure, now=later + timedelta(seconds=4), policy=policy)
    v = last.value
    assert v.state is ListingState.DEAD_LETTERED
    assert (v.step, v.attempts, v.next_attempt_at) == (Step.SCHEMA, 3, None)
    assert last.events == (
        ListingDeadLettered(
            listing_id="lst_1",
            seller_id="sel_1",
            revision=1,
            step="schema",
            error="category service timed out",
            attempts=3,
        ),
    )
    assert not v.is_due(NOW + timedelta(days=1))


def test_a_dead_letter_is_kept_and_resumes_at_the_failed_step() -> None:
    # Given a listing dead-lettered at the images step
    v = submit()
    for step in (Step.SCHEMA, Step.NORMALISE, Step.CHECKS):
        v = v.run_step(step, context(), now=NOW).value
    unreachable = context(image_probes=[ImageProbe(IMAGE, ImageOutcome.UNREACHABLE)])
    policy = RetryPolicy(max_attempts=1)
    v = v.run_step(Step.IMAGES, unreachable, now=NOW, policy=policy).value
    assert v.state is ListingState.DEAD_LETTERED
    assert v.last_error == f"Image host unreachable: {IMAGE}"
    results_before = v.results
    # When an operator retries it
    retried = v.retry_dead_letter()
    assert retried.events == (
        ListingRetried(listing_id="lst_1", seller_id="sel_1", revision=1, step="images"),
    )
    # Then it continues from images, keeping the earlier steps' work, and finishes
    v, _ = run_all(retried.value, context())
    assert v.state is ListingState.APPROVED
    assert v.results[: len(results_before)] == results_before


def test_only_a_dead_letter_can_be_retried() -> None:
    with pytest.raises(IllegalTransition):
        submit().retry_dead_letter()


@given(st.integers(1, 30), st.floats(0, 1))
def test_backoff_doubles_with_jitter_within_bounds(attempt: int, jitter: float) -> None:
    policy = RetryPolicy(base_s=2, max_s=600)
    ceiling = min(600, 2 * 2 ** (attempt - 1))
    delay = policy.delay(attempt, jitter).total_seconds()
    assert ceiling / 2 - 1e-6 <= delay <= ceiling + 1e-6


def test_jitter_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="Jitter"):
        RetryPolicy().delay(1, 1.5)


def test_image_probes_must_cover_the_listings_images() -> None:
    v = submit()
    for step in (Step.SCHEMA, Step.NORMALISE, Step.CHECKS):
        v = v.run_step(step, context(), now=NOW).value
    with pytest.raises(ValueError, match="image probes"):
        v.run_step(Step.IMAGES, context(image_probes=[]), now=NOW)


# -- review, rejection and resubmission ---------------------------------------------------------


def in_review() -> ListingValidation:
    listing = draft(price=Money(99, "EUR"))
    v, _ = run_all(submit(listing), context(listing))
    assert v.state is ListingState.NEEDS_REVIEW
    return v


def test_the_review_queue_lists_failing_checks_with_suggestions_oldest_first() -> None:
    older = ListingValidation.submit(
        "lst_0", draft(price=Money(99, "EUR")), NOW - timedelta(hours=1)
    )
    older_done, _ = run_all(older.value, context())
    approved, _ = run_all(ListingValidation.submit("lst_2", draft(), NOW).value, context())
    queue = review_queue([in_review(), approved, older_done])
    assert [item.listing_id for item in queue] == ["lst_0", "lst_1"]
    assert [(r.check, r.field, r.suggestion) for r in queue[1].failing] == [
        (
            CheckName.PRICE,
            "price",
            "Check the price, and that it is in major units of the currency",
        )
    ]
    assert (queue[1].seller_id, queue[1].title, queue[1].fixes) == ("sel_1", "Insulated bottle", ())


def test_approval_after_review_with_edits_shows_each_edit_as_a_fix() -> None:
    approved = in_review().approve_after_review(
        {"title": "Insulated bottle 1 l", "attributes.color": "gray"}
    )
    v = approved.value
    assert v.state is ListingState.FIXED_AND_APPROVED
    assert (v.draft.title, v.draft.attributes["color"]) == ("Insulated bottle 1 l", "gray")
    assert v.fixes == (
        Fix("title", "Insulated bottle", "Insulated bottle 1 l", FixRule.OPERATOR_EDIT),
        Fix("attributes.color", "black", "gray", FixRule.OPERATOR_EDIT),
    )
    assert approved.events == (
        ListingApproved(
            listing_id="lst_1", seller_id="sel_1", revision=1, fixed=True, reviewed=True
        ),
    )


def test_approval_after_review_without_edits() -> None:
    v = in_review().approve_after_review().value
    assert (v.state, v.reasons) == (ListingState.APPROVED, ())


def test_the_price_cannot_be_edited_by_a_reviewer() -> None:
    with pytest.raises(ValidationFailed) as caught:
        in_review().approve_after_review({"price": "10.00"})
    assert [(e.field, e.code) for e in caught.value.errors] == [("edits.price", "not_editable")]


def test_attribute_edits_keep_their_type_and_text_fields_need_text() -> None:
    v = in_review().approve_after_review({"attributes.volume": 2}).value
    assert v.draft.attributes["volume"] == 2
    assert v.fixes == (Fix("attributes.volume", "1", "2", FixRule.OPERATOR_EDIT),)
    with pytest.raises(ValidationFailed) as caught:
        in_review().approve_after_review({"title": 3})
    assert [(e.field, e.code) for e in caught.value.errors] == [("edits.title", "invalid")]


def test_an_operator_rejects_with_a_reason() -> None:
    rejected = in_review().reject("  Price looks like a placeholder ")
    assert rejected.value.state is ListingState.REJECTED
    assert rejected.events == (
        ListingRejected(
            listing_id="lst_1",
            seller_id="sel_1",
            revision=1,
            reasons=("Price looks like a placeholder",),
        ),
    )
    with pytest.raises(ValidationFailed):
        in_review().reject(" ")


def test_decisions_are_only_taken_in_review() -> None:
    approved, _ = run_all(submit(), context())
    with pytest.raises(IllegalTransition) as caught:
        approved.approve_after_review()
    assert isinstance(caught.value, Conflict)
    with pytest.raises(IllegalTransition):
        approved.reject("no")
    with pytest.raises(IllegalTransition):
        approved.resubmit(draft(), NOW)


def test_a_seller_resubmits_a_rejected_listing_as_a_new_revision() -> None:
    listing = draft(title="Replica bottle")
    rejected, _ = run_all(submit(listing), context(listing))
    assert rejected.state is ListingState.REJECTED
    later = NOW + timedelta(hours=2)
    resubmitted = rejected.resubmit(draft(), later)
    v = resubmitted.value
    assert (v.state, v.revision, v.step, v.results, v.fixes, v.submitted_at) == (
        ListingState.SUBMITTED,
        2,
        Step.SCHEMA,
        (),
        (),
        later,
    )
    assert resubmitted.events == (
        ListingSubmitted(listing_id="lst_1", seller_id="sel_1", revision=2),
    )
    v, events = run_all(v, context(), now=later)
    assert v.state is ListingState.APPROVED
    assert events == [
        ListingApproved(
            listing_id="lst_1", seller_id="sel_1", revision=2, fixed=False, reviewed=False
        )
    ]


def test_another_sellers_draft_cannot_replace_a_listing() -> None:
    with pytest.raises(ValueError, match="belongs to seller sel_1"):
        in_review().resubmit(draft(seller_id="sel_2"), NOW)


def test_steps_are_in_the_documented_order() -> None:
    assert [s.value for s in STEPS] == ["schema", "normalise", "checks", "images", "outcome"]
