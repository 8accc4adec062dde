"""Seller routes: the public application, the operator's review and decisions, and the
seller's own account (profile, members, API keys). Every response is ``no-store``.

Seller-scoped routes (``/api/v1/seller/…``) take a seller member's token or a seller API
key and only ever reach that seller: another seller's member or key answers 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response, status

from bazaar.http.deps import (
    DEFAULT_LIMIT,
    ContainerDep,
    CurrentPrincipal,
    Cursor,
    Limit,
    Operator,
    client_ip,
)
from bazaar.identity.schemas import ApiKeyCreated, ApiKeyOut, ApiKeyPage
from bazaar.sellers.model import SellerStatus
from bazaar.sellers.schemas import (
    ChangesRequestIn,
    InvitationAccept,
    OwnerAccountCreate,
    ReasonIn,
    SellerApiKeyCreate,
    SellerApplicationAdminOut,
    SellerApplicationAdminPage,
    SellerApplicationCreate,
    SellerApplicationOut,
    SellerApplicationReceipt,
    SellerApplicationUpdate,
    SellerMemberCreate,
    SellerMemberInvited,
    SellerMemberOut,
    SellerMemberPage,
    SellerOut,
)

router = APIRouter(prefix="/api/v1", tags=["sellers"])

SellerId = Annotated[str, Path(max_length=40)]
MemberId = Annotated[str, Path(max_length=40)]
KeyId = Annotated[str, Path(max_length=40)]
ApplicationToken = Annotated[
    str | None,
    Header(alias="Application-Token", max_length=200, description="From the application"),
]


# --- applicants (public) ---------------------------------------------------------------------


@router.post(
    "/seller-applications",
    status_code=status.HTTP_201_CREATED,
    response_model=SellerApplicationReceipt,
    summary="Apply to sell (public; throttled per client)",
)
def apply(
    body: SellerApplicationCreate, request: Request, response: Response, c: ContainerDep
) -> SellerApplicationReceipt:
    submitted = c.sellers.apply(body.to_input(), body.to_documents(), client_ip=client_ip(request))
    response.headers["Location"] = f"/api/v1/seller-applications/{submitted.view.seller.id}"
    out = SellerApplicationOut.of(submitted.view)
    return SellerApplicationReceipt(
        **out.model_dump(), application_token=submitted.application_token
    )


@router.get(
    "/seller-applications/{seller_id}",
    response_model=SellerApplicationOut,
    summary="Follow an application (the applicant, with the Application-Token header)",
)
def get_application(
    seller_id: SellerId, c: ContainerDep, token: ApplicationToken = None
) -> SellerApplicationOut:
    return SellerApplicationOut.of(c.sellers.application(seller_id, token))


@router.put(
    "/seller-applications/{seller_id}",
    response_model=SellerApplicationOut,
    summary="Resubmit an application after changes were requested (the applicant)",
)
def resubmit_application(
    seller_id: SellerId,
    body: SellerApplicationUpdate,
    c: ContainerDep,
    token: ApplicationToken = None,
) -> SellerApplicationOut:
    view = c.sellers.resubmit(seller_id, token, body.to_input(), body.to_documents())
    return SellerApplicationOut.of(view)


@router.post(
    "/seller-applications/{seller_id}/owner",
    status_code=status.HTTP_201_CREATED,
    response_model=SellerMemberOut,
    summary="Create the owner's account once approved (the applicant, with the token)",
)
def create_owner_account(
    seller_id: SellerId, body: OwnerAccountCreate, c: ContainerDep, token: ApplicationToken = None
) -> SellerMemberOut:
    member = c.seller_accounts.create_owner_account(seller_id, token or "", body.password)
    return SellerMemberOut.of(member)


@router.post(
    "/seller-invitations/accept",
    status_code=status.HTTP_201_CREATED,
    response_model=SellerMemberOut,
    summary="Accept an invitation to a seller and choose a password (public)",
)
def accept_invitation(body: InvitationAccept, c: ContainerDep) -> SellerMemberOut:
    return SellerMemberOut.of(c.seller_accounts.accept_invitation(body.token, body.password))


# --- operators -------------------------------------------------------------------------------


@router.get(
    "/admin/seller-applications",
    response_model=SellerApplicationAdminPage,
    summary="Applications and sellers with their findings, oldest first (operator)",
)
def list_applications(
    who: Operator,
    c: ContainerDep,
    status_filter: Annotated[SellerStatus | None, Query(alias="status")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> SellerApplicationAdminPage:
    page = c.sellers.list_sellers(who, status=status_filter, limit=limit, cursor=cursor)
    return SellerApplicationAdminPage(
        items=[SellerApplicationAdminOut.of(v) for v in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/admin/seller-applications/{seller_id}",
    response_model=SellerApplicationAdminOut,
    summary="One application or seller with its findings and documents (operator)",
)
def get_application_for_review(
    seller_id: SellerId, who: Operator, c: ContainerDep
) -> SellerApplicationAdminOut:
    return SellerApplicationAdminOut.of(c.sellers.get(who, seller_id))


@router.post(
    "/admin/seller-applications/{seller_id}/approve",
    response_model=SellerApplicationAdminOut,
    summary="Approve: the seller becomes active (operator; 409 while a finding blocks it)",
)
def approve(seller_id: SellerId, who: Operator, c: ContainerDep) -> SellerApplicationAdminOut:
    return SellerApplicationAdminOut.of(c.sellers.approve(who, seller_id))


@router.post(
    "/admin/seller-applications/{seller_id}/reject",
    response_model=SellerApplicationAdminOut,
    summary="Reject with a reason the applicant sees (operator)",
)
def reject(
    seller_id: SellerId, body: ReasonIn, who: Operator, c: ContainerDep
) -> SellerApplicationAdminOut:
    return SellerApplicationAdminOut.of(c.sellers.reject(who, seller_id, body.reason))


@router.post(
    "/admin/seller-applications/{seller_id}/request-changes",
    response_model=SellerApplicationAdminOut,
    summary="Ask the applicant for changes; they resubmit (operator)",
)
def request_changes(
    seller_id: SellerId, body: ChangesRequestIn, who: Operator, c: ContainerDep
) -> SellerApplicationAdminOut:
    return SellerApplicationAdminOut.of(c.sellers.request_changes(who, seller_id, body.changes))


@router.post(
    "/admin/sellers/{seller_id}/suspend",
    response_model=SellerApplicationAdminOut,
    summary="Suspend: offers hidden, payouts held (operator)",
)
def suspend(
    seller_id: SellerId, body: ReasonIn, who: Operator, c: ContainerDep
) -> SellerApplicationAdminOut:
    return SellerApplicationAdminOut.of(c.sellers.suspend(who, seller_id, body.reason))


@router.post(
    "/admin/sellers/{seller_id}/reinstate",
    response_model=SellerApplicationAdminOut,
    summary="Reinstate a suspended seller: hidden offers shown again (operator)",
)
def reinstate(seller_id: SellerId, who: Operator, c: ContainerDep) -> SellerApplicationAdminOut:
    return SellerApplicationAdminOut.of(c.sellers.reinstate(who, seller_id))


@router.post(
    "/admin/sellers/{seller_id}/close",
    response_model=SellerApplicationAdminOut,
    summary="Close a seller for good (operator)",
)
def close(
    seller_id: SellerId, body: ReasonIn, who: Operator, c: ContainerDep
) -> SellerApplicationAdminOut:
    return SellerApplicationAdminOut.of(c.sellers.close(who, seller_id, body.reason))


# --- the seller's own account ----------------------------------------------------------------


@router.get(
    "/seller/profile", response_model=SellerOut, summary="The caller's seller (member or key)"
)
def profile(who: CurrentPrincipal, c: ContainerDep) -> SellerOut:
    return SellerOut.of(c.seller_accounts.profile(who))


@router.get(
    "/seller/members",
    response_model=SellerMemberPage,
    summary="Members and pending invitations (member or key)",
)
def list_members(
    who: CurrentPrincipal, c: ContainerDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> SellerMemberPage:
    page = c.seller_accounts.members(who, limit=limit, cursor=cursor)
    return SellerMemberPage(
        items=[SellerMemberOut.of(m) for m in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/seller/members",
    status_code=status.HTTP_201_CREATED,
    response_model=SellerMemberInvited,
    summary="Invite a member (an owner, signed in); the token is shown once",
)
def invite_member(
    body: SellerMemberCreate, who: CurrentPrincipal, c: ContainerDep
) -> SellerMemberInvited:
    issued = c.seller_accounts.invite(who, body.email, body.role)
    out = SellerMemberOut.of(issued.member)
    return SellerMemberInvited(**out.model_dump(), invitation_token=issued.token)


@router.get(
    "/seller/members/{member_id}",
    response_model=SellerMemberOut,
    summary="One member (member or key)",
)
def get_member(member_id: MemberId, who: CurrentPrincipal, c: ContainerDep) -> SellerMemberOut:
    return SellerMemberOut.of(c.seller_accounts.member(who, member_id))


@router.get(
    "/seller/api-keys", response_model=ApiKeyPage, summary="The seller's API keys (members)"
)
def list_api_keys(
    who: CurrentPrincipal, c: ContainerDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> ApiKeyPage:
    page = c.seller_accounts.api_keys(who, limit=limit, cursor=cursor)
    return ApiKeyPage(items=[ApiKeyOut.of(k) for k in page.items], next_cursor=page.next_cursor)


@router.post(
    "/seller/api-keys",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    summary="Create an API key with seller scopes (members); the secret is shown once",
)
def create_api_key(
    body: SellerApiKeyCreate, who: CurrentPrincipal, c: ContainerDep
) -> ApiKeyCreated:
    issued = c.seller_accounts.create_api_key(
        who, name=body.name, scopes=body.scopes, expires_at=body.expires_at
    )
    return ApiKeyCreated(**ApiKeyOut.of(issued.key).model_dump(), secret=issued.secret)


@router.delete(
    "/seller/api-keys/{key_id}",
    response_model=ApiKeyOut,
    summary="Revoke one of the seller's API keys (members)",
)
def revoke_api_key(key_id: KeyId, who: CurrentPrincipal, c: ContainerDep) -> ApiKeyOut:
    return ApiKeyOut.of(c.seller_accounts.revoke_api_key(who, key_id))
