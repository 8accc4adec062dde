"""Webhook delivery end to end: the real dispatcher posting to a real loopback receiver.

Every test runs on SQLite and on PostgreSQL. The dispatcher is drained synchronously, so by
the time ``drain()`` returns the receiver has already recorded what it got; no test waits.
Retries are driven by a FixedClock that the test advances past ``next_attempt_at``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from bazaar.audit.model import DeliveryFilter
from bazaar.bootstrap import Container, build
from bazaar.catalog.events import ProductCreated
from bazaar.http.app import create_app
from bazaar.identity.model import Role
from bazaar.infra.dispatcher import Dispatcher
from bazaar.kernel.clock import FixedClock
from bazaar.kernel.events import StoredEvent
from bazaar.kernel.ids import new_id
from bazaar.webhooks.delivery import WebhookDeliverer
from bazaar.webhooks.model import Subscription
from bazaar.webhooks.signature import (
    DELIVERY_ID_HEADER,
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    verify_signature,
)
from tests.support.factories import (
    Account,
    ensure_category,
    make_account,
    make_product,
    product_json,
    test_settings,
)
from tests.support.receiver import ReceivedRequest, Reply, WebhookReceiver, closed_port_url
from tests.support.sellers import put_seller_on_file

A_DAY_S = 86_400.0


# --- helpers --------------------------------------------------------------------------------


def independent_signature(secret: str, timestamp: str, body: bytes) -> str:
    """What a receiver computes from the documented scheme, without Bazaar's code."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_parts(header: str) -> tuple[str, str]:
    parts = dict(item.split("=", 1) for item in header.split(","))
    return parts["t"], parts["v1"]


def event_types(requests: list[ReceivedRequest]) -> list[str]:
    return [r.headers[EVENT_TYPE_HEADER] for r in requests]


@dataclass
class Hooks:
    """A container on a FixedClock, with an operator to act and to read the delivery views."""

    container: Container
    clock: FixedClock
    operator: Account

    def subscribe(self, url: str, types: tuple[str, ...] = ("ProductCreated",)) -> Subscription:
        return self.container.webhooks.subscribe(
            self.operator.principal, url=url, event_types=list(types)
        )

    def delivery_for(self, sub: Subscription) -> dict[str, Any]:
        page = self.container.audit.list_deliveries(
            self.operator.principal, DeliveryFilter(subscriber=f"webhook:{sub.id}"), 10, None
        )
        assert len(page.items) == 1, page.items
        return page.items[0]

    def history(self, delivery_id: str) -> list[dict[str, Any]]:
        _, attempts = self.container.audit.get_delivery(self.operator.principal, delivery_id)
        return attempts

    def drain_later(self, seconds: float = A_DAY_S) -> int:
        """Let ``seconds`` pass (past any backoff) and deliver what is due then."""
        self.clock.advance(seconds)
        return self.container.dispatcher.drain()


@pytest.fixture
def hooks_with(db_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Callable[..., Hooks]]:
    built: list[Container] = []

    def make(**overrides: Any) -> Hooks:
        container = build(test_settings(db_url, tmp_path, **overrides), clock=clock)
        built.append(container)
        return Hooks(container, clock, make_account(container, Role.OPERATOR))

    yield make
    for container in built:
        container.close()


@pytest.fixture
def hooks(hooks_with: Callable[..., Hooks]) -> Hooks:
    return hooks_with()


# --- the vertical slice ---------------------------------------------------------------------


