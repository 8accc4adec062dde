"""Listing routes: sellers submit and follow their listings and feeds (with their own key or
session); reviewers work the review queue; operators retry dead-lettered listings.

Every answer holds one seller's data and is ``no-store``. A feed upload may be far bigger than
the API's usual body limit: :func:`body_limits` lists the path the edge lets through up to
``import_max_bytes``.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from bazaar.http.deps import (
    DEFAULT_LIMIT,
    ContainerDep,
    CurrentPrincipal,
    Cursor,
    Limit,
    Operator,
    Staff,
)
from bazaar.kernel.errors import ValidationFailed
from bazaar.listings.feed_runs import FeedFormat
from bazaar.listings.schemas import (
    ApproveIn,
    FeedOut,
    ListingCreate,
    ListingOut,
    ListingPage,
    RejectIn,
    ReviewItemOut,
    ReviewPage,
)
from bazaar.listings.workflow import ListingState


def _no_store(response: Response) -> None:
    response.headers["Cache-Control"] = "no-store"


router = APIRouter(prefix="/api/v1", tags=["listings"], dependencies=[Depends(_no_store)])

FEED_UPLOAD = "/api/v1/seller/listings/import"
MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the file

ListingId = Annotated[str, Path(max_length=40)]
FeedId = Annotated[str, Path(max_length=40)]

_MEDIA_TYPES = {
    "application/x-ndjson": FeedFormat.JSONL,
    "application/jsonl": FeedFormat.JSONL,
    "application/x-jsonlines": FeedFormat.JSONL,
    "text/csv": FeedFormat.CSV,
    "application/csv": FeedFormat.CSV,
}
_EXTENSIONS = {"jsonl": FeedFormat.JSONL, "ndjson": FeedFormat.JSONL, "csv": FeedFormat.CSV}


def body_limits(import_max_bytes: int) -> list[tuple[re.Pattern[str], int]]:
    """The feed upload path may carry a body up to the import limit, for the edge."""
    return [(re.compile(re.escape(FEED_UPLOAD) + "$"), import_max_bytes + MULTIPART_OVERHEAD)]


def _format_of(
    given: FeedFormat | None, content_type: str | None, filename: str | None
) -> FeedFormat:
    if given is not None:
        return given
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type in _MEDIA_TYPES:
        return _MEDIA_TYPES[media_type]
    ext = filename.rsplit(".", 1)[-1].lower() if filename and "." in filename else ""
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    raise HTTPException(
        status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        detail="Send JSONL (application/x-ndjson) or CSV (text/csv), or say ?format=jsonl|csv",
    )


# --- sellers ---------------------------------------------------------------------------------


@router.post(
    "/seller/listings",
    status_code=status.HTTP_201_CREATED,
    response_model=ListingOut,
    summary="Submit a listing (seller): an offer on a catalog product, or a new product",
    description="Validation runs in the background; follow the listing at `Location`.",
)
def submit_listing(
    body: ListingCreate, who: CurrentPrincipal, c: ContainerDep, response: Response
) -> ListingOut:
    record = c.listings.submit(who, body.to_draft("", body.category))
    response.headers["Location"] = f"/api/v1/seller/listings/{record.id}"
    return ListingOut.of(record)


@router.get("/seller/listings", response_model=ListingPage, summary="My listings, newest first")
def list_listings(
    who: CurrentPrincipal,
    c: ContainerDep,
    listing_status: Annotated[
        list[ListingState] | None,
        Query(alias="status", description="Only these statuses (repeatable)"),
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> ListingPage:
    page = c.listings.list_listings(who, states=listing_status, limit=limit, cursor=cursor)
    return ListingPage(items=[ListingOut.of(r) for r in page.items], next_cursor=page.next_cursor)


@router.get(
    "/seller/listings/{listing_id}",
    response_model=ListingOut,
    summary="One of my listings: status, fixes, check results and reasons",
)
def get_listing(listing_id: ListingId, who: CurrentPrincipal, c: ContainerDep) -> ListingOut:
    return ListingOut.of(c.listings.get(who, listing_id))


@router.put(
    "/seller/listings/{listing_id}",
    response_model=ListingOut,
    summary="Correct a rejected, in-review or dead-lettered listing and resubmit it",
)
def resubmit_listing(
    listing_id: ListingId, body: ListingCreate, who: CurrentPrincipal, c: ContainerDep
) -> ListingOut:
    return ListingOut.of(c.listings.resubmit(who, listing_id, body.to_draft("", body.category)))


@router.post(
    "/seller/listings/import",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=FeedOut,
    summary="Import a feed of listings (CSV or JSONL), as a background job",
    description=(
        "The file is the raw body (`Content-Type: application/x-ndjson` or `text/csv`) or the "
        "multipart field `file`. Answers 202; follow the import at `Location`. Formats: "
        "docs/listings.md."
    ),
)
async def import_listings(
    request: Request,
    who: CurrentPrincipal,
    c: ContainerDep,
    response: Response,
    format: Annotated[FeedFormat | None, Query(description="jsonl or csv")] = None,
) -> FeedOut:
    content_type = request.headers.get("content-type", "")
    if content_type.lower().startswith("multipart/form-data"):
        async with request.form(max_files=1, max_fields=10) as form:
            file = form.get("file")
            if not isinstance(file, UploadFile):
                raise ValidationFailed.on("file", "Send the file in the multipart field 'file'")
            data = await file.read()
            fmt = _format_of(format, file.content_type, file.filename)
    else:
        data = await request.body()
        fmt = _format_of(format, content_type, None)
    run = await run_in_threadpool(c.listing_feeds.submit, who, data, fmt)
    response.headers["Location"] = f"/api/v1/seller/listings/imports/{run.id}"
    return FeedOut.of(run, {}, [], None)


@router.get(
    "/seller/listings/imports/{feed_id}",
    response_model=FeedOut,
    summary="A feed import: progress, row errors and per-row results (a page)",
)
def get_import(
    feed_id: FeedId,
    who: CurrentPrincipal,
    c: ContainerDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> FeedOut:
    view = c.listing_feeds.get(who, feed_id, limit=limit, cursor=cursor)
    return FeedOut.of(view.run, view.states, view.rows, view.next_cursor)


# --- reviewers and operators -----------------------------------------------------------------


@router.get(
    "/admin/listings/review",
    response_model=ReviewPage,
    summary="The review queue (reviewer): failing checks and suggested fixes, oldest first",
)
def review_queue(
    who: Staff, c: ContainerDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> ReviewPage:
    page = c.listings.review_queue(who, limit=limit, cursor=cursor)
    items = [ReviewItemOut.of(item, record.validation.draft) for item, record in page.items]
    return ReviewPage(items=items, next_cursor=page.next_cursor)


@router.get(
    "/admin/listings/dead-letter",
    response_model=ListingPage,
    summary="Listings whose validation kept failing for technical reasons (operator)",
)
def dead_letters(
    who: Operator, c: ContainerDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> ListingPage:
    page = c.listings.dead_letters(who, limit=limit, cursor=cursor)
    return ListingPage(items=[ListingOut.of(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/admin/listings/{listing_id}", response_model=ListingOut, summary="Any listing")
def get_any_listing(listing_id: ListingId, who: Staff, c: ContainerDep) -> ListingOut:
    return ListingOut.of(c.listings.get_any(who, listing_id))


@router.post(
    "/admin/listings/{listing_id}/approve",
    response_model=ListingOut,
    summary="Approve a listing in review, with the reviewer's edits; it goes live",
)
def approve_listing(
    listing_id: ListingId, who: Staff, c: ContainerDep, body: ApproveIn | None = None
) -> ListingOut:
    edits = dict(body.edits) if body is not None else {}
    return ListingOut.of(c.listings.approve(who, listing_id, edits))


@router.post(
    "/admin/listings/{listing_id}/reject",
    response_model=ListingOut,
    summary="Reject a listing in review (or dead-lettered), with the reason the seller sees",
)
def reject_listing(
    listing_id: ListingId, body: RejectIn, who: Staff, c: ContainerDep
) -> ListingOut:
    return ListingOut.of(c.listings.reject(who, listing_id, body.reason))


@router.post(
    "/admin/listings/{listing_id}/retry",
    response_model=ListingOut,
    summary="Retry a dead-lettered listing from the step that failed (operator)",
)
def retry_listing(listing_id: ListingId, who: Operator, c: ContainerDep) -> ListingOut:
    return ListingOut.of(c.listings.retry(who, listing_id))
