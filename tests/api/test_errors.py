"""Bad input never yields a 500: every error is problem+json, naming the field at fault."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container, build
from bazaar.http.app import create_app
from tests.support.assertions import assert_problem
from tests.support.factories import Account, ensure_category, make_product, test_settings

PRODUCTS = "/api/v1/products"
REGISTER = "/api/v1/auth/register"


def product_body(**overrides: Any) -> dict[str, Any]:
    price = overrides.pop("price", {"amount": 1999, "currency": "EUR"})
    body: dict[str, Any] = {
        "title": "Organic cotton tee",
        "category": "apparel/t-shirts",
        "variants": [{"sku": "TEE-ORG-M-BLK"}],
        "offers": [{"variant": "TEE-ORG-M-BLK", "price": price, "stock": 3}],
    }
    body.update(overrides)
    return body


@pytest.fixture(autouse=True)
def _category(container: Container, operator: Account) -> None:
    ensure_category(container, operator, "apparel/t-shirts")


def error_fields(problem: dict[str, Any]) -> list[str]:
    return [error["field"] for error in problem.get("errors", [])]


# --- malformed and mistyped bodies -----------------------------------------------------------


@pytest.mark.parametrize("path", [PRODUCTS, REGISTER])
def test_malformed_json_is_a_400_problem(client: TestClient, operator: Account, path: str) -> None:
    # given a body that is not JSON at all
    body = b'{"title": "tee", "sku": '

    # when it is posted
    response = client.post(
        path, content=body, headers={**operator.headers, "Content-Type": "application/json"}
    )

    # then the answer is a 400 problem pointing at the body
    problem = assert_problem(response, 400)
    assert problem["code"] == "malformed_json"
    assert error_fields(problem) == ["body"]


@pytest.mark.parametrize(
    "amount",
    [
        pytest.param("1999", id="string"),
        pytest.param(19.99, id="float"),
        pytest.param(True, id="bool"),
    ],
)
def test_a_non_integer_amount_is_a_422_naming_the_amount(
    client: TestClient, operator: Account, amount: object
) -> None:
    # given a price whose amount is not an integer number of minor units
    body = product_body(price={"amount": amount, "currency": "EUR"})

    # when a product is created with it
    response = client.post(PRODUCTS, json=body, headers=operator.headers)

    # then the problem names body.price.amount, and nothing was created
    problem = assert_problem(response, 422)
    assert "offers[0].price.amount" in error_fields(problem)
    assert client.get(PRODUCTS).json()["items"] == []


def test_an_unknown_field_is_a_422_naming_the_field(client: TestClient, operator: Account) -> None:
    # given a body with a field the API does not know
    body = product_body(unknown_field="surprise")

    # when it is posted
    response = client.post(PRODUCTS, json=body, headers=operator.headers)

    # then the problem names the unknown field
    problem = assert_problem(response, 422)
    assert error_fields(problem) == ["unknown_field"]
    assert problem["errors"][0]["code"] == "extra_forbidden"


def test_an_unknown_field_in_registration_is_a_422(client: TestClient) -> None:
    # given a registration that tries to choose its own role
    body = {"email": "eve@example.com", "password": "long enough password", "role": "operator"}

    # when it is posted
    response = client.post(REGISTER, json=body)

    # then the unknown field is refused rather than ignored
    problem = assert_problem(response, 422)
    assert error_fields(problem) == ["role"]


@pytest.mark.parametrize("currency", ["XXX", "eur"])
def test_an_unknown_currency_is_a_422_naming_the_currency(
    client: TestClient, operator: Account, currency: str
) -> None:
    # given a price in a currency Bazaar cannot price
    body = product_body(price={"amount": 1999, "currency": currency})

    # when a product is created with it
    response = client.post(PRODUCTS, json=body, headers=operator.headers)

    # then the problem names body.price.currency
    problem = assert_problem(response, 422)
    assert error_fields(problem) == ["offers[0].price.currency"]


def test_a_duplicate_sku_is_a_409(client: TestClient, operator: Account) -> None:
    # given a product with a SKU
    first = client.post(PRODUCTS, json=product_body(), headers=operator.headers)
    assert first.status_code == 201, first.text

    # when a second product uses the same SKU
    response = client.post(
        PRODUCTS, json=product_body(title="Another tee"), headers=operator.headers
    )

    # then it is a conflict naming the sku
    problem = assert_problem(response, 409)
    assert error_fields(problem) == ["variants[0].sku"]


# --- oversized bodies ------------------------------------------------------------------------


def test_an_oversized_body_announced_by_content_length_is_a_413(
    client: TestClient, container: Container, operator: Account
) -> None:
    # given a body larger than the configured limit
    body = b"x" * (container.settings.max_body_bytes + 1)

    # when it is posted with its Content-Length
    response = client.post(
        PRODUCTS, content=body, headers={**operator.headers, "Content-Type": "application/json"}
    )

    # then it is refused as too large before it is parsed
    problem = assert_problem(response, 413)
    assert problem["code"] == "payload_too_large"


def test_an_oversized_streamed_body_without_content_length_is_a_413(
    client: TestClient, container: Container, operator: Account
) -> None:
    # given a chunked body with no Content-Length that grows past the limit
    limit = container.settings.max_body_bytes
    chunk = b"x" * 64 * 1024

    def chunks() -> Iterator[bytes]:
        yield b'{"title": "'
        for _ in range(limit // len(chunk) + 2):
            yield chunk

    # when it is streamed to the API
    response = client.post(
        PRODUCTS,
        content=chunks(),
        headers={**operator.headers, "Content-Type": "application/json"},
    )

    # then it is still refused as too large (not a 400 or a 500)
    assert "content-length" not in response.request.headers
    problem = assert_problem(response, 413)
    assert problem["code"] == "payload_too_large"


# --- query parameters and cursors ------------------------------------------------------------


@pytest.mark.parametrize("limit", ["1000", "0", "abc"])
def test_an_invalid_limit_is_a_422_naming_query_limit(client: TestClient, limit: str) -> None:
    # when a listing is asked for with a limit out of range or not a number
    response = client.get(PRODUCTS, params={"limit": limit})

    # then the problem names query.limit
    problem = assert_problem(response, 422)
    assert error_fields(problem) == ["limit"]


def _first_cursor(client: TestClient, container: Container, operator: Account) -> str:
    for _ in range(2):
        make_product(container, operator, category="apparel/t-shirts")
    page = client.get(PRODUCTS, params={"limit": 1, "category": "apparel"}).json()
    cursor: str = page["next_cursor"]
    assert cursor
    return cursor


def _tampered(cursor: str) -> str:
    payload, _, tag = cursor.partition(".")
    flipped = "B" if payload[0] != "B" else "C"
    return f"{flipped}{payload[1:]}.{tag}"


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(_tampered, id="tampered"),
        pytest.param(
            lambda cursor: cursor.partition(".")[0] + ".AAAAAAAAAAAAAAAAAAAAAA", id="forged"
        ),
        pytest.param(lambda cursor: "not a cursor!", id="garbage"),
        pytest.param(lambda cursor: cursor + "x", id="truncated-tag"),
    ],
)
def test_a_bad_cursor_is_a_422_naming_cursor(
    client: TestClient, container: Container, operator: Account, forge: Any
) -> None:
    # given a real cursor, then edited, forged or replaced by garbage
    cursor = forge(_first_cursor(client, container, operator))

    # when it is used
    response = client.get(PRODUCTS, params={"limit": 1, "category": "apparel", "cursor": cursor})

    # then it is refused, naming cursor
    problem = assert_problem(response, 422)
    assert error_fields(problem) == ["cursor"]


def test_a_cursor_is_bound_to_its_filters(
    client: TestClient, container: Container, operator: Account
) -> None:
    # given a cursor from the apparel listing
    cursor = _first_cursor(client, container, operator)
    same_filter = client.get(PRODUCTS, params={"limit": 1, "category": "apparel", "cursor": cursor})
    assert same_filter.status_code == 200

    # when it is used with another category filter
    response = client.get(PRODUCTS, params={"limit": 1, "category": "kitchen", "cursor": cursor})

    # then it is refused
    problem = assert_problem(response, 422)
    assert error_fields(problem) == ["cursor"]


# --- routing and unexpected failures ---------------------------------------------------------


def test_an_unknown_route_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/api/v1/no-such-thing")

    problem = assert_problem(response, 404)
    assert problem["instance"] == "/api/v1/no-such-thing"


def test_a_wrong_method_is_a_405_problem(client: TestClient) -> None:
    response = client.delete("/api/v1/me")

    problem = assert_problem(response, 405)
    assert problem["code"] == "method_not_allowed"
    assert response.headers["allow"] == "GET"


def test_an_unexpected_exception_is_a_500_problem_without_internals(
    db_url: str, tmp_path: Path
) -> None:
    # given an app with a route that fails unexpectedly
    c = build(test_settings(db_url, tmp_path))
    try:
        app = create_app(c, run_dispatcher=False)

        def explode() -> None:
            raise RuntimeError("secret internals")

        app.add_api_route("/api/v1/explode", explode, methods=["GET"])
        with TestClient(app, raise_server_exceptions=False) as test_client:
            # when it is called
            response = test_client.get("/api/v1/explode")
    finally:
        c.close()

    # then the caller gets a 500 problem carrying the request id, and nothing internal
    problem = assert_problem(response, 500)
    assert problem["request_id"] == response.headers["x-request-id"]
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text


def test_times_without_a_time_zone_are_a_422_not_a_500(
    client: TestClient, operator: Account
) -> None:
    # given timestamps with no offset: which instant they mean is unknowable
    events = client.get("/api/v1/admin/events?since=2026-01-01T00:00:00", headers=operator.headers)
    key = client.post(
        "/api/v1/api-keys",
        headers=operator.headers,
        json={
            "name": "wms",
            "scopes": ["stock:write"],
            "owner_type": "partner",
            "owner_id": "prt_01abc",
            "expires_at": "2030-01-01T00:00:00",
        },
    )
    # then each is refused naming the field
    assert [e["field"] for e in assert_problem(events, 422)["errors"]] == ["since"]
    assert [e["field"] for e in assert_problem(key, 422)["errors"]] == ["expires_at"]


def test_a_busy_database_is_a_503_to_retry_not_a_500(
    client: TestClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a database whose write lock stays taken past the busy timeout
    def locked(*args: Any, **kwargs: Any) -> Any:
        raise sa.exc.OperationalError(
            "BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked")
        )

    monkeypatch.setattr(container.carts, "create_cart", locked)

    # When a shopper starts a cart
    response = client.post("/api/v1/carts", json={"country": "NL"})

    # Then the answer says to retry shortly, as a problem
    problem = assert_problem(response, 503)
    assert problem["code"] == "database_busy"
    assert response.headers["retry-after"] == "1"
