"""Free shipping draws on its promotion's budget, as discounts do.

Each test runs on SQLite and on PostgreSQL, the race with real threads against the real
database: the budget is the only guard, and the orders' waived shipping must add up to
exactly what it says was spent.
"""

from __future__ import annotations

import uuid
from collections import Counter

import sqlalchemy as sa
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container
from bazaar.kernel.money import Money
from bazaar.pricing import admin_store, store
from bazaar.pricing.model import PricingRules
from bazaar.pricing.promotion_actions import FreeShipping
from bazaar.pricing.promotions import Promotion
from tests.support.checkout import guest_cart, order_body, stocked_offer
from tests.support.concurrency import race
from tests.support.factories import Account

ORDERS = "/api/v1/orders"
PRICE = 1000  # under the free-shipping threshold of the default rule: shipping is charged


def free_shipping(shop: Container, budget: int) -> None:
    """A free-shipping promotion for everyone with ``budget`` minor units to give away."""
    promotion = Promotion(
        id="prm_ship",
        label="Free shipping week",
        action=FreeShipping(),
        budget=Money(budget, "EUR"),
    )
    shop.pricing.use_rules(lambda: PricingRules.compile(promotions=[promotion]))
    with shop.db.write() as conn:
        assert admin_store.set_budget(conn, promotion.id, "EUR", budget)


def budget_of(shop: Container) -> tuple[int, int]:
    """(what the budget row says was spent, the sum of the recorded spends)."""
    with shop.db.read() as conn:
        spent = conn.scalar(
            sa.select(store.promotion_budgets.c.spent).where(
                store.promotion_budgets.c.promotion_id == "prm_ship"
            )
        )
        recorded = conn.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(store.promotion_spend.c.amount), 0)).where(
                store.promotion_spend.c.promotion_id == "prm_ship"
            )
        )
    return int(spent or 0), int(recorded or 0)


def shipping_charged(http: TestClient, offer_id: str) -> int:
    cart_id, headers = guest_cart(http, offer_id)
    quote = http.get(f"/api/v1/carts/{cart_id}/quote", headers=headers).json()
    charged = int(quote["totals"]["shipping"]["amount"])
    assert charged > 0
    return charged


def test_free_shipping_is_explained_and_drawn_from_the_budget(
    http: TestClient, shop: Container, staff: Account
) -> None:
    # Given a product whose shipping costs something, and free shipping with a budget
    offer_id, _ = stocked_offer(shop, staff, stock=5, price=PRICE)
    charge = shipping_charged(http, offer_id)
    free_shipping(shop, budget=charge + charge // 2)

    # When a guest quotes a cart
    cart_id, headers = guest_cart(http, offer_id)
    quote = http.get(f"/api/v1/carts/{cart_id}/quote", headers=headers).json()

    # Then shipping is waived, and the quote says it comes out of the promotion's budget
    assert quote["totals"]["shipping"]["amount"] == 0
    [shipping] = [a for a in quote["adjustments"] if a["kind"] == "shipping"]
    assert shipping["source"] == "shipping:prm_ship"
    assert "from the promotion's budget" in shipping["label"]

    # And the order draws the waived shipping from the budget
    placed = http.post(
        ORDERS, json=order_body(cart_id), headers={**headers, "Idempotency-Key": str(uuid.uuid4())}
    )
    assert placed.status_code == 201, placed.text
    assert budget_of(shop) == (charge, charge)

    # And the next cart gets only what is left: half its shipping, and the quote says so
    cart_id, headers = guest_cart(http, offer_id)
    quote = http.get(f"/api/v1/carts/{cart_id}/quote", headers=headers).json()
    assert quote["totals"]["shipping"]["amount"] == charge - charge // 2
    [shipping] = [a for a in quote["adjustments"] if a["kind"] == "shipping"]
    assert "what is left of the promotion's budget" in shipping["label"]


def test_racing_orders_never_waive_more_shipping_than_the_budget(
    http: TestClient, shop: Container, staff: Account
) -> None:
    # Given free shipping whose budget covers 5 shipments, and 20 guests with a cart each
    offer_id, _ = stocked_offer(shop, staff, stock=100, price=PRICE)
    charge = shipping_charged(http, offer_id)
    budget = 5 * charge
    free_shipping(shop, budget=budget)
    carts = [guest_cart(http, offer_id) for _ in range(20)]

    # When all 20 place their orders at the same moment
    def buy(i: int) -> tuple[int, int]:
        cart_id, headers = carts[i]
        response = http.post(
            ORDERS,
            json=order_body(cart_id),
            headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
        )
        if response.status_code == 409:
            assert response.json()["code"] == "promotion_budget_spent", response.text
            return 409, 0
        assert response.status_code == 201, response.text
        paid_shipping = int(response.json()["grand_total"]["amount"]) - PRICE
        return 201, charge - paid_shipping

    outcomes = race(20, buy)

    # Then the shipping the orders had waived is exactly what the budget says was spent,
    # and never more than the budget; refused orders left nothing behind
    waived = sum(w for _, w in outcomes)
    spent, recorded = budget_of(shop)
    assert waived == spent == recorded
    assert 0 < spent <= budget
    placed = Counter(status for status, _ in outcomes)[201]
    with shop.db.read() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM orders")) == placed
