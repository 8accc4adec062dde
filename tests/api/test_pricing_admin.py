"""Staff pricing over HTTP: price lists, sale prices, promotions and budgets, coupons,
customer groups, price simulation, the compiled-rules cache and who may do what.

Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container
from bazaar.catalog.model import Product
from bazaar.identity.model import Role
from bazaar.kernel.clock import SystemClock
from bazaar.kernel.money import Money
from bazaar.pricing import store
from bazaar.pricing.rules import RulesCache
from tests.support.assertions import assert_problem
from tests.support.factories import Account, ensure_category, make_account, make_product
from tests.support.pricing import eur, offer_of

PRICE_LISTS = "/api/v1/price-lists"
SALE_PRICES = "/api/v1/sale-prices"
PROMOTIONS = "/api/v1/promotions"
COUPONS = "/api/v1/coupons"
GROUPS = "/api/v1/customer-groups"
SIMULATE = "/api/v1/pricing/simulate"


def fields(problem: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in problem.get("errors", [])]


def created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def tiers(*prices: tuple[int, int | None, int]) -> list[dict[str, Any]]:
    return [
        {"min_quantity": low, "max_quantity": high, "unit_price": eur(price)}
        for low, high, price in prices
    ]


def percent_off(percent: Any, **fields: Any) -> dict[str, Any]:
    action = {"type": "percent_off", "percent": percent}
    return {"label": f"{percent}% off", "action": action, **fields}


@pytest.fixture
def tee(container: Container, operator: Account) -> Product:
    return make_product(container, operator, price=Money(1000, "EUR"), category="apparel/t-shirts")


# --- price lists and sale prices ---------------------------------------------------------------


def test_a_price_list_is_created_read_replaced_and_deleted(
    client: TestClient, container: Container, operator: Account, tee: Product
) -> None:
    # Given an offer and a price list with two tiers for it
    offer_id = offer_of(container, tee)
    body = {
        "name": "Wholesale",
        "currency": "EUR",
        "priority": 5,
        "entries": [{"offer_id": offer_id, "tiers": tiers((1, 9, 950), (10, None, 900))}],
    }

    # When it is created, then it is readable as sent, with an id and a location
    response = client.post(PRICE_LISTS, json=body, headers=operator.headers)
    price_list = created(response)
    path = f"{PRICE_LISTS}/{price_list['id']}"
    assert response.headers["location"] == path
    assert price_list["id"].startswith("prl_")
    assert price_list["entries"][0]["tiers"][1] == {
        "min_quantity": 10,
        "max_quantity": None,
        "unit_price": eur(900),
    }
    assert (price_list["active"], price_list["priority"]) == (True, 5)
    assert client.get(path, headers=operator.headers).json() == price_list

    # When it is replaced, then the new definition is kept
    body["name"] = "Wholesale 2027"
    replaced = client.put(path, json=body, headers=operator.headers)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["name"] == "Wholesale 2027"
    listed = client.get(PRICE_LISTS, headers=operator.headers).json()
    assert [p["id"] for p in listed["items"]] == [price_list["id"]]

    # When it is deleted, then it stops applying but stays readable, and can no longer change
    assert client.delete(path, headers=operator.headers).status_code == 204
    assert client.get(path, headers=operator.headers).json()["active"] is False
    assert client.get(PRICE_LISTS, headers=operator.headers).json()["items"] == []
    everything = client.get(PRICE_LISTS, params={"include_deleted": True}, headers=operator.headers)
    assert len(everything.json()["items"]) == 1
    assert_problem(client.put(path, json=body, headers=operator.headers), 409)
    assert client.delete(path, headers=operator.headers).status_code == 204
    assert_problem(client.get(f"{PRICE_LISTS}/prl_nothing", headers=operator.headers), 404)


def test_a_bad_price_list_is_a_problem_naming_each_field(
    client: TestClient, container: Container, operator: Account, tee: Product
) -> None:
    offer_id = offer_of(container, tee)
    body = {
        "name": "Broken",
        "currency": "EUR",
        "starts_at": "2027-02-01T00:00:00Z",
        "ends_at": "2027-01-01T00:00:00Z",
        "entries": [
            {"offer_id": offer_id, "tiers": tiers((1, 10, -5), (5, None, 900))},
            {"offer_id": "ofr_01jbzq3k8x4m2n5p7r9t1v3w5y", "tiers": tiers((1, None, 900))},
        ],
    }

    problem = assert_problem(client.post(PRICE_LISTS, json=body, headers=operator.headers), 422)

    assert fields(problem) == [
        ("entries[0].tiers[0].unit_price.amount", "negative"),
        ("entries[0].tiers[1].min_quantity", "overlap"),
        ("ends_at", "before_start"),
        ("entries[1].offer_id", "unknown_offer"),
    ]
    # and pydantic's own checks name the body's fields too
    body = {"name": "", "currency": "EUR", "entries": [{"offer_id": offer_id, "tiers": [{}]}]}
    problem = assert_problem(client.post(PRICE_LISTS, json=body, headers=operator.headers), 422)
    assert {f for f, _ in fields(problem)} == {
        "name",
        "entries[0].tiers[0].min_quantity",
        "entries[0].tiers[0].unit_price",
    }


def test_a_sale_price_is_scheduled_and_validated(
    client: TestClient, container: Container, operator: Account, tee: Product
) -> None:
    offer_id = offer_of(container, tee)
    body = {
        "offer_id": offer_id,
        "price": eur(799),
        "starts_at": "2026-11-27T00:00:00+01:00",
        "ends_at": "2026-11-30T00:00:00+01:00",
        "label": "Black Friday",
    }
    sale = created(client.post(SALE_PRICES, json=body, headers=operator.headers))
    assert sale["id"].startswith("sal_")
    assert sale["starts_at"] == "2026-11-26T23:00:00Z"

    bad = {**body, "price": eur(-1), "ends_at": "2026-11-01T00:00:00Z"}
    problem = assert_problem(
        client.put(f"{SALE_PRICES}/{sale['id']}", json=bad, headers=operator.headers), 422
    )
    assert fields(problem) == [("price.amount", "negative"), ("ends_at", "before_start")]
    naive = {**body, "starts_at": "2026-11-27T00:00:00"}
    problem = assert_problem(client.post(SALE_PRICES, json=naive, headers=operator.headers), 422)
    assert fields(problem) == [("starts_at", "timezone_aware")]
    unknown = {**body, "offer_id": "ofr_01jbzq3k8x4m2n5p7r9t1v3w5y"}
    problem = assert_problem(client.post(SALE_PRICES, json=unknown, headers=operator.headers), 422)
    assert fields(problem) == [("offer_id", "unknown_offer")]


# --- promotions --------------------------------------------------------------------------------


def test_a_bad_promotion_is_a_problem_naming_each_field(
    client: TestClient, container: Container, operator: Account, tee: Product
) -> None:
    # Given a promotion with a percentage over 100, an end before its start, and a scope
    # naming a product and a category that do not exist
    body = percent_off(
        "120",
        starts_at="2027-01-02T00:00:00Z",
        ends_at="2027-01-01T00:00:00Z",
        scope={
            "include": {
                "product_ids": [tee.id, "prd_01jbzq3k8x4m2n5p7r9t1v3w5y"],
                "category_ids": ["cat_01jbzq3k8x4m2n5p7r9t1v3w5y"],
            },
            "exclude": {"brand_ids": ["brd_01jbzq3k8x4m2n5p7r9t1v3w5y"]},
        },
    )

    problem = assert_problem(client.post(PROMOTIONS, json=body, headers=operator.headers), 422)

    assert fields(problem) == [
        ("action.percent", "out_of_range"),
        ("ends_at", "before_start"),
        ("scope.include.product_ids[1]", "unknown"),
        ("scope.include.category_ids[0]", "unknown"),
        ("scope.exclude.brand_ids[0]", "unknown"),
    ]
    # a negative amount, a type error inside the action, an unknown action type
    negative = {"label": "x", "action": {"type": "amount_off", "amount": eur(-100)}}
    problem = assert_problem(client.post(PROMOTIONS, json=negative, headers=operator.headers), 422)
    assert fields(problem) == [("action.amount.amount", "negative")]
    wrong = {"label": "x", "action": {"type": "percent_off", "percent": "lots"}}
    problem = assert_problem(client.post(PROMOTIONS, json=wrong, headers=operator.headers), 422)
    assert fields(problem) == [("action.percent", "decimal_parsing")]
    unknown = {"label": "x", "action": {"type": "half_off"}}
    problem = assert_problem(client.post(PROMOTIONS, json=unknown, headers=operator.headers), 422)
    assert fields(problem) == [("action", "union_tag_invalid")]
    tiered = {
        "label": "Spend more",
        "action": {
            "type": "tiered_spend",
            "tiers": [
                {"threshold": eur(5000), "amount": eur(500)},
                {"threshold": eur(4000), "amount": eur(1000)},
            ],
        },
        "conditions": {"customer_groups": ["nobody"]},
    }
    problem = assert_problem(client.post(PROMOTIONS, json=tiered, headers=operator.headers), 422)
    assert fields(problem) == [
        ("action.tiers[1].threshold", "out_of_order"),
        ("conditions.customer_groups[0]", "unknown_group"),
    ]


def test_a_promotion_in_a_known_scope_is_saved_with_its_definition_and_deleted(
    client: TestClient, container: Container, operator: Account, tee: Product
) -> None:
    category = ensure_category(container, operator, "apparel")
    body = percent_off(
        12.5,
        scope={"include": {"category_ids": [category.id]}, "exclude": {"product_ids": [tee.id]}},
        conditions={"min_subtotal": eur(2000), "channel_ids": ["web"]},
        priority=3,
        exclusive=True,
    )
    promotion = created(client.post(PROMOTIONS, json=body, headers=operator.headers))
    path = f"{PROMOTIONS}/{promotion['id']}"

    assert promotion["action"] == {"type": "percent_off", "percent": "12.5", "target": "line"}
    assert promotion["scope"]["include"]["category_ids"] == [category.id]
    assert promotion["conditions"]["min_subtotal"] == eur(2000)
    assert (promotion["budget"], promotion["budget_spent"]) == (None, None)
    row = _rule_row(container, promotion["id"])
    assert row["definition"]["action"]["percent"] == "12.5"  # a decimal string, never a float

    assert client.delete(path, headers=operator.headers).status_code == 204
    assert client.get(path, headers=operator.headers).json()["active"] is False
    types = [e["type"] for e in _events(client, operator, promotion["id"])]
    assert types == ["PromotionDeleted", "PromotionCreated"]


def test_a_budget_reports_spent_and_remaining_and_cannot_go_below_spent(
    client: TestClient, container: Container, operator: Account
) -> None:
    # Given a promotion with a budget of 100.00, of which orders spent 30.00
    body = {"label": "Launch", "action": {"type": "amount_off", "amount": eur(500)}}
    body["budget"] = eur(10_000)
    promotion = created(client.post(PROMOTIONS, json=body, headers=operator.headers))
    path = f"{PROMOTIONS}/{promotion['id']}"
    assert (promotion["budget_spent"], promotion["budget_remaining"]) == (eur(0), eur(10_000))
    with container.db.write() as conn:
        now = SystemClock().now()
        assert store.spend_budget(conn, promotion["id"], "ord_1", 3000, "EUR", now)

    # Then reading it shows what is spent and what remains
    read = client.get(path, headers=operator.headers).json()
    assert (read["budget_spent"], read["budget_remaining"]) == (eur(3000), eur(7000))

    # When the budget is lowered below what is spent, then that is refused naming the field
    problem = assert_problem(
        client.put(path, json={**body, "budget": eur(2000)}, headers=operator.headers), 409
    )
    assert fields(problem) == [("budget.amount", "below_spent")]
    problem = assert_problem(
        client.put(
            path,
            json={
                **body,
                "budget": {"amount": 9000, "currency": "USD"},
                "action": {"type": "percent_off", "percent": 5},
            },
            headers=operator.headers,
        ),
        409,
    )
    assert fields(problem) == [("budget.currency", "below_spent")]

    # When it is lowered to above what is spent, then what remains shrinks
    lowered = client.put(path, json={**body, "budget": eur(5000)}, headers=operator.headers)
    assert lowered.status_code == 200, lowered.text
    assert (lowered.json()["budget_spent"], lowered.json()["budget_remaining"]) == (
        eur(3000),
        eur(2000),
    )
    listed = client.get(PROMOTIONS, headers=operator.headers).json()["items"]
    assert listed[0]["budget_remaining"] == eur(2000)


# --- coupons -----------------------------------------------------------------------------------


def _promotion(client: TestClient, operator: Account, **fields: Any) -> str:
    body = {
        "label": "Coupon only",
        "action": {"type": "percent_off", "percent": 10, "target": "order"},
        "conditions": {"coupon_required": True},
    } | fields
    promotion_id: str = created(client.post(PROMOTIONS, json=body, headers=operator.headers))["id"]
    return promotion_id


def test_a_coupon_is_stored_normalised_and_found_in_any_case(
    client: TestClient, operator: Account
) -> None:
    promotion_id = _promotion(client, operator)
    body = {"code": " welcome-10 ", "promotion_id": promotion_id, "usage_limit_per_customer": 1}

    coupon = created(client.post(COUPONS, json=body, headers=operator.headers))

    assert (coupon["code"], coupon["uses"], coupon["usage_limit_per_customer"]) == (
        "WELCOME10",
        0,
        1,
    )
    for spelled in ("welcome10", "Welcome-10", "WELCOME 10"):
        found = client.get(f"{COUPONS}/{spelled}", headers=operator.headers)
        assert found.status_code == 200, spelled
        assert found.json()["code"] == "WELCOME10"
    assert_problem(client.get(f"{COUPONS}/nope", headers=operator.headers), 404)
    taken = assert_problem(client.post(COUPONS, json=body, headers=operator.headers), 409)
    assert fields(taken) == [("code", "taken")]
    bad = {"code": "ok!", "promotion_id": "prm_nothing", "usage_limit": 0}
    problem = assert_problem(client.post(COUPONS, json=bad, headers=operator.headers), 422)
    assert fields(problem) == [
        ("code", "invalid"),
        ("usage_limit", "out_of_range"),
        ("promotion_id", "unknown_promotion"),
    ]


def test_a_coupon_batch_generates_unique_codes_listed_with_their_uses(
    client: TestClient, container: Container, operator: Account
) -> None:
    # Given a promotion with a coupon of its own
    promotion_id = _promotion(client, operator)
    created(
        client.post(
            COUPONS, json={"code": "VIP", "promotion_id": promotion_id}, headers=operator.headers
        )
    )

    # When 25 codes are generated with a prefix
    body = {"promotion_id": promotion_id, "count": 25, "prefix": "spring-", "usage_limit": 1}
    batch = created(client.post(f"{COUPONS}/batches", json=body, headers=operator.headers))

    # Then they are distinct, prefixed, unambiguous, and listed by batch in pages with uses
    codes = batch["codes"]
    assert batch["count"] == len(set(codes)) == 25
    assert all(c.startswith("SPRING") and len(c) == len("SPRING") + 10 for c in codes)
    assert not set("".join(c.removeprefix("SPRING") for c in codes)) & set("01ILOU")
    with container.db.write() as conn:
        now = SystemClock().now()
        assert store.redeem_coupon(conn, codes[0], "ord_1", None, now)
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"batch_id": batch["batch_id"], "limit": 10}
        if cursor:
            params["cursor"] = cursor
        page = client.get(COUPONS, params=params, headers=operator.headers).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(c["code"] for c in seen) == sorted(codes)
    assert {c["code"]: c["uses"] for c in seen}[codes[0]] == 1
    assert all(c["usage_limit"] == 1 and c["batch_id"] == batch["batch_id"] for c in seen)
    everything = client.get(
        COUPONS, params={"promotion_id": promotion_id, "limit": 100}, headers=operator.headers
    )
    assert len(everything.json()["items"]) == 26
    found = client.get(f"{COUPONS}/{codes[3].lower()}", headers=operator.headers)
    assert found.json()["code"] == codes[3]
    # and impossible batches name their fields
    bad = {"promotion_id": promotion_id, "count": 0, "prefix": "a b!"}
    problem = assert_problem(
        client.post(f"{COUPONS}/batches", json=bad, headers=operator.headers), 422
    )
    assert fields(problem) == [("count", "out_of_range"), ("prefix", "invalid")]
    short = {"promotion_id": promotion_id, "count": 1000, "length": 4}
    problem = assert_problem(
        client.post(f"{COUPONS}/batches", json=short, headers=operator.headers), 422
    )
    assert fields(problem) == [("length", "short")]


# --- customer groups ---------------------------------------------------------------------------


def test_customers_are_put_in_groups(
    client: TestClient, operator: Account, customer: Account
) -> None:
    group = created(
        client.post(GROUPS, json={"code": "business", "name": "Business"}, headers=operator.headers)
    )
    assert (group["code"], group["members"]) == ("business", 0)
    taken = client.post(
        GROUPS, json={"code": "business", "name": "Again"}, headers=operator.headers
    )
    assert fields(assert_problem(taken, 409)) == [("code", "taken")]
    bad = client.post(GROUPS, json={"code": "Not OK", "name": "x"}, headers=operator.headers)
    assert fields(assert_problem(bad, 422)) == [("code", "string_pattern_mismatch")]

    path = f"/api/v1/admin/customers/{customer.user.id}/group"
    put = client.put(path, json={"group": "business"}, headers=operator.headers)
    assert put.json() == {"customer_id": customer.user.id, "group": "business"}
    assert client.get(path, headers=operator.headers).json()["group"] == "business"
    assert client.get(GROUPS, headers=operator.headers).json()[0]["members"] == 1
    unknown = client.put(path, json={"group": "nobody"}, headers=operator.headers)
    assert fields(assert_problem(unknown, 422)) == [("group", "unknown_group")]
    assert client.put(path, json={"group": None}, headers=operator.headers).status_code == 200
    assert client.get(path, headers=operator.headers).json()["group"] is None
    assert_problem(
        client.put(
            "/api/v1/admin/customers/nobody/group", json={"group": None}, headers=operator.headers
        ),
        404,
    )
    assigned = [
        e["payload"]["group_code"]
        for e in _events(client, operator, customer.user.id)
        if e["type"] == "CustomerGroupAssigned"
    ]
    assert assigned == [None, "business"]  # newest first


# --- simulation --------------------------------------------------------------------------------


def test_simulation_prices_tiers_for_a_business_customer_and_explains_promotions(
    client: TestClient, container: Container, operator: Account, tee: Product
) -> None:
    # Given business prices by quantity, 10% off t-shirts and a smaller exclusive promotion
    offer_id = offer_of(container, tee)
    category = ensure_category(container, operator, "apparel/t-shirts")
    created(client.post(GROUPS, json={"code": "business", "name": "B2B"}, headers=operator.headers))
    price_list = created(
        client.post(
            PRICE_LISTS,
            json={
                "name": "Business",
                "currency": "EUR",
                "customer_groups": ["business"],
                "entries": [{"offer_id": offer_id, "tiers": tiers((1, 9, 900), (10, None, 800))}],
            },
            headers=operator.headers,
        )
    )
    tees = created(
        client.post(
            PROMOTIONS,
            json=percent_off(10, scope={"include": {"category_ids": [category.id]}}),
            headers=operator.headers,
        )
    )
    small = created(
        client.post(
            PROMOTIONS,
            json={
                "label": "Small",
                "action": {"type": "amount_off", "amount": eur(100)},
                "exclusive": True,
            },
            headers=operator.headers,
        )
    )

    # When 12 units are simulated for a business customer with a coupon nobody has
    body = {
        "lines": [{"offer_id": offer_id, "quantity": 12}],
        "customer_group": "business",
        "coupon_codes": ["nope"],
    }
    response = client.post(SIMULATE, json=body, headers=operator.headers)

    # Then the 10+ tier applies, 10% comes off it with a sentence, and the rest is explained
    assert response.status_code == 200, response.text
    result = response.json()
    line = result["lines"][0]
    assert (line["unit_price"], line["source"], line["rule_id"]) == (
        eur(800),
        "price_list",
        price_list["id"],
    )
    assert line["explanation"] == "Business: 10+ at 8.00 EUR"
    assert (line["subtotal"], line["discount"], line["total"]) == (eur(9600), eur(960), eur(8640))
    [adjustment] = result["adjustments"]
    assert adjustment["promotion_id"] == tees["id"]
    assert adjustment["explanation"] == "10% off 12 units"
    assert adjustment["shares"] == [{"offer_id": offer_id, "amount": eur(960)}]
    assert result["set_aside"] == [
        {"promotion_id": small["id"], "label": "Small", "reason": "combined_promotions_won"}
    ]
    assert result["rejected_coupons"] == [{"code": "NOPE", "problem": "unknown"}]
    assert result["total"] == eur(8640)

    # And a shopper in no group pays the base price, 5 units of business prices the 1-9 tier
    guest = client.post(SIMULATE, json={"lines": body["lines"]}, headers=operator.headers).json()
    assert guest["lines"][0]["unit_price"] == eur(1000)
    five = {**body, "lines": [{"offer_id": offer_id, "quantity": 5}], "coupon_codes": []}
    assert client.post(SIMULATE, json=five, headers=operator.headers).json()["lines"][0][
        "unit_price"
    ] == eur(900)
    # And an unknown offer is a problem naming its line
    unknown = {"lines": [{"offer_id": "ofr_01jbzq3k8x4m2n5p7r9t1v3w5y", "quantity": 1}]}
    problem = assert_problem(client.post(SIMULATE, json=unknown, headers=operator.headers), 422)
    assert fields(problem) == [("lines[0].offer_id", "unknown_offer")]


def test_simulation_applies_a_coupon_and_the_date_asked_for(
    client: TestClient, container: Container, operator: Account, tee: Product
) -> None:
    offer_id = offer_of(container, tee)
    now = SystemClock().now()
    promotion_id = _promotion(
        client, operator, starts_at=(now + timedelta(days=1)).isoformat(), label="Tomorrow"
    )
    created(
        client.post(
            COUPONS, json={"code": "SOON", "promotion_id": promotion_id}, headers=operator.headers
        )
    )
    body = {"lines": [{"offer_id": offer_id, "quantity": 2}], "coupon_codes": ["soon"]}

    today = client.post(SIMULATE, json=body, headers=operator.headers).json()
    tomorrow = client.post(
        SIMULATE,
        json={**body, "at": (now + timedelta(days=2)).isoformat()},
        headers=operator.headers,
    ).json()

    assert today["discount"] == eur(0)
    assert today["rejected_coupons"] == [{"code": "SOON", "problem": "conditions_not_met"}]
    assert tomorrow["discount"] == eur(200)
    assert tomorrow["adjustments"][0]["coupon_code"] == "SOON"
    assert tomorrow["adjustments"][0]["explanation"].endswith("; with coupon SOON")


# --- the rules cache ---------------------------------------------------------------------------


def test_the_rules_cache_follows_changes_here_at_once_and_elsewhere_on_refresh(
    client: TestClient, container: Container, operator: Account
) -> None:
    # Given this process's cache and another process's, both compiled before any rule exists
    here = container.pricing_rules
    elsewhere = RulesCache(container.db)
    assert len(here.get().promotions) == len(elsewhere.get().promotions) == 0
    assert elsewhere.refresh_if_stale() is False

    # When an operator creates a promotion here
    created(client.post(PROMOTIONS, json=percent_off(5), headers=operator.headers))

    # Then this process prices with it at once; the other one after its refresh
    assert len(here.get().promotions) == 1
    assert len(elsewhere.get().promotions) == 0
    assert elsewhere.refresh_if_stale() is True
    assert len(elsewhere.get().promotions) == 1
    assert elsewhere.version == here.version
    assert elsewhere.refresh_if_stale() is False

    # And a cache invalidated by hand reloads on its next use
    with container.db.write() as conn:
        store.bump_rules_version(conn)
    elsewhere.invalidate()
    assert elsewhere.version is None
    assert len(elsewhere.get().promotions) == 1
    assert elsewhere.version == (here.version or 0) + 1


def test_a_rule_saved_before_its_schema_changed_is_left_out_not_fatal(
    client: TestClient, container: Container, operator: Account, caplog: pytest.LogCaptureFixture
) -> None:
    created(client.post(PROMOTIONS, json=percent_off(5), headers=operator.headers))
    promotion = created(client.post(PROMOTIONS, json=percent_off(7), headers=operator.headers))
    with container.db.write() as conn:
        conn.execute(
            store.pricing_rules.update()
            .where(store.pricing_rules.c.id == promotion["id"])
            .values(definition={"label": "old", "action": {"type": "gone"}})
        )
        store.bump_rules_version(conn)
    container.pricing_rules.invalidate()

    assert [p.label for p in container.pricing_rules.get().promotions.promotions] == ["5% off"]
    assert f"pricing rule {promotion['id']} (promotion) is not valid" in caplog.text


# --- who may do what ---------------------------------------------------------------------------


def test_only_staff_see_pricing_and_only_operators_change_it(
    client: TestClient, container: Container, operator: Account, customer: Account
) -> None:
    reviewer = make_account(container, Role.REVIEWER)
    promotion = created(client.post(PROMOTIONS, json=percent_off(5), headers=operator.headers))
    body = percent_off(6)

    for path in (PRICE_LISTS, SALE_PRICES, PROMOTIONS, COUPONS, GROUPS, "/api/v1/experiments"):
        assert_problem(client.get(path, headers=customer.headers), 403)
        assert_problem(client.get(path), 401)
        assert client.get(path, headers=reviewer.headers).status_code == 200, path
    assert_problem(client.post(PROMOTIONS, json=body, headers=customer.headers), 403)
    assert_problem(client.post(PROMOTIONS, json=body, headers=reviewer.headers), 403)
    assert_problem(client.delete(f"{PROMOTIONS}/{promotion['id']}", headers=reviewer.headers), 403)
    simulate = {"lines": [{"offer_id": "ofr_01jbzq3k8x4m2n5p7r9t1v3w5y", "quantity": 1}]}
    assert_problem(client.post(SIMULATE, json=simulate, headers=customer.headers), 403)
    path = f"/api/v1/admin/customers/{customer.user.id}/group"
    assert_problem(client.put(path, json={"group": None}, headers=customer.headers), 403)


# --- helpers -----------------------------------------------------------------------------------


def _rule_row(container: Container, rule_id: str) -> dict[str, Any]:
    with container.db.read() as conn:
        row = (
            conn.execute(store.pricing_rules.select().where(store.pricing_rules.c.id == rule_id))
            .mappings()
            .one()
        )
    return dict(row)


def _events(client: TestClient, operator: Account, subject_id: str) -> list[dict[str, Any]]:
    response = client.get(
        "/api/v1/admin/events", params={"subject_id": subject_id}, headers=operator.headers
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items