def test_created_product_is_delivered_signed_to_the_subscriber_and_to_handlers(
    client: TestClient, container: Container, operator: Account
) -> None:
    handled: list[StoredEvent] = []
    container.handlers.register(ProductCreated, "test.recorder", handled.append)
    with WebhookReceiver() as receiver:
        # Given an operator subscribed an endpoint to ProductCreated through the API
        created = client.post(
            "/api/v1/webhooks",
            json={"url": receiver.url, "event_types": ["ProductCreated"]},
            headers=operator.headers,
        )
        assert created.status_code == 201, created.text
        subscription = created.json()
        secret = subscription["secret"]
        assert secret.startswith("whsec_")
        shown_again = client.get(f"/api/v1/webhooks/{subscription['id']}", headers=operator.headers)
        assert shown_again.status_code == 200
        assert "secret" not in shown_again.json()

        # When an operator creates a product and the dispatcher drains the outbox
        category = ensure_category(container, operator, "apparel/t-shirts")
        response = client.post(
            "/api/v1/products",
            json=product_json("TEE-ORG-M-BLK", title="Organic cotton tee"),
            headers=operator.headers,
        )
        assert response.status_code == 201, response.text
        product = response.json()
        assert receiver.requests == []  # nothing is sent from inside the request
        container.dispatcher.drain()

    # Then the endpoint received one signed JSON envelope describing the product
    [request] = receiver.requests
    assert (request.method, request.path) == ("POST", "/hooks/bazaar")
    assert request.headers["Content-Type"] == "application/json"
    event_id = request.headers[EVENT_ID_HEADER]
    assert event_id.startswith("evt_")
    assert request.headers[EVENT_TYPE_HEADER] == "ProductCreated"
    delivery_id = request.headers[DELIVERY_ID_HEADER]
    envelope = json.loads(request.body)
    stored = client.get(f"/api/v1/admin/events/{event_id}", headers=operator.headers).json()
    assert envelope == {
        "id": event_id,
        "type": "ProductCreated",
        "occurred_at": envelope["occurred_at"],
        "subject": {"type": "product", "id": product["id"]},
        "actor": {"type": "user", "id": operator.user.id},
        "data": {
            "product_id": product["id"],
            "title": "Organic cotton tee",
            "category_id": category.id,
            "brand_id": None,
            "status": "active",
            "skus": ["TEE-ORG-M-BLK"],
            "offers": [
                {
                    "offer_id": envelope["data"]["offers"][0]["offer_id"],
                    "variant_id": product["variants"][0]["id"],
                    "fulfiller_id": "retailer",
                    "price": {"amount": 1999, "currency": "EUR"},
                    "shipping": {"amount": 0, "currency": "EUR"},
                    "stock": 5,
                }
            ],
        },
    }
    assert datetime.fromisoformat(envelope["occurred_at"]) == datetime.fromisoformat(
        stored["occurred_at"]
    )

    # And the signature checks out with an independent HMAC of "<t>.<raw body>"
    header = request.headers[SIGNATURE_HEADER]
    timestamp, v1 = signature_parts(header)
    assert hmac.compare_digest(v1, independent_signature(secret, timestamp, request.body))
    sent_at = int(timestamp)
    assert verify_signature(secret, header, request.body, now=sent_at)
    assert not verify_signature(
        secret, header, request.body.replace(b"TEE-ORG-M-BLK", b"TEE-ORG-M-WHT"), now=sent_at
    )
    assert not verify_signature(secret, header, request.body, now=sent_at + 301)
    assert not verify_signature("whsec_someone-else", header, request.body, now=sent_at)

    # And the delivery view shows the one successful attempt
    delivery = client.get(f"/api/v1/admin/deliveries/{delivery_id}", headers=operator.headers)
    assert delivery.status_code == 200
    assert delivery.json()["status"] == "delivered"
    assert delivery.json()["subscriber"] == f"webhook:{subscription['id']}"
    assert [(a["attempt"], a["ok"], a["status_code"]) for a in delivery.json()["history"]] == [
        (1, True, 200)
    ]

    # And the in-process handler got the very same event
    assert [e.id for e in handled] == [event_id]
    assert handled[0].payload == envelope["data"]


# --- retries --------------------------------------------------------------------------------


def test_failed_attempt_is_retried_after_backoff_and_every_attempt_is_recorded(
    hooks: Hooks,
) -> None:
    with WebhookReceiver([500, 200]) as receiver:
        # Given a subscriber that fails once with 500, then recovers
        sub = hooks.subscribe(receiver.url)
        make_product(hooks.container, hooks.operator)

        # When the dispatcher drains
        hooks.container.dispatcher.drain()

        # Then the delivery waits for a later attempt, not before its time
        pending = hooks.delivery_for(sub)
        assert (pending["status"], pending["attempts"]) == ("pending", 1)
        assert pending["next_attempt_at"] > hooks.clock.now()
        assert pending["last_error"] == "HTTP 500"
        assert hooks.container.dispatcher.drain() == 0
        assert len(receiver.requests) == 1

        # When time passes the next attempt
        hooks.clock.set(pending["next_attempt_at"])
        hooks.container.dispatcher.drain()

    # Then the second attempt succeeds, with the same event and delivery id and the same body
    delivered = hooks.delivery_for(sub)
    assert (delivered["status"], delivered["attempts"]) == ("delivered", 2)
    first, second = receiver.requests
    assert first.body == second.body
    assert first.headers[EVENT_ID_HEADER] == second.headers[EVENT_ID_HEADER]
    assert first.headers[DELIVERY_ID_HEADER] == second.headers[DELIVERY_ID_HEADER]
    history = hooks.history(delivered["id"])
    assert [(a["attempt"], a["ok"], a["status_code"], a["error"]) for a in history] == [
        (1, False, 500, "HTTP 500"),
        (2, True, 200, None),
    ]


