"""Bulk import and export as background jobs through the HTTP API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bazaar.bootstrap import Container, build
from bazaar.catalog.attributes import AttributeDef, AttributeType
from bazaar.catalog.drafts import CategoryDraft
from bazaar.http.app import create_app
from bazaar.identity.model import Role
from bazaar.jobs import store as job_store
from bazaar.jobs.model import JobKind
from tests.support.factories import Account, make_account, test_settings

IMPORTS = "/api/v1/imports/products"
EXPORTS = "/api/v1/exports/products"
NDJSON = {"Content-Type": "application/x-ndjson"}


def product(sku: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": f"Tee {sku}",
        "category": "apparel/t-shirts",
        "variants": [{"sku": sku}],
        "offers": [{"variant": sku, "price": {"amount": 1999, "currency": "EUR"}, "stock": 5}],
    }
    body.update(fields)
    return body


def jsonl(*rows: dict[str, Any] | str) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows).encode()


@pytest.fixture
def staff(container: Container, operator: Account) -> Account:
    p = operator.principal
    container.taxonomy.create_category(p, CategoryDraft("Apparel", "apparel"))
    container.taxonomy.create_category(
        p,
        CategoryDraft(
            "T-shirts",
            "t-shirts",
            parent="apparel",
            attributes=[AttributeDef("fit", AttributeType.ENUM, values=("slim", "regular"))],
        ),
    )
    return operator


def test_an_uploaded_file_is_imported_by_a_job_with_a_row_report(
    client: TestClient, container: Container, staff: Account
) -> None:
    # given a JSONL upload with a bad row in its second batch
    data = jsonl(
        product("A-1"), product("B-1"), product("C-1", attributes={"fit": "baggy"}), "{oops"
    )

    # when it is posted
    accepted = client.post(IMPORTS + "?batch_size=2", content=data, headers=staff.headers | NDJSON)

    # then a job is queued
    assert accepted.status_code == 202, accepted.text
    job = accepted.json()
    assert job["status"] == "queued"
    assert accepted.headers["location"] == f"/api/v1/jobs/{job['id']}"
    assert container.blobs.exists(f"imports/{job['id']}.jsonl")

    # when a worker runs it
    assert container.job_runner.run_once() is True

    # then the job reports progress and each bad row with its line
    done = client.get(accepted.headers["location"], headers=staff.headers).json()
    assert done["status"] == "succeeded"
    assert done["progress"] == {"lines_done": 4, "created": 2, "failed": 2, "skipped": 0}
    assert [(e["line"], e["field"], e["code"]) for e in done["report"]["errors"]] == [
        (3, "attributes.fit", "invalid_value"),
        (4, "line", "malformed"),
    ]
    assert done["report"]["error_count"] == 2
    assert done["result_url"] is None


def test_a_csv_file_can_be_uploaded_as_multipart(
    client: TestClient, container: Container, staff: Account
) -> None:
    csv_file = b"title,category,sku,price\nTee,apparel/t-shirts,T-1,19.99\n"

    accepted = client.post(
        IMPORTS,
        files={"file": ("catalog.csv", csv_file, "application/octet-stream")},
        headers=staff.headers,
    )
    assert accepted.status_code == 202, accepted.text
    container.job_runner.drain()

    done = client.get(accepted.headers["location"], headers=staff.headers).json()
    assert (done["status"], done["progress"]["created"]) == ("succeeded", 1)


def test_a_job_whose_worker_crashed_resumes_where_it_was(
    client: TestClient, container: Container, staff: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the import's second batch fails once
    real = container.catalog.create_products
    calls = 0

    def flaky(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(container.catalog, "create_products", flaky)
    data = jsonl(*(product(f"R-{i}") for i in range(6)))
    location = client.post(
        IMPORTS + "?batch_size=2", content=data, headers=staff.headers | NDJSON
    ).headers["location"]

    # when a worker runs it, it crashes and goes back to the queue
    container.job_runner.run_once()
    crashed = client.get(location, headers=staff.headers).json()
    assert (crashed["status"], crashed["attempts"]) == ("queued", 1)
    assert "database went away" in crashed["error"]

    # when a worker runs it again, it resumes after the first batch
    container.job_runner.run_once()
    done = client.get(location, headers=staff.headers).json()
    assert (done["status"], done["attempts"]) == ("succeeded", 2)
    assert done["progress"]["created"] == 6
    assert calls == 4  # batches 2 (crashed), 2 again, 3; batch 1 was not redone


def test_a_running_job_whose_lease_expired_is_taken_over(
    db_url: str, tmp_path: Path, staff: Account, container: Container
) -> None:
    # given a job claimed by a worker that then died (its lease runs out)
    short = build(test_settings(db_url, tmp_path / "short", job_lease_s=0.05))
    try:
        job = container.jobs.submit(
            staff.principal, JobKind.EXPORT_PRODUCTS, {"format": "jsonl", "statuses": ["active"]}
        )
        with short.db.write() as conn:
            claimed = job_store.claim_next(
                conn, now=short.clock.now(), lease_s=0.05, token="lse_dead", skip_locked=False
            )
        assert claimed is not None
        assert claimed.id == job.id
        time.sleep(0.1)

        # when another worker looks for work
        assert short.job_runner.run_once() is True

        # then it finishes the job
        finished = short.jobs.get(staff.principal, job.id)
        assert (finished.status.value, finished.attempts) == ("succeeded", 2)
    finally:
        short.close()


def test_an_export_job_produces_a_file_to_download(
    client: TestClient, container: Container, staff: Account
) -> None:
    client.post(
        IMPORTS, content=jsonl(product("A-1"), product("B-1")), headers=staff.headers | NDJSON
    )
    container.job_runner.drain()

    accepted = client.post(EXPORTS + "?format=csv&status=active", headers=staff.headers)
    assert accepted.status_code == 202, accepted.text
    result_url = accepted.headers["location"] + "/result"
    assert client.get(result_url, headers=staff.headers).status_code == 409

    container.job_runner.run_once()

    done = client.get(accepted.headers["location"], headers=staff.headers).json()
    assert (done["status"], done["progress"], done["result_url"]) == (
        "succeeded",
        {"exported": 2},
        result_url,
    )
    download = client.get(result_url, headers=staff.headers)
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    lines = download.text.splitlines()
    assert lines[0].startswith("handle,title")
    assert [line.split(",")[lines[0].split(",").index("sku")] for line in lines[1:]] == [
        "A-1",
        "B-1",
    ]


def test_jobs_are_for_operators_only(
    client: TestClient, customer: Account, staff: Account, container: Container
) -> None:
    job = container.jobs.submit(
        staff.principal, JobKind.EXPORT_PRODUCTS, {"format": "jsonl", "statuses": []}
    )
    for method, path in (
        ("post", IMPORTS),
        ("post", EXPORTS),
        ("get", f"/api/v1/jobs/{job.id}"),
        ("get", f"/api/v1/jobs/{job.id}/result"),
    ):
        denied = client.request(method, path, content=b"{}", headers=customer.headers | NDJSON)
        assert denied.status_code == 403, (path, denied.text)
        assert denied.headers["content-type"] == "application/problem+json"
        assert client.request(method, path).status_code == 401
    assert client.get("/api/v1/jobs/job_nope", headers=staff.headers).status_code == 404


@pytest.mark.parametrize(
    ("body", "headers", "status", "field"),
    [
        (b"title,category,sku\n", {"Content-Type": "application/pdf"}, 415, None),
        (b"", NDJSON, 422, "file"),
        (b"title,category,sku\n", {"Content-Type": "text/csv"}, 422, "file"),
        (
            b"title,category,sku,prize\nT,apparel,S,1\n",
            {"Content-Type": "text/csv"},
            422,
            "header[3]",
        ),
        (b"title,category\nT,apparel\n", {"Content-Type": "text/csv"}, 422, "header"),
    ],
)
def test_bad_uploads_are_problems_and_queue_nothing(
    client: TestClient,
    staff: Account,
    body: bytes,
    headers: dict[str, str],
    status: int,
    field: str | None,
) -> None:
    answer = client.post(IMPORTS, content=body, headers=staff.headers | headers)

    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    if field is not None:
        assert field in [e["field"] for e in answer.json()["errors"]]


def test_a_multipart_upload_without_the_file_field_is_a_422(
    client: TestClient, staff: Account
) -> None:
    answer = client.post(
        IMPORTS, data={"other": "x"}, files={"upload": ("a.csv", b"x")}, headers=staff.headers
    )

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "file"


@pytest.fixture
def small_limit_client(db_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, Account]]:
    c = build(test_settings(db_url, tmp_path, import_max_bytes=2048, max_body_bytes=1024))
    with TestClient(create_app(c, run_dispatcher=False)) as test_client:
        yield test_client, make_account(c, Role.OPERATOR)
    c.close()


def test_uploads_may_exceed_the_usual_body_limit_up_to_the_import_limit(
    small_limit_client: tuple[TestClient, Account],
) -> None:
    client, operator = small_limit_client
    within = jsonl(*(product(f"S-{i}") for i in range(10)))
    assert 1024 < len(within) < 2048

    assert (
        client.post(IMPORTS, content=within, headers=operator.headers | NDJSON).status_code == 202
    )
    # (the limit allows 64 KiB of multipart framing on top)
    too_big = client.post(IMPORTS, content=within * 50, headers=operator.headers | NDJSON)
    assert too_big.status_code == 413
    assert too_big.headers["content-type"] == "application/problem+json"
