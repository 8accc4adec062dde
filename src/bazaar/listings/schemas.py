"""Request and response models of listings, the review queue and feed imports.

A listing body is taken as the seller wrote it: strings are not trimmed here, because
trimming is one of the automatic fixes the seller is shown. Only the shape is checked at the
edge (types, sizes, a known category and the store's currency); everything about the content
is the validation workflow's to judge, with reasons the seller can act on.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from bazaar.catalog.model import MAX_DESCRIPTION, MAX_MPN, MAX_NAME
from bazaar.http.schemas import MoneyModel
from bazaar.listings.checks import CheckName, CheckResult, CheckStatus
from bazaar.listings.feed_runs import FeedFormat, FeedRun, FeedStatus
from bazaar.listings.normalise import Fix, FixRule, ListingDraft
from bazaar.listings.records import ListingRecord
from bazaar.listings.review import ReviewItem
from bazaar.listings.workflow import ListingState, Step

MAX_IMAGES = 10
MAX_ATTRIBUTES = 100

AttributeName = Annotated[str, Field(min_length=1, max_length=40)]
AttributeValue = StrictBool | StrictInt | StrictFloat | Annotated[StrictStr, Field(max_length=500)]
ImageUrl = Annotated[str, Field(min_length=1, max_length=2000)]


class ListingCreate(BaseModel):
    """A listing: an offer (``price``) on a catalog product found by ``gtin`` or ``brand`` +
    ``mpn``, or a new product described by the other fields."""

    model_config = ConfigDict(extra="forbid")

    category: Annotated[
        str,
        Field(min_length=1, max_length=700, description="Category id or slug path"),
    ]
    price: MoneyModel
    title: Annotated[str, Field(max_length=1000)] = ""
    brand: Annotated[str, Field(max_length=MAX_NAME)] | None = None
    gtin: Annotated[str, Field(max_length=40)] | None = None
    mpn: Annotated[str, Field(max_length=MAX_MPN)] | None = None
    description: Annotated[str, Field(max_length=MAX_DESCRIPTION)] = ""
    attributes: Annotated[
        dict[AttributeName, AttributeValue | None], Field(max_length=MAX_ATTRIBUTES)
    ] = Field(default_factory=dict)
    image_urls: Annotated[list[ImageUrl], Field(max_length=MAX_IMAGES)] = Field(
        default_factory=list
    )

    def to_draft(self, seller_id: str, category_id: str) -> ListingDraft:
        return ListingDraft(
            seller_id=seller_id,
            category_id=category_id,
            title=self.title,
            price=self.price.to_money(),
            brand=self.brand,
            gtin=self.gtin,
            mpn=self.mpn,
            description=self.description,
            attributes=dict(self.attributes),
            image_urls=tuple(self.image_urls),
        )


def _shown(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


class ListingDraftOut(BaseModel):
    title: str
    price: MoneyModel
    brand: str | None
    gtin: str | None
    mpn: str | None
    description: str
    attributes: dict[str, object]
    image_urls: list[str]

    @classmethod
    def of(cls, d: ListingDraft) -> ListingDraftOut:
        return cls(
            title=d.title,
            price=MoneyModel.of(d.price),
            brand=d.brand,
            gtin=d.gtin,
            mpn=d.mpn,
            description=d.description,
            attributes={name: _shown(v) for name, v in d.attributes.items()},
            image_urls=list(d.image_urls),
        )


class FixOut(BaseModel):
    field: str
    before: str
    after: str = Field(description="Empty when the value was removed")
    rule: FixRule

    @classmethod
    def of(cls, f: Fix) -> FixOut:
        return cls(field=f.field, before=f.before, after=f.after, rule=f.rule)


class CheckOut(BaseModel):
    check: CheckName
    status: CheckStatus
    field: str | None
    reason: str
    suggestion: str | None

    @classmethod
    def of(cls, r: CheckResult) -> CheckOut:
        return cls(
            check=r.check, status=r.status, field=r.field, reason=r.reason, suggestion=r.suggestion
        )


class MatchOut(BaseModel):
    product_id: str
    variant_id: str | None
    matched_by: str = Field(description="gtin or brand_mpn")


class ListingOut(BaseModel):
    id: str
    status: ListingState
    revision: int = Field(description="1, then one more with each resubmission")
    category_id: str
    pending_step: Step | None = Field(description="The validation step still to run")
    match: MatchOut | None = Field(description="The catalog product offered; null: a new one")
    submitted: ListingDraftOut = Field(description="The listing as the seller sent it")
    listing: ListingDraftOut = Field(description="After automatic fixes and reviewer edits")
    fixes: list[FixOut]
    checks: list[CheckOut]
    reasons: list[str] = Field(description="Why it was rejected or waits for review")
    attempts: int = Field(description="Technical failures of the pending step so far")
    last_error: str | None
    next_attempt_at: datetime | None
    live: bool = Field(description="Approved and on sale in the catalog")
    publish_error: str | None = Field(description="Why an approved listing is not live yet")
    product_id: str | None
    offer_id: str | None
    feed_id: str | None
    feed_line: int | None
    submitted_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, r: ListingRecord) -> ListingOut:
        v = r.validation
        match = None
        if v.match is not None:
            ref = v.match.product
            match = MatchOut(
                product_id=ref.product_id, variant_id=ref.variant_id, matched_by=v.match.matched_by
            )
        return cls(
            id=v.id,
            status=v.state,
            revision=v.revision,
            category_id=v.draft.category_id,
            pending_step=v.step,
            match=match,
            submitted=ListingDraftOut.of(v.submitted),
            listing=ListingDraftOut.of(v.draft),
            fixes=[FixOut.of(f) for f in v.fixes],
            checks=[CheckOut.of(c) for c in v.results],
            reasons=list(v.reasons),
            attempts=v.attempts,
            last_error=v.last_error,
            next_attempt_at=v.next_attempt_at,
            live=r.live,
            publish_error=None if r.live else r.publish_error,
            product_id=r.product_id if r.live else None,
            offer_id=r.offer_id if r.live else None,
            feed_id=r.feed_id,
            feed_line=r.feed_line,
            submitted_at=v.submitted_at,
            updated_at=r.updated_at,
        )


class ListingPage(BaseModel):
    items: list[ListingOut]
    next_cursor: str | None = None


class ReviewItemOut(BaseModel):
    listing_id: str
    seller_id: str
    title: str
    submitted_at: datetime
    failing: list[CheckOut] = Field(description="Checks that did not pass, with suggestions")
    suggested_fixes: list[str] = Field(description="The failing checks' suggestions")
    fixes: list[FixOut] = Field(description="Automatic fixes already applied")
    listing: ListingDraftOut

    @classmethod
    def of(cls, item: ReviewItem, draft: ListingDraft) -> ReviewItemOut:
        return cls(
            listing_id=item.listing_id,
            seller_id=item.seller_id,
            title=item.title,
            submitted_at=item.submitted_at,
            failing=[CheckOut.of(c) for c in item.failing],
            suggested_fixes=[c.suggestion for c in item.failing if c.suggestion],
            fixes=[FixOut.of(f) for f in item.fixes],
            listing=ListingDraftOut.of(draft),
        )


class ReviewPage(BaseModel):
    items: list[ReviewItemOut]
    next_cursor: str | None = None


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    edits: Annotated[
        dict[Annotated[str, Field(max_length=60)], AttributeValue | None],
        Field(
            max_length=MAX_ATTRIBUTES,
            description="Fields to change first: title, description, brand, gtin, mpn or "
            "attributes.<name>",
            examples=[{"title": "Insulated bottle 1 l", "attributes.colour": "grey"}],
        ),
    ] = Field(default_factory=dict)


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=500)]


class RowErrorOut(BaseModel):
    line: int
    field: str = Field(description="Field (JSONL) or column (CSV); `line` for unreadable rows")
    reason: str
    code: str


class FeedRowOut(BaseModel):
    line: int
    listing_id: str
    status: ListingState
    reasons: list[str]


class FeedProgress(BaseModel):
    lines_done: int
    listings: int = Field(description="Rows that became listings")
    failed: int = Field(description="Rows that could not become a listing (see `errors`)")
    validation: dict[str, int] = Field(description="The feed's listings by status")


class FeedOut(BaseModel):
    id: str
    status: FeedStatus
    format: FeedFormat
    progress: FeedProgress
    errors: list[RowErrorOut] = Field(description="Row errors in file order, at most 1,000")
    error_count: int
    more_errors: int
    results: list[FeedRowOut] = Field(description="Per-row results, in file order, a page")
    next_cursor: str | None = Field(None, description="The next page of `results`")
    attempts: int
    error: str | None = Field(None, description="Why the import failed, or its last crash")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(
        cls,
        run: FeedRun,
        states: Mapping[str, int],
        rows: list[ListingRecord],
        next_cursor: str | None,
    ) -> FeedOut:
        return cls(
            id=run.id,
            status=run.status,
            format=run.format,
            progress=FeedProgress(
                lines_done=run.lines_done,
                listings=run.listings,
                failed=run.failed,
                validation=dict(states),
            ),
            errors=[RowErrorOut(**e.to_dict()) for e in run.errors],
            error_count=run.error_count,
            more_errors=run.more_errors,
            results=[
                FeedRowOut(
                    line=r.feed_line or 0,
                    listing_id=r.id,
                    status=r.validation.state,
                    reasons=list(r.validation.reasons),
                )
                for r in rows
            ],
            next_cursor=next_cursor,
            attempts=run.attempts,
            error=run.error,
            created_at=run.created_at,
            started_at=run.started_at,
            finished_at=run.finished_at,
        )
