"""Identity rules: roles, principals, what a principal may do. Pure Python."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bazaar.kernel.errors import PermissionDenied, ValidationFailed
from bazaar.kernel.events import Actor, Event


class Role(StrEnum):
    CUSTOMER = "customer"
    SELLER = "seller"  # member of one seller (org_id = sel_…)
    BRAND = "brand"  # member of one brand (org_id = brd_…)
    PARTNER = "partner"  # partner retailer or external system, via API keys
    REVIEWER = "reviewer"
    OPERATOR = "operator"


ORG_ROLES = frozenset({Role.SELLER, Role.BRAND, Role.PARTNER})

# Scopes an API key can carry. Keys never get more than their owner's role allows.
KNOWN_SCOPES = frozenset(
    {
        "catalog:read",
        "catalog:write",
        "stock:write",
        "orders:read",
        "orders:write",
        "listings:read",
        "listings:write",
        "fulfillments:write",
        "statements:read",
        "webhooks:read",
        "webhooks:write",
    }
)

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256  # argon2 accepts more, but unbounded input is a denial-of-service lever
_EMAIL = re.compile(
    r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


def normalize_email(value: str, field_name: str = "email") -> str:
    """Trim and lowercase an address and check its shape; raise ValidationFailed otherwise."""
    email = value.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise ValidationFailed.on(field_name, "Not a valid email address")
    return email


def check_password(password: str, field_name: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed.on(
            field_name, f"Must be at least {MIN_PASSWORD_LENGTH} characters", "too_short"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed.on(
            field_name, f"Must be at most {MAX_PASSWORD_LENGTH} characters", "too_long"
        )


def check_role_org(role: Role, org_id: str | None) -> None:
    if role in ORG_ROLES and not org_id:
        raise ValidationFailed.on("org_id", f"A {role} account belongs to an organisation")
    if role not in ORG_ROLES and org_id:
        raise ValidationFailed.on("org_id", f"A {role} account has no organisation")


def check_scopes(scopes: list[str]) -> frozenset[str]:
    unknown = sorted(set(scopes) - KNOWN_SCOPES)
    if unknown:
        raise ValidationFailed.on("scopes", f"Unknown scopes: {', '.join(unknown)}", "unknown")
    if not scopes:
        raise ValidationFailed.on("scopes", "At least one scope is required", "required")
    return frozenset(scopes)


@dataclass(frozen=True)
class User:
    id: str
    email: str
    role: Role
    org_id: str | None
    created_at: datetime
    disabled: bool = False


@dataclass(frozen=True)
class ApiKey:
    id: str
    prefix: str
    name: str
    owner_type: Role
    owner_id: str
    scopes: frozenset[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    def is_active(self, now: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or now < self.expires_at


@dataclass(frozen=True)
class Principal:
    """Who is calling: a signed-in user or an API key. Every authorisation check starts here."""

    kind: str  # "user" | "api_key"
    id: str
    role: Role
    org_id: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    token_id: str | None = None

    @property
    def actor(self) -> Actor:
        return Actor(self.kind, self.id, self.role.value)

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.OPERATOR, Role.REVIEWER)

    def require_role(self, *roles: Role) -> None:
        """Raise PermissionDenied unless the principal has one of ``roles``; operators pass."""
        if self.role is Role.OPERATOR or self.role in roles:
            return
        raise PermissionDenied("This action needs the role: " + " or ".join(r.value for r in roles))

    def require_scope(self, scope: str) -> None:
        """API keys must carry ``scope``; users are limited by their role instead."""
        if self.kind == "api_key" and scope not in self.scopes:
            raise PermissionDenied(f"This API key lacks the scope {scope}")


# --- events ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class UserRegistered(Event):
    subject_type = "user"
    subject_field = "user_id"
    user_id: str
    role: str
    org_id: str | None


@dataclass(frozen=True, kw_only=True)
class ApiKeyCreated(Event):
    subject_type = "api_key"
    subject_field = "api_key_id"
    api_key_id: str
    prefix: str
    owner_type: str
    owner_id: str
    scopes: list[str]

    def audience(self) -> tuple[str, ...]:
        return (f"{self.owner_type}:{self.owner_id}",)


@dataclass(frozen=True, kw_only=True)
class ApiKeyRevoked(Event):
    subject_type = "api_key"
    subject_field = "api_key_id"
    api_key_id: str
    owner_type: str
    owner_id: str

    def audience(self) -> tuple[str, ...]:
        return (f"{self.owner_type}:{self.owner_id}",)


@dataclass(frozen=True, kw_only=True)
class TokenRevoked(Event):
    subject_type = "user"
    subject_field = "user_id"
    user_id: str
    token_id: str
