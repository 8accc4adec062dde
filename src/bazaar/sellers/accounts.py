"""A seller's account: its profile, members, invitations and API keys.

Members are identity users with role ``seller`` and the seller's id as organisation; API keys
are identity's keys owned by the seller. This module decides who may do what for which
seller and delegates the accounts and keys to the identity service. A caller only ever
reaches its own seller: any other seller's member or key is a 404, as if it did not exist.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bazaar.identity.model import KNOWN_SCOPES, ApiKey, Principal, Role, normalize_email
from bazaar.identity.service import IdentityService, IssuedApiKey
from bazaar.infra.db import Database, violates_unique
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import Conflict, FieldError, NotFound, PermissionDenied
from bazaar.kernel.events import Actor
from bazaar.kernel.ids import is_valid_id, new_id
from bazaar.kernel.pagination import CursorCodec, Page, after_from, page_after, scope_for
from bazaar.sellers import member_store, store
from bazaar.sellers.events import SellerMemberInvited, SellerMemberJoined
from bazaar.sellers.members import Member, MemberRole, check_seller_scopes, seller_scopes
from bazaar.sellers.model import SellerStatus
from bazaar.sellers.service import UowFactory
from bazaar.sellers.store import SellerRow
from bazaar.sellers.views import SellerView

INVITATION_TOKEN_PREFIX = "bzi_"  # noqa: S105 - a label, not a secret
SELLER_SCOPES = seller_scopes(KNOWN_SCOPES)
# Creates member accounts on an invitee's behalf: the invitation is the authority.
INVITATIONS = Principal(kind="system", id="seller-invitations", role=Role.OPERATOR)


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedInvitation:
    member: Member
    token: str  # shown once to the inviting owner, who passes it on; only its hash is kept


class SellerAccounts:
    """What a seller's members and keys do with their own account."""

    def __init__(
        self,
        db: Database,
        uow: UowFactory,
        clock: Clock,
        cursors: CursorCodec,
        identity: IdentityService,
        *,
        invitation_ttl: timedelta,
    ) -> None:
        self._db = db
        self._uow = uow
        self._clock = clock
        self._cursors = cursors
        self._identity = identity
        self._invitation_ttl = invitation_ttl

    # --- profile and members ----------------------------------------------------------------

    def profile(self, principal: Principal) -> SellerView:
        """The caller's own seller (any member or key of it, whatever its status but closed)."""
        with self._db.read() as conn:
            row = self._own_seller(conn, principal)
            return SellerView.of(row, store.documents_of(conn, row.seller.id))

    def members(self, principal: Principal, *, limit: int, cursor: str | None) -> Page[Member]:
        """The caller's seller's members and pending invitations, oldest first."""
        with self._db.read() as conn:
            seller_id = self._own_seller(conn, principal).seller.id
            scope = scope_for("seller-members", seller=seller_id)
            after_id = after_from(self._cursors, cursor, scope)
            rows = member_store.list_members(conn, seller_id, after_id, limit + 1)
        return page_after(self._cursors, rows, limit, scope, key=lambda m: m.id)

    def member(self, principal: Principal, member_id: str) -> Member:
        """One member of the caller's seller; 404 for anyone else's."""
        with self._db.read() as conn:
            seller_id = self._own_seller(conn, principal).seller.id
            found = member_store.get_member(conn, seller_id, member_id)
        if found is None:
            raise NotFound("No such member")
        return found

    def invite(self, principal: Principal, email: str, role: MemberRole) -> IssuedInvitation:
        """An owner invites someone to the seller (an active seller only). The token is
        returned once; the invitee accepts with it and chooses a password."""
        address = normalize_email(email)
        now = self._clock.now()
        token = INVITATION_TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._uow(principal.actor) as uow:
            row = self._own_seller(uow.conn, principal, writing=True)
            self._require_owner(uow.conn, principal, row.seller.id)
            member = Member(
                id=new_id("mbr"),
                seller_id=row.seller.id,
                email=address,
                role=role,
                invited_at=now,
                invitation_expires_at=now + self._invitation_ttl,
            )
            try:
                member_store.insert_member(uow.conn, member, _sha256(token))
            except IntegrityError as exc:
                # SQLite names the first column, PostgreSQL the constraint
                if not (
                    violates_unique(exc, "seller_members", "seller_id")
                    or violates_unique(exc, "seller_members", "seller_id_email")
                ):
                    raise
                raise Conflict(
                    "This address is already a member or invited",
                    errors=[FieldError("email", "Already a member or invited", "duplicate")],
                ) from exc
            uow.record(
                SellerMemberInvited(seller_id=row.seller.id, member_id=member.id, role=role.value)
            )
            uow.commit()
        return IssuedInvitation(member, token)

    def accept_invitation(self, token: str, password: str) -> Member:
        """Create the invitee's account from a member invitation token (public)."""
        with self._db.read() as conn:
            member = member_store.member_by_token(conn, _sha256(token)) if token else None
        if member is None:
            raise NotFound("No such invitation")
        return self._join(member, password)

    def create_owner_account(self, seller_id: str, application_token: str, password: str) -> Member:
        """The approved applicant becomes the owner: the application token is the owner's
        invitation, the contact email the account's address (public)."""
        with self._db.read() as conn:
            row = store.get_seller(conn, seller_id) if is_valid_id(seller_id, "sel") else None
            presented = _sha256(application_token) if application_token else ""
            if row is None or not hmac.compare_digest(row.token_hash, presented):
                raise NotFound("No such application")
            owner = member_store.pending_owner(conn, seller_id)
        if owner is None:
            raise Conflict("There is no owner invitation to accept: not approved, or accepted")
        return self._join(owner, password)

    def _join(self, member: Member, password: str) -> Member:
        """Accept ``member``'s invitation: claim it, create the account, link the two.

        The claim comes first so two concurrent acceptances cannot both create an account;
        if the account cannot be created (weak password, address taken), the claim is
        released so the invitee can try again.
        """
        now = self._clock.now()
        if not member.can_accept(now):
            raise Conflict("The invitation has expired or was already accepted")
        actor = Actor("invitee", member.id)
        with self._uow(actor) as uow:
            claimed = member_store.claim_invitation(uow.conn, member.id, now)
            uow.commit()
        if not claimed:
            raise Conflict("The invitation has expired or was already accepted")
        try:
            user = self._identity.create_user(
                INVITATIONS, member.email, password, Role.SELLER, member.seller_id
            )
        except Exception:
            with self._uow(actor) as uow:  # compensation: the invitation can be used again
                member_store.release_invitation(uow.conn, member.id)
                uow.commit()
            raise
        with self._uow(actor) as uow:
            member_store.set_member_user(uow.conn, member.id, user.id)
            uow.record(
                SellerMemberJoined(
                    seller_id=member.seller_id,
                    member_id=member.id,
                    user_id=user.id,
                    role=member.role.value,
                )
            )
            uow.commit()
        with self._db.read() as conn:
            joined = member_store.get_member(conn, member.seller_id, member.id)
        assert joined is not None
        return joined

    # --- API keys -------------------------------------------------------------------------------

    def api_keys(self, principal: Principal, *, limit: int, cursor: str | None) -> Page[ApiKey]:
        """The seller's API keys (signed-in members)."""
        with self._db.read() as conn:
            self._own_seller(conn, principal)
        self._require_user(principal)
        return self._identity.list_api_keys(principal, limit=limit, cursor=cursor)

    def create_api_key(
        self,
        principal: Principal,
        *,
        name: str,
        scopes: Sequence[str],
        expires_at: datetime | None,
    ) -> IssuedApiKey:
        """A key for the caller's seller with seller scopes only (signed-in members of an
        active seller). The secret is returned once."""
        with self._db.read() as conn:
            self._own_seller(conn, principal, writing=True)
        self._require_user(principal)
        check_seller_scopes(scopes, SELLER_SCOPES)
        return self._identity.create_api_key(
            principal, name=name, scopes=list(scopes), expires_at=expires_at
        )

    def revoke_api_key(self, principal: Principal, key_id: str) -> ApiKey:
        """Revoke one of the seller's keys (also while suspended); 404 for another's."""
        with self._db.read() as conn:
            self._own_seller(conn, principal)
        self._require_user(principal)
        return self._identity.revoke_api_key(principal, key_id)

    # --- who is calling -------------------------------------------------------------------------

    def _own_seller(
        self, conn: Connection, principal: Principal, *, writing: bool = False
    ) -> SellerRow:
        """The caller's seller: members and keys of a seller only; closed sellers are gone,
        suspended ones read but do not change their account."""
        if principal.role is not Role.SELLER or not principal.org_id:
            raise PermissionDenied("Seller routes are for a seller's members and API keys")
        row = store.get_seller(conn, principal.org_id)
        if row is None or row.seller.status is SellerStatus.CLOSED:
            raise PermissionDenied("No such seller account, or it is closed")
        if writing and row.seller.status is not SellerStatus.ACTIVE:
            raise PermissionDenied(f"The seller account is {row.seller.status.value}")
        return row

    @staticmethod
    def _require_user(principal: Principal) -> None:
        if principal.kind != "user":
            raise PermissionDenied("API keys are managed by signed-in members, not by keys")

    @staticmethod
    def _require_owner(conn: Connection, principal: Principal, seller_id: str) -> None:
        member = (
            member_store.member_of_user(conn, seller_id, principal.id)
            if principal.kind == "user"
            else None
        )
        if member is None or member.role is not MemberRole.OWNER:
            raise PermissionDenied("Only the seller's owners invite members")
