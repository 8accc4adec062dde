"""Order routing to sellers over HTTP: the seller fulfillment API, its webhook, refunds.

Every test runs on SQLite and on PostgreSQL with the built-in test gateway. A paid order
holds a retailer line and one or more lines of a marketplace seller, so it splits into two
fulfillment orders: the retailer's (shipped by the operator) and the seller's (routed to it).
"""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from bazaar.bootstrap import Container
from bazaar.catalog.drafts import OfferDraft
from bazaar.catalog.model import VariantDraft
from bazaar.identity.model import Role
from bazaar.kernel.ids import new_id
from bazaar.kernel.money import Money
from bazaar.webhooks.signature import EVENT_TYPE_HEADER, SIGNATURE_HEADER, verify_signature
from tests.support.assertions import assert_problem
from tests.support.checkout import guest_cart, order_body, stock_of, stocked_offer
from tests.support.factories import Account, make_account, make_product
from tests.support.receiver import WebhookReceiver
from tests.support.sellers import put_seller_on_file

SELLER_API = "/api/v1/seller/fulfillments"
ORDERS = "/api/v1/orders"
SELLER_SCOPES = ["orders:read", "fulfillments:write", "webhooks:write", "webhooks:read"]
_skus = itertools.count(1)


# --- helpers (also used by tests/integration/test_routing.py) ---------------------------------


@dataclass(frozen=True)
class Seller:
    id: str
    account: Account  # a member signed in with a bearer token
    key: str  # an API key with SELLER_SCOPES

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def make_seller(container: Container, operator: Account, name: str = "Trail Shop") -> Seller:
    """A marketplace seller registered as a fulfiller, with a member and a scoped API key."""
    seller_id = put_seller_on_file(container, new_id("sel"))
    container.taxonomy.set_fulfiller(operator.principal, seller_id, name, None)
    issued = container.identity.create_api_key(
        operator.principal,
        name="fulfillment",
        scopes=SELLER_SCOPES,
        owner_type=Role.SELLER,
        owner_id=seller_id,
    )
    return Seller(seller_id, make_account(container, Role.SELLER, seller_id), issued.secret)


def seller_offer(
    container: Container, operator: Account, seller: Seller, *, price: int, stock: int = 10
) -> tuple[str, str]:
    """(offer id, sku) of an active product offered by ``seller`` alone."""
    sku = f"SEL-{next(_skus):05d}"
    product = make_product(
        container,
        operator,
        variants=[VariantDraft(sku)],
        offers=[OfferDraft(sku, Money(price, "EUR"), stock=stock, fulfiller_id=seller.id)],
    )
    container.dispatcher.drain()  # inventory takes the offer's stock into the seller's warehouse
    offer = container.catalog.product_view(product.id, staff=True).offers[0]
    return offer.id, sku


def place_paid_order(client: TestClient, items: list[tuple[str, int]]) -> dict[str, Any]:
    """A guest order of ``(offer id, quantity)`` items, paid; its body plus ``token``."""
    cart_id, headers = guest_cart(client, items[0][0], items[0][1])
    for offer_id, quantity in items[1:]:
        added = client.post(
            f"/api/v1/carts/{cart_id}/items",
            json={"offer_id": offer_id, "quantity": quantity},
            headers=headers,
        )
        assert added.status_code in (200, 201), added.text
    response = client.post(ORDERS, json=order_body(cart_id), headers={**headers, **key()})
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    assert order["status"] == "paid"
    return order


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def fulfillment_of(order: dict[str, Any], fulfiller_id: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        f for f in order["fulfillments"] if f["fulfiller_id"] == fulfiller_id
    ]
    assert len(found) == 1, found
    return found[0]


