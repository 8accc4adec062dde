"""Identity request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

from bazaar.http.schemas import StrictModel
from bazaar.identity.model import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, ApiKey, Role, User

Email = Annotated[str, Field(min_length=3, max_length=254, examples=["ada@example.com"])]
# Passwords are taken exactly as typed: the models' whitespace trimming must not touch them.
Password = Annotated[
    str,
    StringConstraints(strip_whitespace=False),
    Field(min_length=1, max_length=MAX_PASSWORD_LENGTH),
]
# The policy is checked here too so a weak password is reported as ``body.password``, like
# every other field problem; sign-in keeps the lax form so it reveals nothing about the policy.
NewPassword = Annotated[
    str,
    StringConstraints(strip_whitespace=False),
    Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH),
]


class RegisterIn(StrictModel):
    email: Email
    password: NewPassword


class TokenIn(StrictModel):
    email: Email
    password: Password


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_at: datetime


class UserOut(BaseModel):
    id: str
    email: str
    role: Role
    org_id: str | None

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(id=user.id, email=user.email, role=user.role, org_id=user.org_id)


class PrincipalOut(BaseModel):
    """Who the credential belongs to (``GET /api/v1/me``)."""

    kind: str
    id: str
    role: Role
    org_id: str | None
    email: str | None = None
    scopes: list[str] = []


class ApiKeyCreate(StrictModel):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    scopes: Annotated[list[str], Field(min_length=1, max_length=20, examples=[["stock:write"]])]
    owner_type: Role | None = Field(None, description="Operators only: seller, brand or partner")
    owner_id: Annotated[
        str | None, Field(max_length=40, pattern=r"^[a-z]{2,8}_[0-9a-z]{1,32}$")
    ] = None
    expires_at: AwareDatetime | None = None


class ApiKeyOut(BaseModel):
    id: str
    prefix: str
    name: str
    owner_type: Role
    owner_id: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyOut:
        return cls(
            id=key.id,
            prefix=key.prefix,
            name=key.name,
            owner_type=key.owner_type,
            owner_id=key.owner_id,
            scopes=sorted(key.scopes),
            created_at=key.created_at,
            expires_at=key.expires_at,
            revoked_at=key.revoked_at,
        )


class ApiKeyCreated(ApiKeyOut):
    secret: str = Field(description="The full key. Shown once; store it now.")


class ApiKeyPage(BaseModel):
    items: list[ApiKeyOut]
    next_cursor: str | None = None