@pytest.mark.parametrize("status", [400, 404, 410])
def test_refusing_client_error_is_dead_after_one_attempt(hooks: Hooks, status: int) -> None:
    with WebhookReceiver([Reply(status, body=b"no such hook")]) as receiver:
        # Given a subscriber that answers with a 4xx that retrying cannot fix
        sub = hooks.subscribe(receiver.url)
        make_product(hooks.container, hooks.operator)

        # When the dispatcher drains, and again a day later
        hooks.container.dispatcher.drain()
        hooks.drain_later()

    # Then there was exactly one attempt and the delivery is dead, with the receiver's answer
    assert len(receiver.requests) == 1
    delivery = hooks.delivery_for(sub)
    assert (delivery["status"], delivery["attempts"]) == ("dead", 1)
    [attempt] = hooks.history(delivery["id"])
    assert (attempt["status_code"], attempt["error"], attempt["response_excerpt"]) == (
        status,
        f"HTTP {status}",
        "no such hook",
    )


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503])
def test_transient_failure_is_retried(hooks: Hooks, status: int) -> None:
    with WebhookReceiver([status]) as receiver:
        # Given a subscriber that fails once with a status worth retrying
        sub = hooks.subscribe(receiver.url)
        make_product(hooks.container, hooks.operator)

        # When the dispatcher drains now and after the backoff
        hooks.container.dispatcher.drain()
        retried = hooks.delivery_for(sub)
        hooks.drain_later()

    # Then the first attempt was scheduled for a retry and the retry delivered it
    assert (retried["status"], retried["last_error"]) == ("pending", f"HTTP {status}")
    assert len(receiver.requests) == 2
    assert hooks.delivery_for(sub)["status"] == "delivered"


def test_retry_after_is_honoured(hooks: Hooks) -> None:
    with WebhookReceiver([Reply(429, retry_after="120")]) as receiver:
        # Given a subscriber that rate-limits us for 120 s
        sub = hooks.subscribe(receiver.url)
        make_product(hooks.container, hooks.operator)

        # When the dispatcher drains, and again 119 s later
        hooks.container.dispatcher.drain()
        failed_at = hooks.clock.now()
        delivery = hooks.delivery_for(sub)
        hooks.clock.advance(119)
        attempted_early = hooks.container.dispatcher.drain()

        # Then the next attempt is at least 120 s away (the backoff alone would be ~2 s)
        assert delivery["next_attempt_at"] - failed_at >= timedelta(seconds=120)
        assert attempted_early == 0
        assert len(receiver.requests) == 1

        # And once the time has come it is delivered
        hooks.clock.set(delivery["next_attempt_at"])
        hooks.container.dispatcher.drain()
    assert len(receiver.requests) == 2
    assert hooks.delivery_for(sub)["status"] == "delivered"


def test_connection_refused_is_retried(hooks: Hooks) -> None:
    # Given a subscription to a port where nothing listens
    sub = hooks.subscribe(closed_port_url())
    make_product(hooks.container, hooks.operator)

    # When the dispatcher drains
    hooks.container.dispatcher.drain()

    # Then the connection error is recorded and the delivery will be tried again
    delivery = hooks.delivery_for(sub)
    assert (delivery["status"], delivery["attempts"]) == ("pending", 1)
    assert delivery["last_error"].startswith("ConnectError")
    [attempt] = hooks.history(delivery["id"])
    assert (attempt["ok"], attempt["status_code"]) == (False, None)


