"""Signed webhook delivery over HTTP (a ``Deliverer`` for the dispatcher).

The body is the event envelope as JSON, identical on every attempt; the signature header is
made fresh per attempt. 2xx is success. 4xx means the receiver refused this delivery and
retrying will not help, except 408 and 429 (and 429/503 ``Retry-After`` is honoured). 5xx,
timeouts and connection errors are retried with backoff by the dispatcher.

Before anything is sent, the subscription's owner must still be entitled to deliveries
(:class:`SubscriberStanding`): a suspended or closed seller's deliveries end dead at once,
with the reason, and an operator replays them once the seller is reinstated. Nothing is
sent to an endpoint of a seller whose trading is on hold, however long ago it was queued.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import httpx

from bazaar import __version__
from bazaar.infra.db import Database
from bazaar.infra.dispatcher import DeliveryResult
from bazaar.infra.netguard import IPNetwork, check_outbound_url
from bazaar.infra.outbox import Claim, envelope_bytes
from bazaar.kernel.clock import Clock
from bazaar.kernel.errors import ValidationFailed
from bazaar.sellers.status_gate import SellerStatusGate
from bazaar.webhooks import signature
from bazaar.webhooks.service import subscription_for_delivery

RETRYABLE_4XX = frozenset({408, 429})


class SubscriberStanding(Protocol):
    """Whether a subscription's owner may receive deliveries right now."""

    def may_receive_webhooks(self, owner_type: str, owner_id: str) -> bool: ...


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


class WebhookDeliverer:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        client: httpx.Client,
        *,
        allowed_networks: Sequence[IPNetwork] = (),
        resolve: Callable[[str, int], list[str]] | None = None,
        standing: SubscriberStanding | None = None,
    ) -> None:
        self._db = db
        # Sellers are the owners whose standing can lapse; the sellers context decides.
        self._standing = standing or SellerStatusGate(db)
        self._clock = clock
        self._client = client
        self._allowed_networks = tuple(allowed_networks)
        self._resolve = resolve

    @staticmethod
    def build_client(connect_timeout_s: float, read_timeout_s: float) -> httpx.Client:
        return httpx.Client(
            timeout=httpx.Timeout(read_timeout_s, connect=connect_timeout_s),
            follow_redirects=False,  # a redirect could point at an internal address
            headers={"User-Agent": f"Bazaar-Webhooks/{__version__}"},
        )

    def deliver(self, claim: Claim) -> DeliveryResult:
        sub_id = claim.subscriber.removeprefix("webhook:")
        sub = subscription_for_delivery(self._db, sub_id)
        if sub is None or not sub.active:
            return DeliveryResult(ok=False, retryable=False, error="subscription removed")
        if not self._standing.may_receive_webhooks(sub.owner_type, sub.owner_id):
            return DeliveryResult(
                ok=False,
                retryable=False,
                error=f"{sub.owner_type} {sub.owner_id} may not receive webhooks in its status",
            )
        try:
            # Checked again at delivery time: DNS may have changed since the subscription.
            check_outbound_url(
                sub.url, allowed_networks=self._allowed_networks, resolve=self._resolve
            )
        except ValidationFailed as exc:
            return DeliveryResult(ok=False, retryable=False, error=exc.detail)
        body = envelope_bytes(claim.event)
        timestamp = int(self._clock.now().timestamp())
        headers = {
            "Content-Type": "application/json",
            signature.SIGNATURE_HEADER: signature.sign(sub.secret, body, timestamp),
            signature.EVENT_ID_HEADER: claim.event.id,
            signature.EVENT_TYPE_HEADER: claim.event.type,
            signature.DELIVERY_ID_HEADER: claim.delivery_id,
        }
        try:
            response = self._client.post(sub.url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            return DeliveryResult(ok=False, error=f"timeout: {type(exc).__name__}")
        except httpx.HTTPError as exc:
            return DeliveryResult(ok=False, error=f"{type(exc).__name__}: {exc}")
        excerpt = response.text[:500]
        status = response.status_code
        if 200 <= status < 300:
            return DeliveryResult(ok=True, status_code=status, response_excerpt=excerpt)
        # 3xx and 4xx are the receiver's considered answer; only 5xx, 408 and 429 may pass.
        retryable = status >= 500 or status in RETRYABLE_4XX
        return DeliveryResult(
            ok=False,
            retryable=retryable,
            status_code=status,
            error=f"HTTP {status}",
            response_excerpt=excerpt,
            retry_after_s=_retry_after(response) if status in (429, 503) else None,
        )
