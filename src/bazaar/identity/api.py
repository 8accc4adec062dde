"""Identity routes: registration, tokens, the current principal, API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from bazaar.http.deps import (
    DEFAULT_LIMIT,
    ContainerDep,
    CurrentPrincipal,
    Cursor,
    Limit,
    client_ip,
)
from bazaar.identity.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    ApiKeyPage,
    PrincipalOut,
    RegisterIn,
    TokenIn,
    TokenOut,
    UserOut,
)

router = APIRouter(prefix="/api/v1", tags=["identity"])


@router.post(
    "/auth/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    summary="Register a customer account (public)",
)
def register(body: RegisterIn, c: ContainerDep) -> UserOut:
    return UserOut.of(c.identity.register_customer(body.email, body.password))


@router.post(
    "/auth/token",
    response_model=TokenOut,
    summary="Sign in: exchange credentials for a token (public)",
)
def issue_token(body: TokenIn, request: Request, c: ContainerDep) -> TokenOut:
    issued = c.identity.issue_token(body.email, body.password, client_ip(request))
    return TokenOut(access_token=issued.token, expires_at=issued.expires_at)


@router.post(
    "/auth/revoke",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Sign out: revoke the token used for this request (any signed-in user)",
)
def revoke_token(who: CurrentPrincipal, c: ContainerDep) -> Response:
    c.identity.revoke_token(who)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=PrincipalOut, summary="Who am I (any credential)")
def me(who: CurrentPrincipal, c: ContainerDep) -> PrincipalOut:
    email = c.identity.get_user(who).email if who.kind == "user" else None
    return PrincipalOut(
        kind=who.kind,
        id=who.id,
        role=who.role,
        org_id=who.org_id,
        email=email,
        scopes=sorted(who.scopes),
    )


@router.post(
    "/api-keys",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    summary="Create an API key (operator for any owner; seller/brand members for their own)",
)
def create_api_key(body: ApiKeyCreate, who: CurrentPrincipal, c: ContainerDep) -> ApiKeyCreated:
    issued = c.identity.create_api_key(
        who,
        name=body.name,
        scopes=body.scopes,
        owner_type=body.owner_type,
        owner_id=body.owner_id,
        expires_at=body.expires_at,
    )
    return ApiKeyCreated(**ApiKeyOut.of(issued.key).model_dump(), secret=issued.secret)


@router.get(
    "/api-keys",
    response_model=ApiKeyPage,
    summary="List API keys (operator, or own organisation's)",
)
def list_api_keys(
    who: CurrentPrincipal, c: ContainerDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> ApiKeyPage:
    page = c.identity.list_api_keys(who, limit=limit, cursor=cursor)
    return ApiKeyPage(items=[ApiKeyOut.of(k) for k in page.items], next_cursor=page.next_cursor)


@router.delete(
    "/api-keys/{key_id}",
    response_model=ApiKeyOut,
    summary="Revoke an API key (operator, or own organisation's)",
)
def revoke_api_key(
    key_id: Annotated[str, Path(max_length=40)], who: CurrentPrincipal, c: ContainerDep
) -> ApiKeyOut:
    return ApiKeyOut.of(c.identity.revoke_api_key(who, key_id))
