"""Public catalog pages: hits are answered at the edge, misses and bad input reach the routes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from bazaar.bootstrap import Container
from tests.support.assertions import StatementCounter, assert_problem
from tests.support.factories import Account, make_product


def test_a_hit_needs_no_database_and_ignores_parameter_order(
    container: Container, client: TestClient, operator: Account
) -> None:
    # given a listing page someone has already loaded
    make_product(container, operator, category="kitchen/coffee")
    first = client.get("/api/v1/products?limit=5&category=kitchen")
    assert first.status_code == 200
    # when it is asked for again, with the parameters in another order
    with StatementCounter(container.db.engine) as sql:
        again = client.get("/api/v1/products?category=kitchen&limit=5")
    # then the same bytes come from the cache without a single SQL statement
    assert sql.count == 0
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"].startswith("public")
    assert again.headers["x-content-type-options"] == "nosniff"


def test_conditional_requests_get_304_from_the_cache(
    container: Container, client: TestClient, operator: Account
) -> None:
    product = make_product(container, operator)
    etag = client.get(f"/api/v1/products/{product.id}").headers["etag"]
    with StatementCounter(container.db.engine) as sql:
        response = client.get(f"/api/v1/products/{product.id}", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert sql.count == 0


def test_invalid_requests_always_reach_validation(client: TestClient) -> None:
    assert client.get("/api/v1/products?limit=20").status_code == 200
    problem = assert_problem(client.get("/api/v1/products?limit=1000"), 422)
    assert [e["field"] for e in problem["errors"]] == ["limit"]
    assert_problem(client.get("/api/v1/products/prd_missing"), 404)


def test_a_new_product_invalidates_cached_pages(
    container: Container, client: TestClient, operator: Account
) -> None:
    make_product(container, operator, title="First")
    before = client.get("/api/v1/products")
    make_product(container, operator, title="Second")
    after = client.get("/api/v1/products")
    assert after.headers["etag"] != before.headers["etag"]
    # newest first when there is no query to rank by
    assert [p["title"] for p in after.json()["items"]] == ["Second", "First"]


def test_hits_are_counted_under_the_route_template(
    container: Container, client: TestClient, operator: Account
) -> None:
    product = make_product(container, operator)
    for _ in range(3):
        client.get(f"/api/v1/products/{product.id}")
    metrics = client.get("/metrics").text
    line = next(
        ln
        for ln in metrics.splitlines()
        if ln.startswith("bazaar_http_request_duration_seconds_count")
        and 'route="/api/v1/products/{product_id}"' in ln
        and 'status="200"' in ln
    )
    assert float(line.rsplit(" ", 1)[1]) == 3
