"""FastAPI dependencies: the container, the caller, and the role a route demands.

This is the only place ``Depends`` is used; routes receive typed aliases.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from bazaar.identity.model import Principal, Role
from bazaar.kernel.errors import Unauthenticated
from bazaar.kernel.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

if TYPE_CHECKING:
    from bazaar.bootstrap import Container


async def get_container(request: Request) -> Container:
    # async: a trivial lookup must not cost a thread-pool hop on every request
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated["Container", Depends(get_container)]


def _credential(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthenticated("Use 'Authorization: Bearer <token or API key>'")
        return value.strip()
    api_key = request.headers.get("x-api-key")
    return api_key.strip() if api_key else None


def _authenticate(request: Request, credential: str) -> Principal:
    container: Container = request.app.state.container
    principal = container.identity.authenticate(credential)
    request.state.principal = principal
    return principal


def _principal_of(request: Request) -> Principal | None:
    """The caller, or None for a guest; blocking (the credential is looked up)."""
    credential = _credential(request)
    return None if credential is None else _authenticate(request, credential)


async def optional_principal(request: Request) -> Principal | None:
    # async, looking the credential up in the thread pool: a guest (guest checkout, the
    # storefront) then costs no thread-pool hop at all.
    credential = _credential(request)
    if credential is None:
        return None
    return await run_in_threadpool(_authenticate, request, credential)


def current_principal(request: Request) -> Principal:
    principal = _principal_of(request)
    if principal is None:
        raise Unauthenticated("This endpoint requires authentication")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


def require_role(*roles: Role) -> Callable[[Request], Principal]:
    """A dependency stating a route's role; operators pass every role check."""

    def dependency(request: Request) -> Principal:
        principal = current_principal(request)
        principal.require_role(*roles)
        return principal

    return dependency


Operator = Annotated[Principal, Depends(require_role(Role.OPERATOR))]
Staff = Annotated[Principal, Depends(require_role(Role.OPERATOR, Role.REVIEWER))]

Limit = Annotated[
    int,
    Query(ge=1, le=MAX_PAGE_SIZE, description=f"Page size, at most {MAX_PAGE_SIZE}"),
]
Cursor = Annotated[
    str | None,
    Query(max_length=1024, description="Opaque cursor from the previous page's `next_cursor`"),
]
DEFAULT_LIMIT = DEFAULT_PAGE_SIZE


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
