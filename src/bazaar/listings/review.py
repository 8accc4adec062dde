"""The operator's review queue: listings waiting for a reviewer's decision. Pure Python."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bazaar.listings.checks import CheckResult, CheckStatus
from bazaar.listings.normalise import Fix
from bazaar.listings.workflow import ListingState, ListingValidation


@dataclass(frozen=True)
class ReviewItem:
    """A listing waiting for a reviewer: what did not pass, with suggestions, and the
    automatic fixes already applied."""

    listing_id: str
    seller_id: str
    title: str
    submitted_at: datetime
    failing: tuple[CheckResult, ...]
    fixes: tuple[Fix, ...]


def review_queue(validations: Iterable[ListingValidation]) -> list[ReviewItem]:
    """The listings in ``needs_review``, oldest submission first."""
    waiting = sorted(
        (v for v in validations if v.state is ListingState.NEEDS_REVIEW),
        key=lambda v: (v.submitted_at, v.id),
    )
    return [
        ReviewItem(
            v.id,
            v.seller_id,
            v.draft.title,
            v.submitted_at,
            tuple(r for r in v.results if r.status is not CheckStatus.PASSED),
            v.fixes,
        )
        for v in waiting
    ]
