"""Seller onboarding use cases: apply, resubmit, screen, decide; suspend, reinstate, close.

Each use case is one unit of work that records the seller's events. The full IBAN of an
application lives only in the request: it is validated, fingerprinted, handed to the payout
provider before the transaction opens, and dropped; the database, the responses and the
events see it masked.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from bazaar.identity.model import Principal, Role
from bazaar.infra.db import Database
from bazaar.infra.ratelimit import RateLimiter
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import FieldError, NotFound, RateLimited, ValidationFailed
from bazaar.kernel.events import Actor
from bazaar.kernel.ids import is_valid_id, new_id
from bazaar.kernel.pagination import CursorCodec, Page, after_from, page_after, scope_for
from bazaar.sellers import member_store, store
from bazaar.sellers.application import (
    ApplicationInput,
    ApplicationRecord,
    SellerApplication,
    keep_on_file,
    validate_application,
)
from bazaar.sellers.documents import SellerDocument, check_documents
from bazaar.sellers.events import SellerApproved, SellerMemberInvited
from bazaar.sellers.members import Member, MemberRole
from bazaar.sellers.model import Changed, Seller, SellerStatus
from bazaar.sellers.payout_accounts import PayoutAccounts
from bazaar.sellers.screening import Finding, screen_application
from bazaar.sellers.store import SellerRow
from bazaar.sellers.views import SellerView, SubmittedApplication

UowFactory = Callable[[Actor], SqlUnitOfWork]
APPLICATION_TOKEN_PREFIX = "bza_"  # noqa: S105 - a label, not a secret


@dataclass(frozen=True)
class CategoryRef:
    """An applied-for category as the catalog knows it: id and slug path from the root."""

    id: str
    path: str


# A category id or slug path -> the category, or None when there is none.
CategoryLookup = Callable[[str], CategoryRef | None]


@dataclass(frozen=True)
class OnboardingRules:
    """``restricted_categories``: slug path -> document kinds an applicant for it (or any
    category below it) must provide. ``applications_per_hour``: per client IP, 0: no limit."""

    terms_version: str
    restricted_categories: Mapping[str, Sequence[str]]
    iban_key: bytes
    applications_per_hour: int
    invitation_ttl: timedelta


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class SellerService:
    """Seller applications and the operator's decisions on them."""

    def __init__(
        self,
        db: Database,
        uow: UowFactory,
        clock: Clock,
        limiter: RateLimiter,
        cursors: CursorCodec,
        rules: OnboardingRules,
        *,
        categories: CategoryLookup,
        payout_accounts: PayoutAccounts,
    ) -> None:
        self._db = db
        self._uow = uow
        self._clock = clock
        self._limiter = limiter
        self._cursors = cursors
        self._rules = rules
        self._categories = categories
        self._payout_accounts = payout_accounts

    # --- the applicant ----------------------------------------------------------------------

    def apply(
        self,
        data: ApplicationInput,
        documents: Sequence[SellerDocument],
        *,
        client_ip: str,
        seller_id: str | None = None,
    ) -> SubmittedApplication:
        """Receive an application: validated (a 422 names every bad field), screened, and
        stored as ``applied`` with its findings. Throttled per client IP. The returned token
        lets the applicant follow and correct the application.

        ``seller_id`` keeps the id a seller already has elsewhere (the demo's fulfillers);
        by default the application gets a new one.
        """
        self._throttle(client_ip)
        app = self._validate(data, documents)
        if seller_id is not None and not is_valid_id(seller_id, "sel"):
            raise ValueError(f"Not a seller id: {seller_id!r}")
        seller_id = seller_id or new_id("sel")
        token = APPLICATION_TOKEN_PREFIX + secrets.token_urlsafe(32)
        record = self._file(seller_id, app, None)
        now = self._clock.now()
        with self._uow(Actor("applicant", seller_id)) as uow:
            findings = self._screen(uow.conn, seller_id, record, documents)
            changed = Seller.apply(seller_id, record)
            store.insert_seller(
                uow.conn, changed.value, findings, token_hash=_sha256(token), now=now
            )
            store.replace_documents(uow.conn, seller_id, documents, now)
            uow.record(*changed.events)
            uow.commit()
        return SubmittedApplication(self._read_view(seller_id), token)

    def application(self, seller_id: str, token: str | None) -> SellerView:
        """The application as its applicant sees it; 404 unless ``token`` is its token."""
        with self._db.read() as conn:
            self._applicant_row(conn, seller_id, token)
            return self._view(conn, seller_id)

    def resubmit(
        self,
        seller_id: str,
        token: str | None,
        data: ApplicationInput,
        documents: Sequence[SellerDocument],
    ) -> SellerView:
        """Replace the application after an operator asked for changes; back to ``applied``
        with fresh findings. 409 in any other status."""
        with self._db.read() as conn:
            row = self._applicant_row(conn, seller_id, token)
        # Check the transition before the IBAN is handed to the payout provider.
        row.seller.resubmit(row.record)
        app = self._validate(data, documents)
        record = self._file(seller_id, app, row.record)
        now = self._clock.now()
        with self._uow(Actor("applicant", seller_id)) as uow:
            row = self._row(uow.conn, seller_id)
            findings = self._screen(uow.conn, seller_id, record, documents)
            changed = row.seller.resubmit(record)
            store.update_seller(uow.conn, changed.value, findings, now=now)
            store.replace_documents(uow.conn, seller_id, documents, now)
            uow.record(*changed.events)
            uow.commit()
        return self._read_view(seller_id)

    # --- the operator -----------------------------------------------------------------------

    def list_sellers(
        self,
        principal: Principal,
        *,
        status: SellerStatus | None,
        limit: int,
        cursor: str | None,
    ) -> Page[SellerView]:
        """Applications and sellers, oldest first, optionally of one status (operators)."""
        principal.require_role(Role.OPERATOR)
        scope = scope_for("sellers", status=status.value if status else None)
        after_id = after_from(self._cursors, cursor, scope)
        with self._db.read() as conn:
            rows = store.list_sellers(conn, status, after_id, limit + 1)
            documents = store.documents_for(conn, [r.seller.id for r in rows[:limit]])
        views = [SellerView.of(r, documents.get(r.seller.id, ())) for r in rows]
        return page_after(self._cursors, views, limit, scope, key=lambda v: v.seller.id)

    def get(self, principal: Principal, seller_id: str) -> SellerView:
        """One application or seller with its findings and documents (operators)."""
        principal.require_role(Role.OPERATOR)
        return self._read_view(seller_id)

    def approve(self, principal: Principal, seller_id: str) -> SellerView:
        """``applied`` -> ``active``, after screening the application again as it stands;
        409 while a finding blocks approval. The owner is invited at the contact email and
        joins with the application token."""
        return self._decide(principal, seller_id, lambda s, f: s.approve(f), rescreen=True)

    def reject(self, principal: Principal, seller_id: str, reason: str) -> SellerView:
        """``applied``/``changes_requested`` -> ``closed``, with a reason the applicant sees."""
        return self._decide(principal, seller_id, lambda s, _: s.reject(reason))

    def request_changes(
        self, principal: Principal, seller_id: str, changes: Sequence[str]
    ) -> SellerView:
        """``applied`` -> ``changes_requested``: the applicant resubmits with the token."""
        return self._decide(principal, seller_id, lambda s, _: s.request_changes(changes))

    def suspend(self, principal: Principal, seller_id: str, reason: str) -> SellerView:
        """``active`` -> ``suspended``: ``SellerSuspended`` hides its offers (see
        :mod:`bazaar.sellers.offer_visibility`) and payout runs hold its money."""
        return self._decide(principal, seller_id, lambda s, _: s.suspend(reason))

    def reinstate(self, principal: Principal, seller_id: str) -> SellerView:
        """``suspended`` -> ``active``: the offers the suspension hid are shown again."""
        return self._decide(principal, seller_id, lambda s, _: s.reinstate())

    def close(self, principal: Principal, seller_id: str, reason: str) -> SellerView:
        """Any open status -> ``closed`` (final); its offers are hidden."""
        return self._decide(principal, seller_id, lambda s, _: s.close(reason))

    # --- other contexts -----------------------------------------------------------------------

    def statuses(self, seller_ids: Sequence[str]) -> Mapping[str, str]:
        """Each known seller's status (``applied`` ... ``closed``), for payout runs (the fees
        context's ``SellerDirectory``); unknown ids are left out."""
        wanted = [i for i in seller_ids if is_valid_id(i, "sel")]
        with self._db.read() as conn:
            return store.statuses(conn, wanted)

    def trading_name(self, seller_id: str) -> str | None:
        with self._db.read() as conn:
            row = store.get_seller(conn, seller_id) if is_valid_id(seller_id, "sel") else None
        return row.record.trading_name if row else None

    # --- internals ----------------------------------------------------------------------------

    def _decide(
        self,
        principal: Principal,
        seller_id: str,
        action: Callable[[Seller, tuple[Finding, ...]], Changed[Seller]],
        *,
        rescreen: bool = False,
    ) -> SellerView:
        principal.require_role(Role.OPERATOR)
        now = self._clock.now()
        with self._uow(principal.actor) as uow:
            row = self._row(uow.conn, seller_id)
            findings = row.findings
            if rescreen:
                documents = store.documents_of(uow.conn, seller_id)
                findings = tuple(self._screen(uow.conn, seller_id, row.record, documents))
            changed = action(row.seller, findings)
            store.update_seller(uow.conn, changed.value, findings, now=now, decided=True)
            uow.record(*changed.events)
            if any(isinstance(event, SellerApproved) for event in changed.events):
                uow.record(self._invite_owner(uow.conn, row.record, seller_id, now))
            uow.commit()
        return self._read_view(seller_id)

    def _invite_owner(
        self, conn: Connection, record: ApplicationRecord, seller_id: str, now: datetime
    ) -> SellerMemberInvited:
        # The applicant holds the application token, which is the owner's invitation: no
        # second secret has to reach the contact address.
        owner = Member(
            id=new_id("mbr"),
            seller_id=seller_id,
            email=record.email.lower(),
            role=MemberRole.OWNER,
            invited_at=now,
            invitation_expires_at=now + self._rules.invitation_ttl,
        )
        member_store.insert_member(conn, owner, None)
        return SellerMemberInvited(seller_id=seller_id, member_id=owner.id, role=owner.role.value)

    def _throttle(self, client_ip: str) -> None:
        per_hour = self._rules.applications_per_hour
        if per_hour <= 0:
            return
        decision = self._limiter.hit(f"seller-apply:{client_ip}", per_hour, 3600)
        if not decision.allowed:
            raise RateLimited(
                "Too many applications from this address; try again later",
                retry_after_s=decision.retry_after_s,
            )

    def _validate(
        self, data: ApplicationInput, documents: Sequence[SellerDocument]
    ) -> SellerApplication:
        """Every problem at once: the application's fields, unknown categories, documents.
        Categories come back as catalog ids, however they were named."""
        errors: list[FieldError] = []
        app: SellerApplication | None = None
        try:
            app = validate_application(data, terms_version=self._rules.terms_version)
        except ValidationFailed as exc:
            errors += exc.errors
        ids: list[str] = []
        for i, ref in enumerate(data.categories):
            if not ref.strip():
                continue  # reported as required by validate_application
            found = self._categories(ref.strip())
            if found is None:
                errors.append(FieldError(f"categories[{i}]", "No such category", "unknown"))
            elif found.id not in ids:
                ids.append(found.id)
        errors += check_documents(documents)
        if errors or app is None:
            raise ValidationFailed("The application is not valid", errors=errors)
        return replace(app, categories=tuple(ids))

    def _file(
        self, seller_id: str, app: SellerApplication, current: ApplicationRecord | None
    ) -> ApplicationRecord:
        """The record to store, after handing a new payout account to the provider (outside
        any transaction: it is a call to the outside world). An unchanged account keeps its
        reference."""
        record = keep_on_file(app, iban_key=self._rules.iban_key, payout_reference=None)
        account = record.payout_account
        if current is not None and current.payout_account.fingerprint == account.fingerprint:
            reference = current.payout_account.reference
        else:
            reference = self._payout_accounts.register(seller_id, app.payout_iban)
        return replace(record, payout_account=replace(account, reference=reference))

    def _screen(
        self,
        conn: Connection,
        seller_id: str,
        record: ApplicationRecord,
        documents: Collection[SellerDocument],
    ) -> list[Finding]:
        known = store.known_sellers(
            conn,
            vat_number=record.vat_number,
            fingerprint=record.payout_account.fingerprint,
            email_domain=record.email_domain,
        )
        return screen_application(
            record,
            known,
            restricted_categories=self._restricted(record.categories),
            documents={d.kind for d in documents},
            iban_key=self._rules.iban_key,
            applicant_id=seller_id,
        )

    def _restricted(self, category_ids: Sequence[str]) -> dict[str, frozenset[str]]:
        """The documents each applied-for category needs: those of its own path and of every
        restricted path above it."""
        rules = self._rules.restricted_categories
        if not rules:
            return {}
        needed: dict[str, frozenset[str]] = {}
        for category_id in category_ids:
            found = self._categories(category_id)
            if found is None:
                continue
            kinds = {
                kind
                for path, path_kinds in rules.items()
                if found.path == path or found.path.startswith(path + "/")
                for kind in path_kinds
            }
            if kinds:
                needed[category_id] = frozenset(kinds)
        return needed

    def _applicant_row(self, conn: Connection, seller_id: str, token: str | None) -> SellerRow:
        row = store.get_seller(conn, seller_id) if is_valid_id(seller_id, "sel") else None
        # The same 404 for a wrong token as for no application: ids cannot be probed.
        if row is None or not token or not hmac.compare_digest(row.token_hash, _sha256(token)):
            raise NotFound("No such application")
        return row

    def _row(self, conn: Connection, seller_id: str) -> SellerRow:
        row = store.get_seller(conn, seller_id) if is_valid_id(seller_id, "sel") else None
        if row is None:
            raise NotFound("No such seller")
        return row

    def _view(self, conn: Connection, seller_id: str) -> SellerView:
        return SellerView.of(self._row(conn, seller_id), store.documents_of(conn, seller_id))

    def _read_view(self, seller_id: str) -> SellerView:
        with self._db.read() as conn:
            return self._view(conn, seller_id)
