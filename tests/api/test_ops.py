"""Operations endpoints and the edge: health, readiness, metrics, headers, caching, limits."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from bazaar.bootstrap import Container, build
from bazaar.http.app import create_app
from bazaar.identity.model import Role
from bazaar.infra.ratelimit import MemoryRateLimiter
from tests.support.assertions import assert_problem
from tests.support.factories import (
    Account,
    ensure_category,
    make_account,
    make_product,
    product_json,
    test_settings,
)

PRODUCTS = "/api/v1/products"


@contextmanager
def app_client(db_url: str, tmp_path: Path, **overrides: Any) -> Iterator[TestClient]:
    """A client over a fresh container built with ``overrides``."""
    c = build(test_settings(db_url, tmp_path, **overrides))
    try:
        with TestClient(create_app(c, run_dispatcher=False)) as client:
            yield client
    finally:
        c.close()


# --- health, readiness, metrics --------------------------------------------------------------


def test_healthz_answers(client: TestClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_the_database(client: TestClient) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok"}}


def test_readyz_is_a_503_problem_when_the_database_is_unreachable(tmp_path: Path) -> None:
    # given a container whose SQLite "file" is a directory, so every connection fails
    unreachable = tmp_path / "not-a-database"
    unreachable.mkdir()

    # when readiness is asked
    with app_client(f"sqlite:///{unreachable}", tmp_path) as client:
        response = client.get("/readyz")
        liveness = client.get("/healthz")

    # then it is a 503 problem naming the database, while liveness still answers
    problem = assert_problem(response, 503)
    assert "database" in problem["detail"]
    assert liveness.status_code == 200


def test_metrics_label_latency_by_route_template(
    client: TestClient, container: Container, operator: Account
) -> None:
    # given a request for one product
    product = make_product(container, operator)
    assert client.get(f"{PRODUCTS}/{product.id}").status_code == 200

    # when the metrics are scraped
    response = client.get("/metrics")

    # then the latency is labelled with the route template, never the raw path
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert re.search(
        r'bazaar_http_request_duration_seconds_count\{method="GET",'
        r'route="/api/v1/products/\{product_id\}",status="200"\} 1\.0',
        text,
    ), text
    assert product.id not in text


def test_metrics_expose_the_outbox(
    client: TestClient, container: Container, operator: Account
) -> None:
    # given a product whose event is waiting for delivery
    make_product(container, operator)

    # when the metrics are scraped
    text = client.get("/metrics").text

    # then the queue depth and lag are there
    assert re.search(r'^bazaar_outbox_deliveries\{status="pending"\} [1-9]', text, re.M), text
    assert re.search(r'^bazaar_outbox_deliveries\{status="dead"\} 0\.0$', text, re.M)
    assert re.search(r"^bazaar_outbox_lag_seconds \d", text, re.M)

    # and once delivered the queue is empty
    container.dispatcher.drain()
    text = client.get("/metrics").text
    assert re.search(r'^bazaar_outbox_deliveries\{status="pending"\} 0\.0$', text, re.M)
    assert re.search(r"^bazaar_outbox_lag_seconds 0\.0$", text, re.M)


def test_unmatched_paths_share_one_metrics_label(client: TestClient) -> None:
    # given requests for many paths that match no route
    for n in range(3):
        assert client.get(f"/nothing/{n}").status_code == 404

    # then they are counted under one label, so scanners cannot explode the series
    text = client.get("/metrics").text
    assert 'route="unmatched",status="404"} 3.0' in text
    assert "/nothing/" not in text


# --- headers on every response ---------------------------------------------------------------

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/healthz"),
        ("GET", PRODUCTS),
        ("GET", "/api/v1/me"),
        ("GET", "/missing"),
        ("POST", "/api/v1/auth/register"),
    ],
)
def test_every_response_carries_the_security_headers(
    client: TestClient, method: str, path: str
) -> None:
    response = client.request(method, path, json={} if method == "POST" else None)

    assert response.headers["x-request-id"]
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert response.headers["strict-transport-security"].startswith("max-age=")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_a_valid_incoming_request_id_is_echoed(client: TestClient) -> None:
    response = client.get("/healthz", headers={"X-Request-Id": "lb-7f3a.42:abc_DEF"})

    assert response.headers["x-request-id"] == "lb-7f3a.42:abc_DEF"


@pytest.mark.parametrize(
    "incoming",
    ["has spaces in it", "x" * 65, "<script>", "semi;colon"],
)
def test_an_invalid_incoming_request_id_is_replaced(client: TestClient, incoming: str) -> None:
    # when a request arrives with an unusable request id
    response = client.get("/api/v1/me", headers={"X-Request-Id": incoming})

    # then the response carries a fresh one, also in the problem body
    request_id = response.headers["x-request-id"]
    assert request_id != incoming
    assert request_id.startswith("req_")
    assert response.json()["request_id"] == request_id


# --- caching ---------------------------------------------------------------------------------


def test_api_responses_default_to_no_store(client: TestClient, customer: Account) -> None:
    for response in (
        client.get("/api/v1/me", headers=customer.headers),
        client.get("/api/v1/me"),
        client.get("/healthz"),
    ):
        assert response.headers["cache-control"] == "no-store"


def test_the_product_list_is_cacheable_with_an_etag(
    client: TestClient, container: Container, operator: Account
) -> None:
    # given a product list
    make_product(container, operator)
    first = client.get(PRODUCTS)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert first.headers["cache-control"].startswith("public")

    # when it is asked for again with its ETag
    again = client.get(PRODUCTS, headers={"If-None-Match": etag})

    # then the answer is 304 with no body and the same validator
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag

    # and a weak or listed form of the same tag also matches
    listed = client.get(PRODUCTS, headers={"If-None-Match": f'"other", W/{etag}'})
    assert listed.status_code == 304


def test_the_etag_changes_when_a_product_is_created(
    client: TestClient, container: Container, operator: Account
) -> None:
    # given a cached, empty product list
    before = client.get(PRODUCTS)
    etag = before.headers["etag"]
    assert before.json()["items"] == []

    # when a product is created through the API
    created = client.post(
        PRODUCTS,
        json=product_json("TEE-1", category=ensure_category(container, operator, "apparel").id),
        headers=operator.headers,
    )
    assert created.status_code == 201

    # then the old ETag no longer matches and the new list shows the product
    after = client.get(PRODUCTS, headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["etag"] != etag
    assert [p["title"] for p in after.json()["items"]] == ["Product TEE-1"]


# --- rate limiting ---------------------------------------------------------------------------


@pytest.fixture
def limited(db_url: str, tmp_path: Path) -> Iterator[tuple[Container, TestClient]]:
    c = build(test_settings(db_url, tmp_path, rate_limit_per_minute=3))
    # Time stands still for the limiter, so no window can roll over during the test.
    c.limiter = MemoryRateLimiter(monotonic=lambda: 30.0)
    with TestClient(create_app(c, run_dispatcher=False)) as client:
        yield c, client
    c.close()


def test_the_fourth_request_in_a_minute_is_a_429(
    limited: tuple[Container, TestClient],
) -> None:
    # given three requests from one client
    _, client = limited
    assert [client.get(PRODUCTS).status_code for _ in range(3)] == [200, 200, 200]

    # when a fourth follows
    response = client.get(PRODUCTS)

    # then it is refused with a Retry-After
    problem = assert_problem(response, 429)
    assert problem["code"] == "rate_limited"
    assert int(response.headers["retry-after"]) >= 1
    assert response.headers["ratelimit-remaining"] == "0"
    assert response.headers["x-request-id"]

    # and the refusal is counted
    assert "bazaar_http_rate_limited_total 1.0" in client.get("/metrics").text


def test_health_checks_are_never_limited(limited: tuple[Container, TestClient]) -> None:
    _, client = limited

    statuses = {client.get(path).status_code for path in ("/healthz", "/readyz") * 5}

    assert statuses == {200}


def test_each_credential_has_its_own_limit(limited: tuple[Container, TestClient]) -> None:
    # given one customer who has used up their limit
    container, client = limited
    first = make_account(container, Role.CUSTOMER)
    second = make_account(container, Role.CUSTOMER)
    for _ in range(3):
        assert client.get("/api/v1/me", headers=first.headers).status_code == 200
    assert_problem(client.get("/api/v1/me", headers=first.headers), 429)

    # when another credential calls from the same address
    response = client.get("/api/v1/me", headers=second.headers)

    # then it is not affected, and neither are anonymous callers
    assert response.status_code == 200
    assert client.get(PRODUCTS).status_code == 200


# --- CORS ------------------------------------------------------------------------------------


def preflight(client: TestClient, origin: str) -> Response:
    return client.options(
        PRODUCTS,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )


def test_cors_allows_only_the_configured_origins(db_url: str, tmp_path: Path) -> None:
    with app_client(db_url, tmp_path, cors_origins=["https://shop.example"]) as client:
        # when a configured origin sends a preflight
        allowed = preflight(client, "https://shop.example")
        # and another origin does the same
        refused = preflight(client, "https://evil.example")
        # and a simple request comes from the other origin
        simple = client.get(PRODUCTS, headers={"Origin": "https://evil.example"})

    # then only the configured origin is allowed
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "access-control-allow-origin" not in refused.headers
    assert refused.status_code >= 400
    assert "access-control-allow-origin" not in simple.headers
