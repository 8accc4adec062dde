"""Identity use cases: register, sign in, authenticate requests, manage API keys."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError

from bazaar.identity import store
from bazaar.identity.model import (
    ApiKey,
    ApiKeyCreated,
    ApiKeyRevoked,
    Principal,
    Role,
    TokenRevoked,
    User,
    UserRegistered,
    check_password,
    check_role_org,
    check_scopes,
    normalize_email,
)
from bazaar.infra.db import Database, violates_unique
from bazaar.infra.ratelimit import RateLimiter
from bazaar.infra.uow import SqlUnitOfWork
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import (
    Conflict,
    FieldError,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)
from bazaar.kernel.events import Actor
from bazaar.kernel.ids import new_id
from bazaar.kernel.pagination import CursorCodec, Page, after_from, page_after, scope_for

log = logging.getLogger("bazaar.identity")

TOKEN_PREFIX = "bzt_"  # noqa: S105 - a label, not a secret
API_KEY_PREFIX = "bzk_"

UowFactory = Callable[[Actor], SqlUnitOfWork]


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: str
    token_id: str
    expires_at: datetime
    user: User


@dataclass(frozen=True)
class IssuedApiKey:
    key: ApiKey
    secret: str  # the full key; shown once, never stored


class IdentityService:
    """Users, tokens and API keys. Secrets are stored only as hashes."""

    def __init__(
        self,
        db: Database,
        uow: UowFactory,
        clock: Clock,
        hasher: PasswordHasher,
        limiter: RateLimiter,
        cursors: CursorCodec,
        *,
        token_ttl_s: int,
        login_max_failures: int,
        login_lockout_s: int,
    ) -> None:
        self._db = db
        self._uow = uow
        self._clock = clock
        self._hasher = hasher
        self._limiter = limiter
        self._cursors = cursors
        self._token_ttl = timedelta(seconds=token_ttl_s)
        self._login_max_failures = login_max_failures
        self._login_lockout_s = login_lockout_s
        # Verifying against a real hash when the email is unknown keeps the response time the
        # same, so timing does not reveal which addresses have accounts.
        self._dummy_hash = hasher.hash(secrets.token_urlsafe(16))

    # --- users ------------------------------------------------------------------------------

    def register_customer(self, email: str, password: str) -> User:
        """Create a customer account; the email must be new."""
        return self._create_user(Actor.system("self-registration"), email, password, Role.CUSTOMER)

    def create_user(
        self,
        principal: Principal | None,
        email: str,
        password: str,
        role: Role,
        org_id: str | None = None,
    ) -> User:
        """Create any kind of account: operators through the API, ``None`` from the CLI."""
        if principal is not None:
            principal.require_role(Role.OPERATOR)
        actor = principal.actor if principal is not None else Actor.system("cli")
        return self._create_user(actor, email, password, role, org_id)

    def _create_user(
        self, actor: Actor, email: str, password: str, role: Role, org_id: str | None = None
    ) -> User:
        email = normalize_email(email)
        check_password(password)
        check_role_org(role, org_id)
        user = User(
            id=new_id("usr"), email=email, role=role, org_id=org_id, created_at=self._clock.now()
        )
        password_hash = self._hasher.hash(password)
        with self._uow(actor) as uow:
            try:
                store.insert_user(uow.conn, user, password_hash)
            except IntegrityError as exc:
                if not violates_unique(exc, "users", "email"):
                    raise
                raise Conflict(
                    "An account with this email already exists",
                    errors=[FieldError("email", "Already registered", "duplicate")],
                ) from exc
            uow.record(UserRegistered(user_id=user.id, role=role.value, org_id=org_id))
            uow.commit()
        return user

    def get_user(self, principal: Principal) -> User:
        if principal.kind != "user":
            raise PermissionDenied("Only signed-in users have a profile")
        with self._db.read() as conn:
            user = store.get_user(conn, principal.id)
        if user is None:
            raise Unauthenticated("The account no longer exists")
        return user

    # --- tokens -----------------------------------------------------------------------------

    def issue_token(self, email: str, password: str, client_ip: str) -> IssuedToken:
        """Exchange credentials for a bearer token, throttling repeated attempts.

        Every attempt counts against ``email``+``client_ip``; a success clears the count. Past
        the limit the answer is 429 whatever the password, so guessing is slow.
        """
        email = email.strip().lower()
        throttle_key = f"login:{_sha256(email)}:{client_ip}"
        decision = self._limiter.hit(throttle_key, self._login_max_failures, self._login_lockout_s)
        if not decision.allowed:
            log.warning("login throttled", extra={"client_ip": client_ip})
            raise RateLimited(
                "Too many sign-in attempts; try again later",
                retry_after_s=decision.retry_after_s,
            )
        with self._db.read() as conn:
            found = store.get_user_with_hash(conn, email)
        password_hash = found[1] if found else self._dummy_hash
        try:
            self._hasher.verify(password_hash, password)
            valid = found is not None and not found[0].disabled
        except (VerificationError, InvalidHashError):
            valid = False
        if not valid or found is None:
            log.info("login failed", extra={"client_ip": client_ip})
            raise Unauthenticated("Email or password is wrong")
        user = found[0]
        self._limiter.reset(throttle_key)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self._clock.now()
        token_id = new_id("tok")
        with self._uow(Actor("user", user.id, user.role.value)) as uow:
            store.insert_token(
                uow.conn, token_id, _sha256(token), user.id, now, now + self._token_ttl
            )
            if self._hasher.check_needs_rehash(password_hash):
                store.update_password_hash(uow.conn, user.id, self._hasher.hash(password))
            uow.commit()
        return IssuedToken(token, token_id, now + self._token_ttl, user)

    def revoke_token(self, principal: Principal) -> None:
        """Sign out: the token used for this request stops working at once."""
        if principal.token_id is None:
            raise ValidationFailed.on("authorization", "Only user tokens can be revoked here")
        with self._uow(principal.actor) as uow:
            store.revoke_token(uow.conn, principal.token_id, self._clock.now())
            uow.record(TokenRevoked(user_id=principal.id, token_id=principal.token_id))
            uow.commit()

    def authenticate(self, credential: str) -> Principal:
        """Resolve a bearer credential (user token or API key) to a principal, or raise 401."""
        if credential.startswith(TOKEN_PREFIX):
            with self._db.read() as conn:
                principal = store.principal_for_token(conn, _sha256(credential), self._clock.now())
            if principal is None:
                raise Unauthenticated("The token is invalid, expired or revoked")
            return principal
        if credential.startswith(API_KEY_PREFIX):
            return self._authenticate_api_key(credential)
        raise Unauthenticated("Unrecognised credential")

    # --- API keys ---------------------------------------------------------------------------

    def _authenticate_api_key(self, credential: str) -> Principal:
        _, _, rest = credential.partition(API_KEY_PREFIX)
        prefix, _, secret = rest.partition("_")
        if not prefix or not secret:
            raise Unauthenticated("Malformed API key")
        with self._db.read() as conn:
            found = store.get_api_key_by_prefix(conn, prefix)
        if found is None:
            raise Unauthenticated("Unknown API key")
        key, secret_hash = found
        if not hmac.compare_digest(secret_hash, _sha256(secret)):
            raise Unauthenticated("Unknown API key")
        if not key.is_active(self._clock.now()):
            raise Unauthenticated("The API key is expired or revoked")
        return Principal(
            kind="api_key", id=key.id, role=key.owner_type, org_id=key.owner_id, scopes=key.scopes
        )

    def create_api_key(
        self,
        principal: Principal,
        *,
        name: str,
        scopes: list[str],
        owner_type: Role | None = None,
        owner_id: str | None = None,
        expires_at: datetime | None = None,
    ) -> IssuedApiKey:
        """Create a scoped key; the secret is returned once and only its hash is kept.

        Operators create keys for any seller, brand or partner; seller and brand members
        create keys for their own organisation.
        """
        if principal.kind != "user":
            raise PermissionDenied("API keys are created by signed-in users")
        if principal.role is Role.OPERATOR:
            if owner_type is None or owner_id is None:
                raise ValidationFailed.on("owner_type", "Operators must name the key's owner")
        elif principal.role in (Role.SELLER, Role.BRAND):
            if owner_type not in (None, principal.role) or owner_id not in (None, principal.org_id):
                raise PermissionDenied("You can only create keys for your own organisation")
            owner_type, owner_id = principal.role, principal.org_id
        else:
            raise PermissionDenied("This role cannot create API keys")
        if owner_type not in (Role.SELLER, Role.BRAND, Role.PARTNER) or not owner_id:
            raise ValidationFailed.on("owner_type", "Keys belong to a seller, brand or partner")
        now = self._clock.now()
        if expires_at is not None and expires_at <= now:
            raise ValidationFailed.on("expires_at", "Must be in the future")
        scope_set = check_scopes(scopes)
        prefix = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        key = ApiKey(
            id=new_id("key"),
            prefix=prefix,
            name=name,
            owner_type=owner_type,
            owner_id=owner_id,
            scopes=scope_set,
            created_at=now,
            expires_at=expires_at,
            revoked_at=None,
        )
        with self._uow(principal.actor) as uow:
            store.insert_api_key(uow.conn, key, _sha256(secret), principal.id)
            uow.record(
                ApiKeyCreated(
                    api_key_id=key.id,
                    prefix=prefix,
                    owner_type=owner_type.value,
                    owner_id=owner_id,
                    scopes=sorted(scope_set),
                )
            )
            uow.commit()
        return IssuedApiKey(key, f"{API_KEY_PREFIX}{prefix}_{secret}")

    def list_api_keys(
        self, principal: Principal, *, limit: int, cursor: str | None
    ) -> Page[ApiKey]:
        """Operators see every key; organisation members see their organisation's keys."""
        owner = self._owner_scope(principal)
        scope = scope_for("api-keys", owner=owner)
        after_id = after_from(self._cursors, cursor, scope)
        with self._db.read() as conn:
            rows = store.list_api_keys(conn, owner, after_id, limit + 1)
        return page_after(self._cursors, rows, limit, scope, key=lambda k: k.id)

    def revoke_api_key(self, principal: Principal, key_id: str) -> ApiKey:
        owner = self._owner_scope(principal)
        with self._uow(principal.actor) as uow:
            key = store.get_api_key(uow.conn, key_id)
            if key is None or (owner is not None and (key.owner_type, key.owner_id) != owner):
                raise NotFound("No such API key")
            now = self._clock.now()
            if store.revoke_api_key(uow.conn, key_id, now):  # revoking twice is a no-op
                uow.record(
                    ApiKeyRevoked(
                        api_key_id=key.id, owner_type=key.owner_type.value, owner_id=key.owner_id
                    )
                )
            uow.commit()
        return key if key.revoked_at is not None else replace(key, revoked_at=now)

    def _owner_scope(self, principal: Principal) -> tuple[str, str] | None:
        if principal.kind == "user" and principal.role is Role.OPERATOR:
            return None
        if principal.kind == "user" and principal.role in (Role.SELLER, Role.BRAND):
            assert principal.org_id is not None
            return (principal.role.value, principal.org_id)
        raise PermissionDenied("This role cannot manage API keys")

    def purge_expired_tokens(self) -> int:
        with self._db.write() as conn:
            return store.delete_expired_tokens(conn, self._clock.now())
