"""S3BlobStore against moto's in-process S3."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from moto import mock_aws

from bazaar.infra.blobs import S3BlobStore
from bazaar.kernel.errors import NotFound, ValidationFailed

BUCKET = "bazaar-media"


@pytest.fixture
def s3_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # Never pick up real credentials or config from the developer's machine.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def test_round_trip_stores_content_type(s3_client: Any) -> None:
    store = S3BlobStore(BUCKET, s3_client)

    store.put("listings/42/main.jpg", b"\xff\xd8jpeg", "image/jpeg")

    assert store.get("listings/42/main.jpg") == b"\xff\xd8jpeg"
    head = s3_client.head_object(Bucket=BUCKET, Key="listings/42/main.jpg")
    assert head["ContentType"] == "image/jpeg"


def test_exists_and_idempotent_delete(s3_client: Any) -> None:
    store = S3BlobStore(BUCKET, s3_client)
    store.put("a.txt", b"x", "text/plain")

    assert store.exists("a.txt")
    store.delete("a.txt")
    store.delete("a.txt")
    assert not store.exists("a.txt")


def test_missing_blob_is_not_found(s3_client: Any) -> None:
    store = S3BlobStore(BUCKET, s3_client)

    with pytest.raises(NotFound):
        store.get("nope.txt")


def test_unsafe_key_is_rejected_before_calling_s3(s3_client: Any) -> None:
    store = S3BlobStore(BUCKET, s3_client)

    with pytest.raises(ValidationFailed):
        store.put("../x", b"x", "text/plain")


def test_url_uses_public_base_url_when_given(s3_client: Any) -> None:
    store = S3BlobStore(BUCKET, s3_client, public_base_url="https://cdn.example.com/")

    assert store.url("a/b.jpg") == "https://cdn.example.com/a/b.jpg"


def test_url_is_presigned_for_an_hour_otherwise(s3_client: Any) -> None:
    store = S3BlobStore(BUCKET, s3_client)

    url = urlsplit(store.url("a/b.jpg"))
    query = parse_qs(url.query)

    assert url.path.endswith("/a/b.jpg")
    if "X-Amz-Expires" in query:  # SigV4: a lifetime in seconds
        assert query["X-Amz-Expires"] == ["3600"]
    else:  # SigV2: an absolute epoch time
        assert 3590 <= int(query["Expires"][0]) - time.time() <= 3610


def test_builds_its_own_client_when_none_is_given(s3_client: Any) -> None:
    store = S3BlobStore(BUCKET, region="us-east-1")
    store.put("own.txt", b"x", "text/plain")

    assert s3_client.get_object(Bucket=BUCKET, Key="own.txt")["Body"].read() == b"x"
