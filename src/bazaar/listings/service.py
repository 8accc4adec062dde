"""Listing use cases: sellers submit, follow and resubmit listings; reviewers decide the
ones in review; operators retry the dead-lettered ones.

Each use case is one unit of work that saves the listing with the events its workflow
recorded, on condition the listing did not change since it was read (a concurrent change is
a 409). Validation itself runs later, in the validation runner. A seller sees only its own
listings: another seller's listing id is a 404, exactly like an unknown one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from bazaar.identity.model import Principal, Role
from bazaar.infra.db import Database
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import (
    Conflict,
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from bazaar.kernel.events import Actor
from bazaar.kernel.ids import is_valid_id, new_id
from bazaar.kernel.pagination import CursorCodec, Page, after_from, page_after, scope_for
from bazaar.listings import store
from bazaar.listings.facts import CatalogFacts
from bazaar.listings.normalise import ListingDraft
from bazaar.listings.ports import SellerGate
from bazaar.listings.records import ListingRecord
from bazaar.listings.review import ReviewItem, review_queue
from bazaar.listings.workflow import Changed, ListingState, ListingValidation

UowFactory = Callable[[Actor], SqlUnitOfWork]

READ_SCOPES = frozenset({"listings:read", "listings:write"})


def seller_of(principal: Principal, gate: SellerGate, *, write: bool) -> str:
    """The seller ``principal`` acts for; 403 for anyone else, a key without the listing
    scope (``listings:write`` to change, ``listings:read`` or ``:write`` to read), or a
    seller whose status the gate refuses (suspended and closed sellers read, only active
    ones submit)."""
    if principal.role is not Role.SELLER or not principal.org_id:
        raise PermissionDenied("Listings are managed by sellers")
    if write:
        principal.require_scope("listings:write")
    elif principal.kind == "api_key" and not READ_SCOPES & principal.scopes:
        raise PermissionDenied("This API key lacks the scope listings:read")
    # Suspended and closed sellers still follow their listings; only active ones submit.
    gate.check_listings(principal, write=write)
    return principal.org_id


class ListingService:
    def __init__(
        self,
        db: Database,
        uow: UowFactory,
        clock: Clock,
        facts: CatalogFacts,
        cursors: CursorCodec,
        *,
        sellers: SellerGate,
        currency: str,
        on_submitted: Callable[[], None] | None = None,
    ) -> None:
        self._db = db
        self._uow = uow
        self._clock = clock
        self._facts = facts
        self._cursors = cursors
        self._sellers = sellers
        self._currency = currency
        self._on_submitted = on_submitted or (lambda: None)

    # --- sellers -----------------------------------------------------------------------------

    def submit(self, principal: Principal, draft: ListingDraft) -> ListingRecord:
        """Submit a listing for validation; it is due at once.

        ``draft.category_id`` may be a category id or slug path; the seller is the
        principal's (``draft.seller_id`` is ignored). 422 on ``category`` for an unknown
        category and on ``price.currency`` for a currency other than the store's.
        """
        seller_id = seller_of(principal, self._sellers, write=True)
        draft = self._checked(draft, seller_id)
        changed = ListingValidation.submit(new_id("lst"), draft, self._clock.now())
        with self._uow(principal.actor) as uow:
            store.insert_listings(uow.conn, [changed.value], self._clock.now())
            uow.record(*changed.events)
            uow.commit()
        self._on_submitted()
        return self._get(changed.value.id)

    def get(self, principal: Principal, listing_id: str) -> ListingRecord:
        """One of the seller's listings with its status, fixes, check results and reasons."""
        seller_id = seller_of(principal, self._sellers, write=False)
        return self._load(listing_id, seller_id)

    def list_listings(
        self,
        principal: Principal,
        *,
        states: Sequence[ListingState] | None = None,
        limit: int,
        cursor: str | None = None,
    ) -> Page[ListingRecord]:
        """The seller's listings, newest first, optionally only those in ``states``."""
        seller_id = seller_of(principal, self._sellers, write=False)
        wanted = sorted(set(states or ()))
        scope = scope_for("seller-listings", seller=seller_id, states=",".join(wanted) or None)
        before = after_from(self._cursors, cursor, scope)
        with self._db.read() as conn:
            rows = store.seller_listings(
                conn, seller_id, states=wanted, before_id=before, limit=limit + 1
            )
        return page_after(self._cursors, rows, limit, scope, lambda r: r.id)

    def resubmit(self, principal: Principal, listing_id: str, draft: ListingDraft) -> ListingRecord:
        """A corrected listing replaces a rejected, in-review or dead-lettered one; its
        validation starts over as the next revision. 409 in any other state."""
        seller_id = seller_of(principal, self._sellers, write=True)
        draft = self._checked(draft, seller_id)
        current = self._load(listing_id, seller_id)
        changed = current.validation.resubmit(draft, self._clock.now())
        return self._save(principal.actor, current, changed, wake=True)

    # --- reviewers and operators -------------------------------------------------------------

    def review_queue(
        self, principal: Principal, *, limit: int, cursor: str | None = None
    ) -> Page[tuple[ReviewItem, ListingRecord]]:
        """Listings waiting for a reviewer, oldest submission first, each with its failing
        checks (and their suggestions) and the automatic fixes already made."""
        principal.require_role(Role.REVIEWER)
        page = self._in_state(ListingState.NEEDS_REVIEW, limit, cursor)
        by_id = {r.id: r for r in page.items}
        items = review_queue(r.validation for r in page.items)
        return Page([(item, by_id[item.listing_id]) for item in items], page.next_cursor)

    def get_any(self, principal: Principal, listing_id: str) -> ListingRecord:
        """Any listing (reviewers and operators)."""
        principal.require_role(Role.REVIEWER)
        return self._load(listing_id, None)

    def approve(
        self, principal: Principal, listing_id: str, edits: Mapping[str, object] | None = None
    ) -> ListingRecord:
        """Approve a listing in review, applying the reviewer's ``edits`` first (each shown
        to the seller as a fix); it then goes live. 422 on ``edits.<name>``, 409 unless the
        listing is in review."""
        principal.require_role(Role.REVIEWER)
        current = self._load(listing_id, None)
        changed = current.validation.approve_after_review(edits)
        return self._save(principal.actor, current, changed)

    def reject(self, principal: Principal, listing_id: str, reason: str) -> ListingRecord:
        """Reject a listing in review or dead-lettered, with the reason the seller sees."""
        principal.require_role(Role.REVIEWER)
        current = self._load(listing_id, None)
        return self._save(principal.actor, current, current.validation.reject(reason))

    def dead_letters(
        self, principal: Principal, *, limit: int, cursor: str | None = None
    ) -> Page[ListingRecord]:
        """Listings whose validation kept failing for technical reasons, oldest first."""
        principal.require_role(Role.OPERATOR)
        return self._in_state(ListingState.DEAD_LETTERED, limit, cursor)

    def retry(self, principal: Principal, listing_id: str) -> ListingRecord:
        """Put a dead-lettered listing back to the step that failed, due at once."""
        principal.require_role(Role.OPERATOR)
        current = self._load(listing_id, None)
        changed = current.validation.retry_dead_letter()
        return self._save(principal.actor, current, changed, wake=True)

    # --- internals ---------------------------------------------------------------------------

    def _checked(self, draft: ListingDraft, seller_id: str) -> ListingDraft:
        category = self._facts.category(draft.category_id)
        errors: list[FieldError] = []
        if category is None:
            errors.append(FieldError("category", "No such category", "unknown"))
        if draft.price.currency != self._currency:
            message = f"Listings are priced in {self._currency}"
            errors.append(FieldError("price.currency", message, "currency"))
        if errors or category is None:
            raise ValidationFailed("The listing has invalid fields", errors=errors)
        return replace(draft, seller_id=seller_id, category_id=category.id)

    def _get(self, listing_id: str) -> ListingRecord:
        with self._db.read() as conn:
            record = store.get_listing(conn, listing_id)
        if record is None:
            raise NotFound("No such listing")
        return record

    def _load(self, listing_id: str, seller_id: str | None) -> ListingRecord:
        record = None
        if is_valid_id(listing_id, "lst"):
            with self._db.read() as conn:
                record = store.get_listing(conn, listing_id)
        # another seller's listing is as unknown as a missing one
        if record is None or (seller_id is not None and record.seller_id != seller_id):
            raise NotFound("No such listing")
        return record

    def _save(
        self,
        actor: Actor,
        current: ListingRecord,
        changed: Changed[ListingValidation],
        *,
        wake: bool = False,
    ) -> ListingRecord:
        with self._uow(actor) as uow:
            if not store.save_listing(uow.conn, current, changed.value, self._clock.now()):
                raise Conflict("The listing changed meanwhile; read it again and retry")
            uow.record(*changed.events)
            uow.commit()
        if wake:
            self._on_submitted()
        return self._get(current.id)

    def _in_state(self, state: ListingState, limit: int, cursor: str | None) -> Page[ListingRecord]:
        scope = scope_for("listings-in-state", state=state.value)
        after: tuple[datetime, str] | None = None
        if cursor:
            position = self._cursors.decode(cursor, scope=scope)
            at, listing_id = position.get("at"), position.get("id")
            if not isinstance(at, str) or not isinstance(listing_id, str):
                raise ValidationFailed.on("cursor", "Invalid or tampered cursor", "invalid_cursor")
            after = (datetime.fromisoformat(at), listing_id)
        with self._db.read() as conn:
            rows = store.listings_in_state(conn, state, after=after, limit=limit + 1)
        items = rows[:limit]
        next_cursor = None
        if len(rows) > limit and items:
            last = items[-1].validation
            position = {"at": last.submitted_at.isoformat(), "id": last.id}
            next_cursor = self._cursors.encode(position, scope=scope)
        return Page(items, next_cursor)
