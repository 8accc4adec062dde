"""A seller's webhooks follow its status: only an active seller subscribes and receives
deliveries. A suspended or closed seller still lists, reads and deletes its subscriptions;
deliveries to them end dead with the reason, and an operator replays them once the seller
is reinstated. Every test runs on SQLite and on PostgreSQL against a real loopback
receiver."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from bazaar.audit.model import DeliveryFilter
from bazaar.bootstrap import Container
from tests.api.test_seller_status_gate import decide, refused
from tests.api.test_sellers import ApprovedSeller, application_json, approved_seller
from tests.support.factories import Account
from tests.support.receiver import WebhookReceiver

WEBHOOKS = "/api/v1/webhooks"
STATUS_EVENTS = ["SellerSuspended", "SellerReinstated", "SellerClosed"]


def _subscribe(client: TestClient, seller: ApprovedSeller, url: str) -> Any:
    return client.post(
        WEBHOOKS, json={"url": url, "event_types": STATUS_EVENTS}, headers=seller.key
    )


def _deliveries(container: Container, operator: Account, sub_id: str) -> list[dict[str, Any]]:
    page = container.audit.list_deliveries(
        operator.principal, DeliveryFilter(subscriber=f"webhook:{sub_id}"), 10, None
    )
    return sorted(page.items, key=lambda d: str(d["id"]))


def test_a_suspended_or_closed_seller_cannot_subscribe_but_may_read_and_delete(
    client: TestClient, container: Container, operator: Account
) -> None:
    # Given an active seller with two subscriptions
    seller = approved_seller(client, container, operator, application_json())
    kept = _subscribe(client, seller, "http://127.0.0.1:9/hooks/kept")
    dropped = _subscribe(client, seller, "http://127.0.0.1:9/hooks/dropped")
    assert (kept.status_code, dropped.status_code) == (201, 201), kept.text

    # When an operator suspends it
    decide(client, operator, seller.id, "suspend")

    # Then neither its key nor its owner may subscribe another endpoint
    refused(_subscribe(client, seller, "http://127.0.0.1:9/hooks/new"), "suspended")
    body = {"url": "http://127.0.0.1:9/hooks/new", "event_types": STATUS_EVENTS}
    refused(client.post(WEBHOOKS, json=body, headers=seller.owner), "suspended")
    # And it still lists, reads and deletes what it has
    listed = client.get(WEBHOOKS, headers=seller.key)
    assert listed.status_code == 200, listed.text
    assert len(listed.json()["items"]) == 2
    assert client.get(f"{WEBHOOKS}/{kept.json()['id']}", headers=seller.key).status_code == 200
    gone = client.delete(f"{WEBHOOKS}/{dropped.json()['id']}", headers=seller.key)
    assert gone.status_code == 204, gone.text

    # When it is closed, the same holds
    decide(client, operator, seller.id, "close")
    refused(_subscribe(client, seller, "http://127.0.0.1:9/hooks/new"), "closed")
    assert client.get(WEBHOOKS, headers=seller.key).status_code == 200
    assert client.delete(f"{WEBHOOKS}/{kept.json()['id']}", headers=seller.key).status_code == 204
    # And operators still subscribe for anyone, the seller included
    for_seller = {**body, "owner_type": "seller", "owner_id": seller.id}
    assert client.post(WEBHOOKS, json=for_seller, headers=operator.headers).status_code == 201


def test_deliveries_to_a_suspended_seller_stop_and_are_replayed_after_reinstatement(
    client: TestClient, container: Container, operator: Account
) -> None:
    with WebhookReceiver() as receiver:
        # Given an active seller subscribed to its status events
        seller = approved_seller(client, container, operator, application_json())
        subscribed = _subscribe(client, seller, receiver.url)
        assert subscribed.status_code == 201, subscribed.text
        sub_id = subscribed.json()["id"]
        container.dispatcher.drain()

        # When an operator suspends it and the dispatcher runs
        decide(client, operator, seller.id, "suspend")
        container.dispatcher.drain()

        # Then nothing was sent: the delivery is dead at once, saying why
        assert receiver.requests == []
        (dead,) = _deliveries(container, operator, sub_id)
        assert dead["status"] == "dead"
        _, attempts = container.audit.get_delivery(operator.principal, dead["id"])
        assert [a["error"] for a in attempts] == [
            f"seller {seller.id} may not receive webhooks in its status"
        ]

        # When the seller is reinstated and an operator replays the dead delivery
        decide(client, operator, seller.id, "reinstate")
        replayed = client.post(
            f"/api/v1/admin/deliveries/{dead['id']}/retry", headers=operator.headers
        )
        assert replayed.status_code == 200, replayed.text
        container.dispatcher.drain()

    # Then both the suspension and the reinstatement reached the seller's endpoint
    types = sorted(r.headers["Bazaar-Event-Type"] for r in receiver.requests)
    assert types == ["SellerReinstated", "SellerSuspended"]
    assert all(d["status"] == "delivered" for d in _deliveries(container, operator, sub_id))