def test_read_timeout_is_retried(hooks_with: Callable[..., Hooks]) -> None:
    hooks = hooks_with(webhook_read_timeout_s=0.2)
    with WebhookReceiver([Reply(200, delay_s=1.0)]) as receiver:
        # Given a subscriber that answers only after the read timeout
        sub = hooks.subscribe(receiver.url)
        make_product(hooks.container, hooks.operator)

        # When the dispatcher drains, and again after the backoff
        hooks.container.dispatcher.drain()
        timed_out = hooks.delivery_for(sub)
        hooks.drain_later()

    # Then the slow attempt counted as a timeout and was retried successfully
    assert (timed_out["status"], timed_out["last_error"]) == ("pending", "timeout: ReadTimeout")
    assert len(receiver.requests) == 2
    assert hooks.delivery_for(sub)["status"] == "delivered"


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirect_is_neither_followed_nor_retried(hooks: Hooks, status: int) -> None:
    with (
        WebhookReceiver() as elsewhere,
        WebhookReceiver([Reply(status, location=elsewhere.url)]) as receiver,
    ):
        # Given a subscriber that redirects to another address
        sub = hooks.subscribe(receiver.url)
        make_product(hooks.container, hooks.operator)

        # When the dispatcher drains, and again a day later
        hooks.container.dispatcher.drain()
        hooks.drain_later()

    # Then the redirect target was never contacted and the delivery is dead after one attempt
    assert len(receiver.requests) == 1
    assert elsewhere.requests == []
    delivery = hooks.delivery_for(sub)
    assert (delivery["status"], delivery["attempts"], delivery["last_error"]) == (
        "dead",
        1,
        f"HTTP {status}",
    )


def test_dead_after_max_attempts_and_replay_redelivers_the_same_event(
    hooks_with: Callable[..., Hooks],
) -> None:
    hooks = hooks_with(delivery_max_attempts=3)
    with WebhookReceiver(otherwise=503) as receiver:
        # Given a subscriber that keeps failing until every attempt is used up
        sub = hooks.subscribe(receiver.url)
        make_product(hooks.container, hooks.operator)
        hooks.container.dispatcher.drain()
        hooks.drain_later()
        hooks.drain_later()
        hooks.drain_later()  # nothing left to try: the delivery is dead
        dead = hooks.delivery_for(sub)
        assert (dead["status"], dead["attempts"], dead["last_error"]) == ("dead", 3, "HTTP 503")
        assert len(receiver.requests) == 3

        # When the receiver is healthy again and an operator replays the dead delivery
        receiver.script(otherwise=200)
        hooks.clock.advance(3600)
        replayed = hooks.container.audit.replay_delivery(hooks.operator.principal, dead["id"])
        assert (replayed["status"], replayed["attempts"]) == ("pending", 0)
        hooks.container.dispatcher.drain()

    # Then it is delivered: same event id and byte-identical body, so the receiver can
    # de-duplicate, but a fresh signature timestamp so it passes the replay window
    assert hooks.delivery_for(sub)["status"] == "delivered"
    failed, last = receiver.requests[0], receiver.requests[-1]
    assert len(receiver.requests) == 4
    assert last.headers[EVENT_ID_HEADER] == failed.headers[EVENT_ID_HEADER]
    assert last.body == failed.body
    first_t, _ = signature_parts(failed.headers[SIGNATURE_HEADER])
    last_t, last_v1 = signature_parts(last.headers[SIGNATURE_HEADER])
    assert int(last_t) == int(hooks.clock.now().timestamp()) > int(first_t)
    assert last_v1 == independent_signature(sub.secret, last_t, last.body)
    now = hooks.clock.now().timestamp()
    assert verify_signature(sub.secret, last.headers[SIGNATURE_HEADER], last.body, now=now)
    assert not verify_signature(sub.secret, failed.headers[SIGNATURE_HEADER], failed.body, now=now)
    history = hooks.history(dead["id"])
    assert [(a["attempt"], a["ok"]) for a in history] == [
        (1, False),
        (2, False),
        (3, False),
        (1, True),
    ]


def test_unsubscribing_before_delivery_ends_the_queued_delivery_dead(
    client: TestClient, container: Container, operator: Account
) -> None:
    with WebhookReceiver() as receiver:
        # Given a delivery queued for a subscription
        created = client.post(
            "/api/v1/webhooks",
            json={"url": receiver.url, "event_types": ["ProductCreated"]},
            headers=operator.headers,
        ).json()
        make_product(container, operator)

        # When the subscription is removed before the dispatcher runs
        removed = client.delete(f"/api/v1/webhooks/{created['id']}", headers=operator.headers)
        assert removed.status_code == 204
        container.dispatcher.drain()

    # Then nothing was sent and the delivery is dead, saying why
    assert receiver.requests == []
    listed = client.get(
        "/api/v1/admin/deliveries",
        params={"subscriber": f"webhook:{created['id']}"},
        headers=operator.headers,
    ).json()["items"]
    assert [(d["status"], d["last_error"]) for d in listed] == [("dead", "subscription removed")]
    assert client.get(
        f"/api/v1/webhooks/{created['id']}", headers=operator.headers
    ).status_code == (404)


