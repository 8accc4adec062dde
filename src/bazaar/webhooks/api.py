"""Webhook subscription routes (sellers, brands, partners with webhooks:* scopes, operators).

A seller subscribes only while its status allows integrating (:mod:`bazaar.sellers.standing`):
a suspended or closed seller gets a 403 ``seller_status`` problem. It still lists, reads and
deletes its subscriptions: that exposes nothing new, and deleting only narrows what it
receives (its deliveries have stopped anyway, see :mod:`bazaar.webhooks.delivery`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from bazaar.http.deps import DEFAULT_LIMIT, ContainerDep, CurrentPrincipal, Cursor, Limit
from bazaar.sellers.guards import IfSellerIntegrating
from bazaar.webhooks.schemas import WebhookCreate, WebhookCreated, WebhookOut, WebhookPage

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])

SubscriptionId = Annotated[str, Path(max_length=40)]


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=WebhookCreated, summary="Subscribe"
)
def subscribe(body: WebhookCreate, who: IfSellerIntegrating, c: ContainerDep) -> WebhookCreated:
    """Create a subscription; the secret is shown in this answer only. Refused (403
    ``seller_status``) to a suspended or closed seller: a seller whose trading is on hold
    wires up no new endpoint."""
    sub = c.webhooks.subscribe(
        who,
        url=body.url,
        event_types=body.event_types,
        description=body.description,
        owner_type=body.owner_type,
        owner_id=body.owner_id,
    )
    return WebhookCreated(**WebhookOut.of(sub).model_dump(), secret=sub.secret)


@router.get("", response_model=WebhookPage, summary="List subscriptions")
def list_subscriptions(
    who: CurrentPrincipal, c: ContainerDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> WebhookPage:
    """The caller's subscriptions (every one for operators), whatever a seller's status:
    a suspended or closed seller still sees what it had wired up."""
    page = c.webhooks.list(who, limit=limit, cursor=cursor)
    return WebhookPage(items=[WebhookOut.of(s) for s in page.items], next_cursor=page.next_cursor)


@router.get("/{subscription_id}", response_model=WebhookOut, summary="Get a subscription")
def get_subscription(
    subscription_id: SubscriptionId, who: CurrentPrincipal, c: ContainerDep
) -> WebhookOut:
    return WebhookOut.of(c.webhooks.get(who, subscription_id))


@router.delete("/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Unsubscribe")
def unsubscribe(
    subscription_id: SubscriptionId, who: CurrentPrincipal, c: ContainerDep
) -> Response:
    """Deactivate a subscription. Allowed to a suspended or closed seller too: removing an
    endpoint it no longer runs only narrows what it receives."""
    c.webhooks.unsubscribe(who, subscription_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