def line_of(order: dict[str, Any], offer_id: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [x for x in order["lines"] if x["offer_id"] == offer_id]
    assert len(found) == 1, found
    return found[0]


def read_order(client: TestClient, order: dict[str, Any]) -> dict[str, Any]:
    response = client.get(f"{ORDERS}/{order['id']}", headers={"Order-Token": order["access_token"]})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@dataclass(frozen=True)
class MixedOrder:
    """A paid order: 1 retailer unit at 20.00, 2 seller units at 19.99 and 1 at 5.00."""

    order: dict[str, Any]
    seller: Seller
    retailer_sku: str
    seller_skus: tuple[str, str]
    seller_offers: tuple[str, str]

    @property
    def seller_fulfillment(self) -> str:
        return str(fulfillment_of(self.order, self.seller.id)["id"])

    @property
    def retailer_fulfillment(self) -> str:
        return str(fulfillment_of(self.order, "retailer")["id"])


def mixed_order(client: TestClient, container: Container, operator: Account) -> MixedOrder:
    seller = make_seller(container, operator)
    retailer_offer, retailer_sku = stocked_offer(container, operator, stock=5, price=2000)
    mug, mug_sku = seller_offer(container, operator, seller, price=1999, stock=4)
    cap, cap_sku = seller_offer(container, operator, seller, price=500, stock=4)
    order = place_paid_order(client, [(retailer_offer, 1), (mug, 2), (cap, 1)])
    return MixedOrder(order, seller, retailer_sku, (mug_sku, cap_sku), (mug, cap))


def ship_body(**lines: int) -> dict[str, Any]:
    body: dict[str, Any] = {"carrier": "PostNL", "tracking_number": "3SBAZ0001"}
    if lines:
        body["lines"] = [{"line_id": k, "quantity": v} for k, v in lines.items()]
    return body


# --- routing and what a seller sees ------------------------------------------------------------


def test_a_paid_order_is_split_and_each_seller_sees_only_its_own_part(
    client: TestClient, container: Container, operator: Account
) -> None:
    # Given a seller subscribed to its fulfillment events, and another seller subscribed too
    seller = make_seller(container, operator)
    other = make_seller(container, operator, "Other Shop")
    with WebhookReceiver() as mine, WebhookReceiver() as theirs:
        sub = client.post(
            "/api/v1/webhooks",
            json={"url": mine.url, "event_types": ["FulfillmentCreated"]},
            headers=seller.headers,
        )
        assert sub.status_code == 201, sub.text
        secret = sub.json()["secret"]
        other_sub = client.post(
            "/api/v1/webhooks",
            json={"url": theirs.url, "event_types": ["*"]},
            headers=other.headers,
        )
        assert other_sub.status_code == 201, other_sub.text

        # When a guest buys a retailer product and the seller's product, and pays
        retailer_offer, _ = stocked_offer(container, operator, stock=5, price=2000)
        mug, _ = seller_offer(container, operator, seller, price=1999)
        order = place_paid_order(client, [(retailer_offer, 1), (mug, 2)])
        container.dispatcher.drain()

        # Then the order is split in two fulfillment orders, one per fulfiller
        assert sorted(f["fulfiller_id"] for f in order["fulfillments"]) == sorted(
            ["retailer", seller.id]
        )
        assert {f["status"] for f in order["fulfillments"]} == {"pending"}
        # and the seller's subscription received one signed FulfillmentCreated
        (request,) = mine.requests
        assert request.headers[EVENT_TYPE_HEADER] == "FulfillmentCreated"
        assert verify_signature(secret, request.headers[SIGNATURE_HEADER], request.body)
        payload = json.loads(request.body)["data"]
        ours = fulfillment_of(order, seller.id)
        assert payload["fulfillment_id"] == ours["id"]
        assert payload["accept_by"] is not None
        # and the other seller, subscribed to everything, heard nothing of it (only public
        # catalog events and its own subscription)
        assert theirs.requests
        assert not [r for r in theirs.requests if ours["id"].encode() in r.body]
        assert not [r for r in theirs.requests if order["id"].encode() in r.body]

    # And the seller lists only its part, with what it needs to ship it
    listed = client.get(SELLER_API, headers=seller.headers)
    assert listed.status_code == 200, listed.text
    assert listed.headers["cache-control"] == "no-store"
    (item,) = listed.json()["items"]
    assert item["id"] == ours["id"]
    assert item["ship_to"] == {
        "name": "Anna de Vries",
        "line1": "Keizersgracht 1",
        "line2": None,
        "postcode": "1015 CJ",
        "city": "Amsterdam",
        "country": "NL",
        "phone": None,
    }
    assert "anna@example.com" not in listed.text  # never the customer's email
    (line,) = item["lines"]
    assert (line["quantity"], line["open"], line["total"]["amount"]) == (2, 2, 3998)
    assert item["shipping"] == {"amount": 495, "currency": "EUR"}
    assert item["accept_by"] is not None
    # a member with a bearer token sees the same; a status filter narrows the list
    as_member = client.get(SELLER_API, headers=seller.account.headers).json()
    assert [f["id"] for f in as_member["items"]] == [ours["id"]]
    assert client.get(f"{SELLER_API}?status=accepted", headers=seller.headers).json() == {
        "items": [],
        "next_cursor": None,
    }
    assert client.get(SELLER_API, headers=other.headers).json()["items"] == []
    bad = client.get(f"{SELLER_API}?status=lost", headers=seller.headers)
    assert assert_problem(bad, 422)["errors"][0]["field"] == "status"


def test_a_seller_pages_through_its_fulfillments_oldest_first(
    client: TestClient, container: Container, operator: Account
) -> None:
    seller = make_seller(container, operator)
    mug, _ = seller_offer(container, operator, seller, price=1000, stock=10)
    orders = [place_paid_order(client, [(mug, 1)]) for _ in range(3)]

    first = client.get(f"{SELLER_API}?limit=2", headers=seller.headers).json()
    second = client.get(
        f"{SELLER_API}?limit=2&cursor={first['next_cursor']}", headers=seller.headers
    ).json()

    ids = [f["id"] for f in first["items"] + second["items"]]
    assert ids == [o["fulfillments"][0]["id"] for o in orders]
    assert second["next_cursor"] is None


# --- the seller's part, from acceptance to delivery ------------------------------------------


def test_accept_ship_in_two_parts_and_deliver_fulfils_the_order(
    client: TestClient, container: Container, operator: Account
) -> None:
    # Given a paid order with a retailer line and two seller lines
    mixed = mixed_order(client, container, operator)
    seller, fid = mixed.seller, mixed.seller_fulfillment
    mug_line = line_of(mixed.order, mixed.seller_offers[0])["id"]
    cap_line = line_of(mixed.order, mixed.seller_offers[1])["id"]

    # When the seller accepts (twice: a retry is harmless)
    accepted = client.post(f"{SELLER_API}/{fid}/accept", headers=seller.headers)
    again = client.post(f"{SELLER_API}/{fid}/accept", headers=seller.headers)
    assert accepted.status_code == 200, accepted.text
    assert again.json() == accepted.json()
    assert accepted.json()["status"] == "accepted"

    # and ships one mug first: the payment is captured at this first shipment
    first = client.post(
        f"{SELLER_API}/{fid}/ship",
        json=ship_body(**{mug_line: 1}),
        headers={**seller.headers, **key()},
    )
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "partially_shipped"
    view = read_order(client, mixed.order)
    assert view["status"] == "partially_fulfilled"
    assert view["payment"]["status"] == "captured"
    assert stock_of(container, mixed.seller_skus[0]) == (3, 0, 1, 2)

    # and the rest later, under a key it then retries
    rest = {**seller.headers, **key()}
    second = client.post(f"{SELLER_API}/{fid}/ship", json=ship_body(), headers=rest)
    replay = client.post(f"{SELLER_API}/{fid}/ship", json=ship_body(), headers=rest)
    assert second.status_code == 200, second.text
    assert second.json()["status"] == "shipped"
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == second.json()
    assert len(second.json()["shipments"]) == 2
    assert stock_of(container, mixed.seller_skus[0]) == (2, 0, 0, 2)
    assert stock_of(container, mixed.seller_skus[1]) == (3, 0, 0, 3)

    # and the operator ships the retailer's part
    shipped = client.post(
        f"/api/v1/admin/fulfillments/{mixed.retailer_fulfillment}/ship",
        json={"carrier": "DHL", "tracking_number": "JD0001"},
        headers=operator.headers,
    )
    assert shipped.status_code == 200, shipped.text

    # Then the order is fulfilled, and the customer sees each shipment and its tracking
    view = read_order(client, mixed.order)
    assert view["status"] == "fulfilled"
    ours = fulfillment_of(view, seller.id)
    assert [(s["carrier"], s["tracking_number"]) for s in ours["shipments"]] == [
        ("PostNL", "3SBAZ0001"),
        ("PostNL", "3SBAZ0001"),
    ]
    assert ours["shipments"][0]["lines"] == [{"line_id": mug_line, "quantity": 1}]
    assert {(s["line_id"], s["quantity"]) for s in ours["shipments"][1]["lines"]} == {
        (mug_line, 1),
        (cap_line, 1),
    }
    assert "FulfillmentShipped" in [h["type"] for h in view["history"]]

    # When the seller marks its part delivered (twice) and the carrier confirms the other
    delivered = client.post(f"{SELLER_API}/{fid}/deliver", headers=seller.headers)
    assert delivered.json()["status"] == "delivered"
    assert client.post(f"{SELLER_API}/{fid}/deliver", headers=seller.headers).status_code == 200
    client.post(
        f"/api/v1/admin/fulfillments/{mixed.retailer_fulfillment}/deliver",
        headers=operator.headers,
    )

    # Then every part is delivered and the order stays fulfilled (completed after returns)
    view = read_order(client, mixed.order)
    assert [f["status"] for f in view["fulfillments"]] == ["delivered", "delivered"]
    assert view["status"] == "fulfilled"
    assert view["payment"]["refunded"]["amount"] == 0


def test_shipping_needs_acceptance_and_open_quantities(
    client: TestClient, container: Container, operator: Account
) -> None:
    mixed = mixed_order(client, container, operator)
    seller, fid = mixed.seller, mixed.seller_fulfillment
    mug_line = line_of(mixed.order, mixed.seller_offers[0])["id"]

    not_accepted = client.post(
        f"{SELLER_API}/{fid}/ship", json=ship_body(), headers={**seller.headers, **key()}
    )
    assert assert_problem(not_accepted, 409)["code"] == "illegal_transition"
    client.post(f"{SELLER_API}/{fid}/accept", headers=seller.headers)
    too_many = client.post(
        f"{SELLER_API}/{fid}/ship",
        json=ship_body(**{mug_line: 3}),
        headers={**seller.headers, **key()},
    )
    assert assert_problem(too_many, 422)["errors"][0]["field"] == "lines[0].quantity"
    no_key = client.post(f"{SELLER_API}/{fid}/ship", json=ship_body(), headers=seller.headers)
    assert assert_problem(no_key, 422)["errors"][0]["field"] == "header.Idempotency-Key"
    no_tracking = client.post(
        f"{SELLER_API}/{fid}/ship",
        json={"carrier": "PostNL"},
        headers={**seller.headers, **key()},
    )
    assert_problem(no_tracking, 422)
    # nothing moved
    assert stock_of(container, mixed.seller_skus[0]) == (4, 0, 2, 2)
    assert read_order(client, mixed.order)["payment"]["status"] == "authorized"


# --- rejections and refunds ---------------------------------------------------------------------


def test_rejecting_a_line_refunds_it_to_the_cent_and_the_rest_still_ships(
    client: TestClient, container: Container, operator: Account
) -> None:
    # Given a paid order: retailer 20.00 + 4.95 shipping, seller 2 x 19.99 + 5.00 + 4.95
    mixed = mixed_order(client, container, operator)
    seller, fid = mixed.seller, mixed.seller_fulfillment
    mug_line = line_of(mixed.order, mixed.seller_offers[0])["id"]
    assert mixed.order["grand_total"]["amount"] == 2000 + 495 + 3998 + 500 + 495

    # When the seller rejects one of the two mugs (out of stock), retrying the request
    body = {"lines": [{"line_id": mug_line, "quantity": 1}], "reason": "out_of_stock"}
    headers = {**seller.headers, **key()}
    rejected = client.post(f"{SELLER_API}/{fid}/reject", json=body, headers=headers)
    retried = client.post(f"{SELLER_API}/{fid}/reject", json=body, headers=headers)

    # Then exactly that unit is refunded once, and the order is partially refunded
    assert rejected.status_code == 200, rejected.text
    assert retried.json() == rejected.json()
    assert rejected.json()["status"] == "pending"  # the rest still waits for acceptance
    (mug,) = [x for x in rejected.json()["lines"] if x["line_id"] == mug_line]
    assert (mug["rejected"], mug["open"]) == (1, 1)
    view = read_order(client, mixed.order)
    assert view["status"] == "partially_refunded"
    assert view["refunded_total"] == {"amount": 1999, "currency": "EUR"}
    assert line_of(view, mixed.seller_offers[0])["refunded_quantity"] == 1
    refund = [h for h in view["history"] if h["type"] == "RefundIssued"]
    assert [(h["amount"]["amount"], h["reason"]) for h in refund] == [
        (1999, "fulfillment_rejected")
    ]
    # and the missing unit is written off the seller's stock (on hand and allocated drop)
    assert stock_of(container, mixed.seller_skus[0]) == (3, 0, 1, 2)
    # and nothing was captured yet, so nothing was paid back yet either
    assert view["payment"]["status"] == "authorized"

    # When the seller accepts and ships the rest, and the payment is captured
    client.post(f"{SELLER_API}/{fid}/accept", headers=seller.headers)
    shipped = client.post(
        f"{SELLER_API}/{fid}/ship", json=ship_body(), headers={**seller.headers, **key()}
    )
    assert shipped.json()["status"] == "shipped"

    # Then the refund that waited for the capture is paid out, to the cent
    view = read_order(client, mixed.order)
    assert view["payment"]["status"] == "partially_refunded"
    assert view["payment"]["captured"]["amount"] == mixed.order["grand_total"]["amount"]
    assert view["payment"]["refunded"]["amount"] == 1999
    assert view["status"] == "partially_refunded"
    assert view["progress"] == "partially_fulfilled"  # the retailer has not shipped yet


def test_rejecting_everything_refunds_the_lines_and_the_sellers_shipping(
    client: TestClient, container: Container, operator: Account
) -> None:
    mixed = mixed_order(client, container, operator)
    seller, fid = mixed.seller, mixed.seller_fulfillment
    client.post(f"{SELLER_API}/{fid}/accept", headers=seller.headers)

    rejected = client.post(
        f"{SELLER_API}/{fid}/reject",
        json={"reason": "warehouse_closed", "release_stock": True},
        headers={**seller.headers, **key()},
    )

    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["reason"] == "warehouse_closed"
    view = read_order(client, mixed.order)
    assert view["refunded_total"]["amount"] == 3998 + 500 + 495
    assert view["status"] == "partially_refunded"
    # released, not written off: the units are back on sale
    assert stock_of(container, mixed.seller_skus[0]) == (4, 0, 0, 4)
    assert stock_of(container, mixed.seller_skus[1]) == (4, 0, 0, 4)
    # the retailer's part goes on; its shipment captures, then the refund is paid out
    client.post(
        f"/api/v1/admin/fulfillments/{mixed.retailer_fulfillment}/ship",
        json={},
        headers=operator.headers,
    )
    view = read_order(client, mixed.order)
    assert view["status"] == "partially_refunded"
    assert view["progress"] == "fulfilled"
    assert view["payment"]["refunded"]["amount"] == 3998 + 500 + 495


def test_when_the_only_seller_rejects_everything_the_order_is_cancelled_and_voided(
    client: TestClient, container: Container, operator: Account
) -> None:
    seller = make_seller(container, operator)
    mug, sku = seller_offer(container, operator, seller, price=1999, stock=3)
    order = place_paid_order(client, [(mug, 2)])
    fid = order["fulfillments"][0]["id"]

    rejected = client.post(
        f"{SELLER_API}/{fid}/reject",
        json={"reason": "out_of_stock"},
        headers={**seller.headers, **key()},
    )

    assert rejected.status_code == 200, rejected.text
    view = read_order(client, order)
    assert view["status"] == "cancelled"
    assert view["refunded_total"] == view["grand_total"]
    assert view["payment"]["status"] == "voided"  # nothing was captured: nothing to refund
    assert stock_of(container, sku) == (1, 0, 0, 1)  # written off
    assert [h["type"] for h in view["history"]][-2:] == ["RefundIssued", "OrderCancelled"]


# --- who may do what --------------------------------------------------------------------------


def test_another_seller_gets_404_on_every_route(
    client: TestClient, container: Container, operator: Account
) -> None:
    mixed = mixed_order(client, container, operator)
    fid = mixed.seller_fulfillment
    other = make_seller(container, operator, "Other Shop")
    writes = {**other.headers, **key()}

    answers = [
        client.get(f"{SELLER_API}/{fid}", headers=other.headers),
        client.post(f"{SELLER_API}/{fid}/accept", headers=other.headers),
        client.post(f"{SELLER_API}/{fid}/reject", json={"reason": "mine now"}, headers=writes),
        client.post(f"{SELLER_API}/{fid}/ship", json=ship_body(), headers=writes),
        client.post(f"{SELLER_API}/{fid}/deliver", headers=other.headers),
        # and the retailer's part of the same order, and ids that do not exist
        client.get(f"{SELLER_API}/{mixed.retailer_fulfillment}", headers=mixed.seller.headers),
        client.get(f"{SELLER_API}/ful_nothing", headers=mixed.seller.headers),
    ]

    for answer in answers:
        assert_problem(answer, 404)
    # nothing changed
    assert client.get(f"{SELLER_API}/{fid}", headers=mixed.seller.headers).json()["status"] == (
        "pending"
    )


def test_the_seller_api_is_for_sellers_with_the_right_scopes(
    client: TestClient, container: Container, operator: Account, customer: Account
) -> None:
    mixed = mixed_order(client, container, operator)
    fid = mixed.seller_fulfillment
    read_only = container.identity.create_api_key(
        operator.principal,
        name="reader",
        scopes=["orders:read"],
        owner_type=Role.SELLER,
        owner_id=mixed.seller.id,
    )
    reader = {"Authorization": f"Bearer {read_only.secret}"}

    assert_problem(client.get(SELLER_API), 401)
    assert_problem(client.get(SELLER_API, headers=customer.headers), 403)
    assert_problem(client.get(SELLER_API, headers=operator.headers), 403)
    assert client.get(f"{SELLER_API}/{fid}", headers=reader).status_code == 200
    assert_problem(client.post(f"{SELLER_API}/{fid}/accept", headers=reader), 403)