# --- SSRF -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "loopback",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/hook",
        "http://[::1]/hook",
        "ftp://example.com/hook",
    ],
)
def test_subscribing_an_internal_url_is_refused(hooks_with: Callable[..., Hooks], url: str) -> None:
    # Given a Bazaar that allows no internal networks (production's default)
    hooks = hooks_with(webhook_allowed_networks=[])
    with (
        WebhookReceiver() as receiver,
        TestClient(create_app(hooks.container, run_dispatcher=False)) as api,
    ):
        target = receiver.url if url == "loopback" else url

        # When an operator subscribes that URL
        response = api.post(
            "/api/v1/webhooks",
            json={"url": target, "event_types": ["*"]},
            headers=hooks.operator.headers,
        )

        # Then it is refused as a validation error naming the url field, and nothing is stored
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == ["url"]
        assert response.json()["errors"][0]["code"] == "url_not_allowed"
        listed = api.get("/api/v1/webhooks", headers=hooks.operator.headers).json()
        assert listed["items"] == []
    assert receiver.requests == []


def test_url_that_turns_internal_by_delivery_time_is_not_contacted(hooks: Hooks) -> None:
    with WebhookReceiver() as receiver:
        # Given a subscription accepted while its host was allowed
        sub = hooks.subscribe(receiver.url)
        make_product(hooks.container, hooks.operator)

        # When, at delivery time, the host resolves to a private address (DNS rebinding)
        with httpx.Client() as http:
            deliverer = WebhookDeliverer(
                hooks.container.db,
                hooks.clock,
                http,
                allowed_networks=(),
                resolve=lambda host, port: ["10.0.0.5"],
            )
            dispatcher = Dispatcher(
                hooks.container.db,
                hooks.clock,
                {"webhook": deliverer, "handler": hooks.container.handlers},
            )
            dispatcher.drain()

    # Then no request was made and the delivery is dead with the reason
    assert receiver.requests == []
    delivery = hooks.delivery_for(sub)
    assert (delivery["status"], delivery["attempts"]) == ("dead", 1)
    assert "10.0.0.5" in delivery["last_error"]
    assert "private address" in delivery["last_error"]


# --- visibility -----------------------------------------------------------------------------


def test_seller_subscription_sees_public_events_and_its_own_but_not_other_orgs(
    client: TestClient, container: Container, operator: Account
) -> None:
    # an active seller on file: only those receive webhooks (tests/api/test_webhooks_seller_status)
    acme = put_seller_on_file(container, new_id("sel"))
    seller = make_account(container, Role.SELLER, acme)
    with WebhookReceiver() as seller_hook, WebhookReceiver() as platform_hook:
        # Given a platform-wide subscription and a seller's subscription, both to every event
        platform_sub = client.post(
            "/api/v1/webhooks",
            json={"url": platform_hook.url, "event_types": ["*"]},
            headers=operator.headers,
        ).json()
        seller_sub = client.post(
            "/api/v1/webhooks",
            json={"url": seller_hook.url, "event_types": ["*"]},
            headers=seller.headers,
        )
        assert seller_sub.status_code == 201, seller_sub.text
        assert (seller_sub.json()["owner_type"], seller_sub.json()["owner_id"]) == ("seller", acme)

        # When a public event, another seller's private event and the seller's own happen
        product = make_product(container, operator, offers=[])
        other_key = container.identity.create_api_key(
            operator.principal,
            name="other",
            scopes=["catalog:read"],
            owner_type=Role.SELLER,
            owner_id="sel_other",
        )
        own_key = container.identity.create_api_key(
            operator.principal,
            name="own",
            scopes=["catalog:read"],
            owner_type=Role.SELLER,
            owner_id=acme,
        )
        container.dispatcher.drain()

    def subjects(receiver: WebhookReceiver) -> set[tuple[str, str]]:
        envelopes = [json.loads(r.body) for r in receiver.requests]
        # (the product's category, created on the way, is public too and not the point here)
        return {
            (e["type"], e["subject"]["id"]) for e in envelopes if e["type"] != "CategoryCreated"
        }

    # Then the seller got the public event and its own organisation's, never the other's
    assert subjects(seller_hook) == {
        ("WebhookSubscribed", seller_sub.json()["id"]),
        ("ProductCreated", product.id),
        ("ApiKeyCreated", own_key.key.id),
    }
    # And the platform subscription got everything
    assert subjects(platform_hook) == {
        ("WebhookSubscribed", platform_sub["id"]),
        ("WebhookSubscribed", seller_sub.json()["id"]),
        ("ProductCreated", product.id),
        ("ApiKeyCreated", other_key.key.id),
        ("ApiKeyCreated", own_key.key.id),
    }
