"""Coupons at checkout: entered in the cart, explained by the quote, counted exactly once.

Each test runs on SQLite and on PostgreSQL, the race with real threads against the real
database. The promotion behind the coupon is a pure rule handed to the pricing engine; the
coupon and its counters are rows, as in production.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container
from bazaar.pricing import store
from bazaar.pricing.model import PricingRules
from bazaar.pricing.promotion_actions import PercentOff
from bazaar.pricing.promotions import Conditions, Promotion
from tests.support.assertions import assert_problem
from tests.support.checkout import guest_cart, order_body, stocked_offer
from tests.support.concurrency import race
from tests.support.factories import T0, Account

ORDERS = "/api/v1/orders"


def coupon_promotion(shop: Container, code: str, *, usage_limit: int | None) -> None:
    """A 10 % coupon-only promotion, and its code with ``usage_limit`` uses."""
    promotion = Promotion(
        id="prm_welcome",
        label="Welcome 10 %",
        action=PercentOff(Decimal(10)),
        conditions=Conditions(coupon_required=True),
    )
    shop.pricing.use_rules(lambda: PricingRules.compile(promotions=[promotion]))
    with shop.db.write() as conn:
        conn.execute(
            store.coupons.insert().values(
                code=code,
                promotion_id=promotion.id,
                usage_limit=usage_limit,
                uses=0,
                created_at=T0,
            )
        )


def uses_of(shop: Container, code: str) -> tuple[int, int]:
    """(the coupon's use counter, its redemption rows)."""
    with shop.db.read() as conn:
        uses = conn.scalar(sa.select(store.coupons.c.uses).where(store.coupons.c.code == code))
        rows = conn.scalar(
            sa.select(sa.func.count()).where(store.coupon_redemptions.c.code == code)
        )
    return int(uses or 0), int(rows or 0)


def test_a_coupon_is_explained_by_the_quote_and_counted_by_the_order(
    http: TestClient, shop: Container, staff: Account
) -> None:
    # Given a 10 % coupon and a guest cart of 2 x 20.00
    coupon_promotion(shop, "WELCOME10", usage_limit=5)
    offer_id, _ = stocked_offer(shop, staff, stock=5, price=2000)
    cart_id, headers = guest_cart(http, offer_id, 2)

    # When the guest enters the code in lower case and asks for a quote
    entered = http.post(
        f"/api/v1/carts/{cart_id}/coupons", json={"code": " welcome10 "}, headers=headers
    )
    quote = http.get(f"/api/v1/carts/{cart_id}/quote", headers=headers).json()

    # Then the cart holds the normalised code, and the quote applies 4.00 off, naming the rule
    assert entered.status_code == 201, entered.text
    assert entered.json()["coupon_codes"] == ["WELCOME10"]
    assert quote["coupons"] == [{"code": "WELCOME10", "status": "applied"}]
    assert quote["totals"]["discount"]["amount"] == 400
    [discount] = [a for a in quote["adjustments"] if a["kind"] == "discount"]
    assert discount["source"] == "prm_welcome"

    # And the order is placed at that price and counts one use of the coupon
    placed = http.post(
        ORDERS, json=order_body(cart_id), headers={**headers, "Idempotency-Key": str(uuid.uuid4())}
    )
    assert placed.status_code == 201, placed.text
    assert placed.json()["grand_total"]["amount"] == quote["totals"]["grand_total"]["amount"]
    assert uses_of(shop, "WELCOME10") == (1, 1)


def test_unknown_codes_are_refused_naming_the_field(
    http: TestClient, shop: Container, staff: Account
) -> None:
    coupon_promotion(shop, "WELCOME10", usage_limit=None)
    offer_id, _ = stocked_offer(shop, staff)
    cart_id, headers = guest_cart(http, offer_id)

    for code, reason in (("NOPE", "unknown_coupon"), ("bad code!", "invalid")):
        problem = assert_problem(
            http.post(f"/api/v1/carts/{cart_id}/coupons", json={"code": code}, headers=headers),
            422,
        )
        assert [e["field"] for e in problem["errors"]] == ["code"], (code, reason)


def test_an_expired_coupon_is_explained_and_gives_nothing(
    http: TestClient, shop: Container, staff: Account
) -> None:
    coupon_promotion(shop, "OLD", usage_limit=None)
    with shop.db.write() as conn:
        conn.execute(
            store.coupons.update()
            .where(store.coupons.c.code == "OLD")
            .values(expires_at=shop.clock.now() - timedelta(days=1))
        )
    offer_id, _ = stocked_offer(shop, staff)
    cart_id, headers = guest_cart(http, offer_id)
    http.post(f"/api/v1/carts/{cart_id}/coupons", json={"code": "old"}, headers=headers)

    quote = http.get(f"/api/v1/carts/{cart_id}/quote", headers=headers).json()

    assert quote["coupons"] == [{"code": "OLD", "status": "expired"}]
    assert quote["totals"]["discount"]["amount"] == 0


def test_three_hundred_shoppers_race_for_a_coupon_of_a_hundred_uses(
    http: TestClient, shop: Container, staff: Account
) -> None:
    # Given a coupon limited to 100 uses and 300 guests with it in their carts
    coupon_promotion(shop, "FLASH", usage_limit=100)
    offer_id, _ = stocked_offer(shop, staff, stock=1000, price=1000)
    carts = [guest_cart(http, offer_id, 1) for _ in range(300)]
    for cart_id, headers in carts:
        added = http.post(
            f"/api/v1/carts/{cart_id}/coupons", json={"code": "FLASH"}, headers=headers
        )
        assert added.status_code == 201, added.text

    # When all 300 place their orders at the same moment
    def buy(i: int) -> int:
        cart_id, headers = carts[i]
        response = http.post(
            ORDERS,
            json=order_body(cart_id),
            headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
        )
        if response.status_code == 409:
            assert response.json()["code"] == "coupon_unavailable", response.text
        return response.status_code

    outcomes = Counter(race(300, buy))

    # Then exactly 100 orders get the coupon; the others are told it ran out and nothing
    # of theirs was created (the coupon's counter and its redemptions agree)
    assert outcomes == {201: 100, 409: 200}
    assert uses_of(shop, "FLASH") == (100, 100)
    with shop.db.read() as conn:
        orders = conn.scalar(sa.text("SELECT count(*) FROM orders"))
    assert orders == 100
