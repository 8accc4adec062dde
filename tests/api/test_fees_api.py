"""Fees, statements and payouts over HTTP: validation, CSV/JSON, seller isolation, runs."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container, build
from bazaar.identity.model import Role
from tests.support.assertions import assert_problem
from tests.support.factories import Account, make_account, test_settings
from tests.support.marketplace import (
    fee_schedule_json,
    new_seller,
    offer,
    payable,
    place_order,
    ship_and_deliver,
)
from tests.support.sellers import put_seller_on_file

FEES = "/api/v1/admin/fees"
STATEMENT = "/api/v1/seller/statements"


@pytest.fixture
def container(db_url: str, tmp_path: Path) -> Iterator[Container]:
    """The usual container, with no hold after delivery so a delivered sale is payable."""
    c = build(test_settings(db_url, tmp_path, payout_hold_days=0))
    yield c
    c.close()


def _seller_with_a_sale(
    client: TestClient, container: Container, operator: Account
) -> tuple[str, Account, dict[str, Any]]:
    seller = put_seller_on_file(container, new_seller(container, operator))
    assert client.put(
        FEES, json=fee_schedule_json(order_fee=50), headers=operator.headers
    ).is_success
    order = place_order(client, [(offer(container, operator, fulfiller=seller), 2)])
    container.dispatcher.drain()
    return seller, make_account(container, Role.SELLER, seller), order


def test_the_fee_schedule_starts_from_the_settings_and_can_be_replaced(
    client: TestClient, operator: Account
) -> None:
    # Given no saved schedule, the configured defaults are in force
    defaults = client.get(FEES, headers=operator.headers)
    assert defaults.status_code == 200, defaults.text
    assert defaults.json()["commission"]["default_rate"] == "0.10"
    assert defaults.json()["updated_at"] is None

    # When an operator saves commission by category, a seller override and a minimum
    body = fee_schedule_json(
        rate="0.12",
        minimum=50,
        order_fee=35,
        listing_fee=499,
        category_rates={"cat_books": "0.07"},
        seller_overrides={"sel_a": {"rate": "0.05", "category_rates": {"cat_books": "0.03"}}},
    )
    saved = client.put(FEES, json=body, headers=operator.headers)

    # Then it is in force and reads back as saved
    assert saved.status_code == 200, saved.text
    read = client.get(FEES, headers=operator.headers).json()
    assert read["updated_at"] is not None
    assert {k: v for k, v in read.items() if k != "updated_at"} == body
    assert saved.headers["cache-control"] == "no-store"


def test_a_bad_fee_schedule_is_refused_naming_every_field(
    client: TestClient, operator: Account, container: Container
) -> None:
    body = fee_schedule_json(
        rate="1.5",
        category_rates={"cat_books": "-0.1", "cat_mugs": "abc"},
        seller_overrides={"sel_a": {"rate": "2", "category_rates": {}}},
    )
    body["order_fee"] = {"amount": -5, "currency": "EUR"}

    conversion = assert_problem(client.put(FEES, json=body, headers=operator.headers), 422)
    # a rate that is not a number is named first; the rest once it parses
    assert [e["field"] for e in conversion["errors"]] == ["commission.category_rates[cat_mugs]"]

    body["commission"]["category_rates"]["cat_mugs"] = "0.1"
    problem = assert_problem(client.put(FEES, json=body, headers=operator.headers), 422)
    assert {e["field"] for e in problem["errors"]} == {
        "commission.default_rate",
        "commission.category_rates[cat_books]",
        "commission.seller_overrides[sel_a].rate",
    }

    body = fee_schedule_json()
    body["order_fee"] = {"amount": -5, "currency": "EUR"}
    body["monthly_listing_fee"] = {"amount": 100, "currency": "USD"}
    problem = assert_problem(client.put(FEES, json=body, headers=operator.headers), 422)
    assert {e["field"] for e in problem["errors"]} == {"order_fee", "monthly_listing_fee.currency"}

    # a JSON number would pass through a float: rates are strings
    body = fee_schedule_json()
    body["commission"]["default_rate"] = 0.1
    problem = assert_problem(client.put(FEES, json=body, headers=operator.headers), 422)
    assert problem["errors"][0]["field"] == "commission.default_rate"
    assert problem["errors"][0]["code"] == "string_type"

    body = fee_schedule_json()
    body["currency"] = "USD"
    problem = assert_problem(client.put(FEES, json=body, headers=operator.headers), 422)
    assert problem["errors"][0]["field"] == "currency"

    # and only operators touch fees
    seller = make_account(container, Role.SELLER, "sel_01jd3w7k6q8r2m4n5p6s7t8v9x")
    assert_problem(client.get(FEES, headers=seller.headers), 403)
    assert_problem(client.get(FEES), 401)


def test_a_seller_reads_its_statement_as_json_and_csv(
    client: TestClient, container: Container, operator: Account
) -> None:
    # Given a seller with one sale the ledger posted
    seller, account, order = _seller_with_a_sale(client, container, operator)

    # When it asks for this month's statement
    response = client.get(STATEMENT, headers=account.headers)

    # Then it sees its sale, the commission and the order fee, closing at what it is owed
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    statement = response.json()
    assert statement["seller_id"] == seller
    # (two mugs at 20.00 are under the free-shipping threshold: the seller's shipping too)
    descriptions = [x["description"] for x in statement["lines"]]
    assert descriptions == ["sale", "commission", "shipping", "order_fee"]
    assert {x["reference"] for x in statement["lines"]} == {order["id"]}
    assert statement["opening_balance"]["amount"] == 0
    assert statement["closing_balance"]["amount"] == payable(container, seller)

    # And the same statement as CSV, asked for either way
    as_csv = client.get(STATEMENT, params={"format": "csv"}, headers=account.headers)
    by_accept = client.get(STATEMENT, headers={**account.headers, "Accept": "text/csv"})
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    assert by_accept.text == as_csv.text
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert rows[0]["kind"] == "opening_balance"
    assert rows[-1]["kind"] == "closing_balance"
    assert int(rows[-1]["balance_minor"]) == payable(container, seller)
    assert len(rows) == len(statement["lines"]) + 2

    # And the operator reads the same statement for that seller
    first = statement["period_start"]
    admin = client.get(
        f"/api/v1/admin/sellers/{seller}/statement",
        params={"from": first, "to": statement["period_end"]},
        headers=operator.headers,
    )
    assert admin.status_code == 200, admin.text
    assert admin.json() == statement


def test_a_statement_period_is_validated(
    client: TestClient, container: Container, operator: Account
) -> None:
    account = make_account(
        container, Role.SELLER, put_seller_on_file(container, new_seller(container, operator))
    )
    backwards = client.get(
        STATEMENT, params={"from": "2026-11-10", "to": "2026-11-01"}, headers=account.headers
    )
    assert assert_problem(backwards, 422)["errors"][0]["field"] == "to"
    bad_date = client.get(STATEMENT, params={"from": "November"}, headers=account.headers)
    assert assert_problem(bad_date, 422)["errors"][0]["field"] == "from"
    # an operator has no statement of its own: it names the seller on the admin route
    assert_problem(client.get(STATEMENT, headers=operator.headers), 403)


def test_a_seller_never_sees_another_sellers_money(
    client: TestClient, container: Container, operator: Account
) -> None:
    # Given seller A with a delivered sale paid out (no hold period here), and seller B
    seller_a, account_a, order = _seller_with_a_sale(client, container, operator)
    ship_and_deliver(client, operator, order)
    container.dispatcher.drain()
    account_b = make_account(
        container, Role.SELLER, put_seller_on_file(container, new_seller(container, operator))
    )

    # When B reads its statement, it sees nothing of A's
    mine = client.get(STATEMENT, headers=account_b.headers).json()
    assert mine["lines"] == []
    assert mine["closing_balance"]["amount"] == 0

    # And A's statement on the operator route is forbidden to B
    assert_problem(
        client.get(f"/api/v1/admin/sellers/{seller_a}/statement", headers=account_b.headers), 403
    )
    # And a payout of A's is "not found" for B, as is an id that does not exist
    run = client.post("/api/v1/admin/payout-runs", headers=operator.headers).json()
    assert client.post(
        f"/api/v1/admin/payout-runs/{run['id']}/confirm", headers=operator.headers
    ).is_success
    payouts_a = client.get("/api/v1/seller/payouts", headers=account_a.headers).json()["items"]
    assert [p["seller_id"] for p in payouts_a] == [seller_a]
    payout_url = f"/api/v1/seller/payouts/{payouts_a[0]['id']}"
    assert client.get(payout_url, headers=account_a.headers).status_code == 200
    assert_problem(client.get(payout_url, headers=account_b.headers), 404)
    assert client.get("/api/v1/seller/payouts", headers=account_b.headers).json()["items"] == []
    assert_problem(
        client.get(
            "/api/v1/seller/payouts/pyo_01jd3w7k6q8r2m4n5p6s7t8v9x", headers=account_a.headers
        ),
        404,
    )
    # And sellers cannot run payouts
    assert_problem(client.post("/api/v1/admin/payout-runs", headers=account_a.headers), 403)


def test_payout_runs_over_http(client: TestClient, container: Container, operator: Account) -> None:
    # Given a seller's sale that is not delivered yet
    seller, _, _ = _seller_with_a_sale(client, container, operator)

    # When a run is planned twice in the same week
    first = client.post("/api/v1/admin/payout-runs", headers=operator.headers)
    second = client.post("/api/v1/admin/payout-runs", headers=operator.headers)

    # Then the first creates it and the second returns it
    assert (first.status_code, second.status_code) == (201, 200), first.text
    run = first.json()
    assert second.json()["id"] == run["id"]
    assert run["status"] == "proposed"
    assert [(h["seller_id"], h["reason"]) for h in run["held"]] == [(seller, "awaiting_delivery")]
    assert (
        client.get(f"/api/v1/admin/payout-runs/{run['id']}", headers=operator.headers).json()["id"]
        == run["id"]
    )

    # And confirming (twice) confirms it once
    url = f"/api/v1/admin/payout-runs/{run['id']}/confirm"
    confirmed = client.post(url, headers=operator.headers)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "confirmed"
    assert client.post(url, headers=operator.headers).json() == confirmed.json()

    # And unknown ids are 404s; bank answers for unknown payouts too
    assert_problem(client.get("/api/v1/admin/payout-runs/pyr_nope", headers=operator.headers), 404)
    assert_problem(
        client.post(
            "/api/v1/admin/payouts/pyo_nope/paid",
            json={"bank_reference": "X"},
            headers=operator.headers,
        ),
        404,
    )
    blank = client.post(
        "/api/v1/admin/payouts/pyo_nope/failed", json={"reason": ""}, headers=operator.headers
    )
    assert assert_problem(blank, 422)["errors"][0]["field"] == "reason"


def test_the_ledger_check_route(
    client: TestClient, container: Container, operator: Account
) -> None:
    _seller_with_a_sale(client, container, operator)
    checked = client.get("/api/v1/admin/ledger/check", headers=operator.headers)
    assert checked.status_code == 200, checked.text
    body = checked.json()
    assert (body["ok"], body["transactions"], body["problems"]) == (True, 1, [])
    assert {b["account"] for b in body["balances"]} >= {"vat_payable", "commission_revenue"}
