"""Product images over HTTP: upload, import by URL, signed direct uploads, serving, removal."""

from __future__ import annotations

import hashlib
import io
import ipaddress
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from PIL import Image

from bazaar.bootstrap import Container, build
from bazaar.kernel.clock import FixedClock
from bazaar.media import store as media_store
from bazaar.media.shared import SharedPictures
from tests.support.assertions import StatementCounter, assert_problem
from tests.support.factories import Account, make_product, test_settings
from tests.support.images import encode, jpeg_bytes, png_bytes, private_exif, webp_bytes

IMAGES = "/api/v1/products/{}/images"
UNKNOWN_PRODUCT = "prd_01jd3w7k6q8r2m4n5p6s7t8v9x"
RENDITIONS = {"original", "thumb", "thumb.webp", "medium", "medium.webp", "large", "large.webp"}

# --- a fake outside world: DNS answers and a remote image host ---------------------------------

HOSTS = {
    "images.example.com": ["93.184.216.34"],
    "intranet.example": ["10.0.0.5"],
}
REMOTE_JPEG = jpeg_bytes((900, 600))


def resolve(host: str, port: int) -> list[str]:
    if host in HOSTS:
        return HOSTS[host]
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        raise OSError(f"unknown host {host}") from None


class RemoteHost:
    """An ``httpx.MockTransport`` handler playing images.example.com; records every request."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(str(request.url))
        path = request.url.path
        if path == "/shoe.jpg":
            return httpx.Response(200, content=REMOTE_JPEG, headers={"Content-Type": "image/jpeg"})
        if path.startswith("/r/"):  # /r/N redirects N more times before the image
            hops = int(path.removeprefix("/r/"))
            target = "/shoe.jpg" if hops == 0 else f"/r/{hops - 1}"
            return httpx.Response(302, headers={"Location": target})
        if path == "/to-intranet":
            return httpx.Response(302, headers={"Location": "http://intranet.example/admin"})
        if path == "/huge":
            return httpx.Response(200, content=b"\xff" * (10 * 1_048_576 + 1))
        if path == "/local.png":
            return httpx.Response(200, content=png_bytes((50, 50)))
        return httpx.Response(404, content=b"not here")


@pytest.fixture
def remote() -> RemoteHost:
    return RemoteHost()


@pytest.fixture
def container(
    db_url: str, tmp_path: Path, clock: FixedClock, remote: RemoteHost
) -> Iterator[Container]:
    """The default container, but on a fixed clock and with outbound HTTP and DNS faked."""
    c = build(
        test_settings(db_url, tmp_path),
        clock=clock,
        http_client=httpx.Client(transport=httpx.MockTransport(remote)),
        resolve=resolve,
    )
    yield c
    c.close()


@pytest.fixture
def product_id(container: Container, operator: Account) -> str:
    return make_product(container, operator).id


# --- helpers ----------------------------------------------------------------------------------


def upload(
    client: TestClient,
    account: Account | None,
    product_id: str,
    data: bytes,
    *,
    filename: str = "photo.jpg",
    content_type: str = "image/jpeg",
    alt: str | None = None,
) -> Any:
    return client.post(
        IMAGES.format(product_id),
        files={"file": (filename, data, content_type)},
        data={"alt": alt} if alt is not None else None,
        headers=account.headers if account else {},
    )


def error_fields(problem: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in problem.get("errors", [])]


def stored_files(container: Container) -> list[Path]:
    root = Path(container.settings.media_dir)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def image_rows(container: Container) -> int:
    with container.db.read() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM product_images")).scalar_one())


def events_of(container: Container, product_id: str) -> list[tuple[str, str | None]]:
    query = sa.text("SELECT type, actor_id FROM events WHERE subject_id = :id ORDER BY id")
    with container.db.read() as conn:
        return [(row[0], row[1]) for row in conn.execute(query, {"id": product_id})]


def image_events(container: Container, product_id: str) -> list[str]:
    return [t for t, _ in events_of(container, product_id) if "Image" in t]


# --- multipart upload -------------------------------------------------------------------------


def test_an_upload_stores_renditions_served_with_immutable_cache_headers(
    client: TestClient, container: Container, operator: Account, product_id: str
) -> None:
    # given a 1600x1200 JPEG with GPS data
    data = jpeg_bytes((1600, 1200), exif=private_exif(1).tobytes())

    # when an operator uploads it
    response = upload(client, operator, product_id, data, alt="Red and blue")

    # then the image is created with every rendition, sized to its longest side
    assert response.status_code == 201, response.text
    image = response.json()
    assert image["id"].startswith("img_")
    assert (image["product_id"], image["position"], image["alt"]) == (product_id, 0, "Red and blue")
    assert (image["width"], image["height"], image["format"]) == (1600, 1200, "JPEG")
    assert set(image["renditions"]) == RENDITIONS
    assert (image["renditions"]["thumb"]["width"], image["renditions"]["thumb"]["height"]) == (
        160,
        120,
    )
    assert image["renditions"]["large.webp"]["content_type"] == "image/webp"
    # and every file is in the local blob store under a content-hash name
    for rendition in image["renditions"].values():
        url: str = rendition["url"]
        assert url.startswith(f"/media/products/{product_id}/")
        assert (Path(container.settings.media_dir) / url.removeprefix("/media/")).is_file()
        # and is served with long-lived immutable caching and its hash as ETag
        served = client.get(url)
        assert served.status_code == 200
        assert served.headers["content-type"] == rendition["content_type"]
        assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
        digest = hashlib.sha256(served.content).hexdigest()
        assert served.headers["etag"] == f'"{digest}"'
        assert url.endswith(f"/{digest}.{url.rsplit('.', 1)[1]}")
        assert client.get(url, headers={"If-None-Match": served.headers["etag"]}).status_code == 304
    # and the stored original carries no EXIF
    original = client.get(image["renditions"]["original"]["url"]).content
    assert len(Image.open(io.BytesIO(original)).getexif()) == 0
    assert image["sha256"] == hashlib.sha256(original).hexdigest()
    # and the change is in the audit log, under the operator
    assert ("ProductImageAdded", operator.user.id) in events_of(container, product_id)
    # and the list shows it
    listed = client.get(IMAGES.format(product_id), headers=operator.headers)
    assert [i["id"] for i in listed.json()["items"]] == [image["id"]]


def test_the_same_image_twice_is_idempotent(
    client: TestClient, container: Container, operator: Account, product_id: str
) -> None:
    first = upload(client, operator, product_id, png_bytes((300, 200)))
    second = upload(client, operator, product_id, png_bytes((300, 200)), filename="again.png")

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"]
    assert image_rows(container) == 1
    assert image_events(container, product_id) == ["ProductImageAdded"]


def test_images_are_listed_in_position_order_and_can_be_reordered(
    client: TestClient, operator: Account, product_id: str
) -> None:
    ids = [
        upload(client, operator, product_id, data).json()["id"]
        for data in (jpeg_bytes((200, 100)), png_bytes((100, 100)), webp_bytes((100, 200)))
    ]

    response = client.put(
        IMAGES.format(product_id) + "/order",
        json={"image_ids": list(reversed(ids))},
        headers=operator.headers,
    )

    assert response.status_code == 200, response.text
    assert [i["id"] for i in response.json()["items"]] == list(reversed(ids))
    assert [i["position"] for i in response.json()["items"]] == [0, 1, 2]
    bad = client.put(
        IMAGES.format(product_id) + "/order", json={"image_ids": ids[:2]}, headers=operator.headers
    )
    assert error_fields(assert_problem(bad, 422)) == [("image_ids", "mismatch")]


def test_an_upload_larger_than_the_api_body_limit_but_within_the_image_limit_is_accepted(
    client: TestClient, container: Container, operator: Account, product_id: str
) -> None:
    # given a PNG of noise, bigger than the 1 MiB body limit of other routes
    noise = Image.frombytes("RGB", (700, 700), os.urandom(700 * 700 * 3))
    data = encode(noise, "PNG")
    assert container.settings.max_body_bytes < len(data) < container.settings.image_max_bytes

    response = upload(client, operator, product_id, data, filename="noise.png")

    assert response.status_code == 201, response.text


def test_a_body_over_the_image_limit_is_a_413(
    client: TestClient, container: Container, operator: Account, product_id: str
) -> None:
    data = b"\xff" * (container.settings.image_max_bytes + 128 * 1024)

    response = upload(client, operator, product_id, data)

    assert assert_problem(response, 413)["code"] == "payload_too_large"
    assert stored_files(container) == []


def test_a_file_just_over_the_image_limit_is_a_422_naming_file(
    client: TestClient, container: Container, operator: Account, product_id: str
) -> None:
    data = jpeg_bytes((100, 100)).ljust(container.settings.image_max_bytes + 1, b"\x00")

    response = upload(client, operator, product_id, data)

    assert error_fields(assert_problem(response, 422)) == [("file", "too_large")]


@pytest.mark.parametrize(
    ("data", "filename", "code"),
    [
        (b"just some text, not a picture\n" * 10, "photo.jpg", "not_an_image"),
        (jpeg_bytes((600, 400))[:2000], "cut.jpg", "corrupt"),
        (encode(Image.new("RGB", (20, 20)), "GIF"), "anim.gif", "unsupported_format"),
        (encode(Image.new("RGB", (20, 20)), "BMP"), "old.bmp", "unsupported_format"),
        (b"", "empty.jpg", "empty"),
    ],
)
def test_bad_files_are_a_422_naming_file_and_leave_nothing_behind(
    client: TestClient,
    container: Container,
    operator: Account,
    product_id: str,
    data: bytes,
    filename: str,
    code: str,
) -> None:
    response = upload(client, operator, product_id, data, filename=filename)

    problem = assert_problem(response, 422)
    assert error_fields(problem) == [("file", code)]
    assert stored_files(container) == []
    assert image_rows(container) == 0
    assert image_events(container, product_id) == []


def test_a_missing_file_field_and_a_too_long_alt_are_422s_naming_them(
    client: TestClient, operator: Account, product_id: str
) -> None:
    missing = client.post(IMAGES.format(product_id), data={"alt": "x"}, headers=operator.headers)
    assert [f for f, _ in error_fields(assert_problem(missing, 422))] == ["file"]

    long_alt = upload(client, operator, product_id, jpeg_bytes(), alt="x" * 301)
    assert [f for f, _ in error_fields(assert_problem(long_alt, 422))] == ["alt"]


def test_a_failed_insert_removes_the_blobs_it_wrote_and_a_retry_reuses_the_keys(
    client: TestClient,
    container: Container,
    operator: Account,
    product_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given the database refuses the row after the files were written
    real_insert = media_store.insert

    def failing_insert(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(media_store, "insert", failing_insert)
    data = jpeg_bytes((800, 600))

    # when the upload is tried
    response = upload(client, operator, product_id, data)

    # then it fails without a row, an event or a file left behind
    assert_problem(response, 500)
    assert (image_rows(container), stored_files(container)) == (0, [])
    assert image_events(container, product_id) == []

    # and a retry once the database is back succeeds with the same content-hash keys
    monkeypatch.setattr(media_store, "insert", real_insert)
    retry = upload(client, operator, product_id, data)
    assert retry.status_code == 201, retry.text
    assert len(stored_files(container)) == len(
        {r["url"] for r in retry.json()["renditions"].values()}
    )


# --- who may do what --------------------------------------------------------------------------


def test_only_operators_may_add_images(
    client: TestClient, customer: Account, product_id: str
) -> None:
    assert_problem(upload(client, customer, product_id, jpeg_bytes()), 403)
    assert_problem(upload(client, None, product_id, jpeg_bytes()), 401)
    assert_problem(client.get(IMAGES.format(product_id), headers=customer.headers), 403)


@pytest.mark.parametrize("missing", [UNKNOWN_PRODUCT, "not-an-id"])
def test_an_unknown_product_is_a_404(client: TestClient, operator: Account, missing: str) -> None:
    assert_problem(upload(client, operator, missing, jpeg_bytes()), 404)
    assert_problem(client.get(IMAGES.format(missing), headers=operator.headers), 404)


# --- import by URL ----------------------------------------------------------------------------


def import_url(client: TestClient, operator: Account, product_id: str, url: str) -> Any:
    return client.post(
        IMAGES.format(product_id) + "/import", json={"url": url}, headers=operator.headers
    )


def test_an_image_is_imported_from_a_public_url_following_redirects(
    client: TestClient, operator: Account, product_id: str, remote: RemoteHost
) -> None:
    response = import_url(client, operator, product_id, "https://images.example.com/r/2")

    assert response.status_code == 201, response.text
    assert (response.json()["width"], response.json()["height"]) == (900, 600)
    assert remote.requests[-1] == "https://images.example.com/shoe.jpg"


def test_a_loopback_url_is_imported_when_the_network_is_allowed(
    client: TestClient, operator: Account, product_id: str
) -> None:
    # the test settings allow 127.0.0.0/8, as they do for webhooks
    response = import_url(client, operator, product_id, "http://127.0.0.1:8080/local.png")

    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://10.1.2.3/shoe.jpg", "url_not_allowed"),
        ("http://169.254.169.254/latest/meta-data/", "url_not_allowed"),
        ("http://intranet.example/shoe.jpg", "url_not_allowed"),
        ("https://images.example.com/to-intranet", "url_not_allowed"),
        ("file:///etc/passwd", "url_not_allowed"),
        ("https://nowhere.invalid/shoe.jpg", "url_unresolvable"),
        ("https://images.example.com/r/3", "too_many_redirects"),
        ("https://images.example.com/missing.jpg", "upstream_status"),
        ("https://images.example.com/huge", "too_large"),
    ],
)
def test_bad_urls_are_a_422_naming_url(
    client: TestClient,
    container: Container,
    operator: Account,
    product_id: str,
    remote: RemoteHost,
    url: str,
    code: str,
) -> None:
    response = import_url(client, operator, product_id, url)

    problem = assert_problem(response, 422)
    assert error_fields(problem) == [("url", code)]
    # and nothing inside the private network was ever contacted, nothing was written
    assert {httpx.URL(r).host for r in remote.requests} <= {"images.example.com"}
    assert (image_rows(container), stored_files(container)) == (0, [])


def test_a_non_2xx_answer_names_the_status(
    client: TestClient, operator: Account, product_id: str
) -> None:
    response = import_url(client, operator, product_id, "https://images.example.com/gone.jpg")

    assert "404" in assert_problem(response, 422)["errors"][0]["message"]


# --- signed upload URLs -----------------------------------------------------------------------


def issue(client: TestClient, operator: Account, product_id: str) -> dict[str, Any]:
    response = client.post(
        IMAGES.format(product_id) + "/upload-url", json={"alt": "Direct"}, headers=operator.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_signed_upload_url_accepts_one_raw_image_without_a_bearer_token(
    client: TestClient, container: Container, operator: Account, product_id: str
) -> None:
    grant = issue(client, operator, product_id)
    assert grant["upload_url"].startswith("/api/v1/uploads/")
    assert grant["max_bytes"] == container.settings.image_max_bytes

    response = client.put(
        grant["upload_url"], content=png_bytes((640, 480)), headers={"Content-Type": "image/png"}
    )

    assert response.status_code == 201, response.text
    assert (response.json()["alt"], response.json()["format"]) == ("Direct", "PNG")
    # the audit log names the operator who asked for the URL
    assert ("ProductImageAdded", operator.user.id) in events_of(container, product_id)


def test_an_expired_upload_url_is_a_403(
    client: TestClient, clock: FixedClock, container: Container, operator: Account, product_id: str
) -> None:
    grant = issue(client, operator, product_id)
    clock.advance(container.settings.upload_url_ttl_s + 1)

    response = client.put(
        grant["upload_url"], content=jpeg_bytes(), headers={"Content-Type": "image/jpeg"}
    )

    assert assert_problem(response, 403)["code"] == "upload_url_expired"
    assert image_rows(container) == 0


def test_a_tampered_upload_url_is_a_401(
    client: TestClient, container: Container, operator: Account, product_id: str
) -> None:
    token = issue(client, operator, product_id)["upload_url"].removeprefix("/api/v1/uploads/")
    payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    other = issue(client, operator, make_product(container, operator).id)["upload_url"]
    other_payload = other.removeprefix("/api/v1/uploads/").split(".")[0]

    for forged in (f"{payload}.{flipped}", f"{other_payload}.{signature}", "garbage", "a.b.c"):
        response = client.put(
            f"/api/v1/uploads/{forged}",
            content=jpeg_bytes(),
            headers={"Content-Type": "image/jpeg"},
        )
        assert_problem(response, 401)
    assert image_rows(container) == 0


def test_an_upload_url_refuses_a_non_image_content_type(
    client: TestClient, operator: Account, product_id: str
) -> None:
    grant = issue(client, operator, product_id)

    response = client.put(
        grant["upload_url"], content=b"hello", headers={"Content-Type": "text/plain"}
    )

    assert error_fields(assert_problem(response, 422)) == [
        ("content_type", "unsupported_media_type")
    ]


def test_only_operators_get_upload_urls(
    client: TestClient, customer: Account, product_id: str
) -> None:
    response = client.post(IMAGES.format(product_id) + "/upload-url", headers=customer.headers)

    assert_problem(response, 403)


# --- removal and serving ----------------------------------------------------------------------


def test_removing_an_image_deletes_its_row_and_files(
    client: TestClient, container: Container, operator: Account, product_id: str
) -> None:
    image = upload(client, operator, product_id, jpeg_bytes((700, 500))).json()
    keep = upload(client, operator, product_id, png_bytes((300, 300))).json()
    url = image["renditions"]["medium"]["url"]

    response = client.delete(
        IMAGES.format(product_id) + f"/{image['id']}", headers=operator.headers
    )

    assert response.status_code == 204, response.text
    assert assert_problem(client.get(url), 404)
    listed = client.get(IMAGES.format(product_id), headers=operator.headers).json()["items"]
    assert [i["id"] for i in listed] == [keep["id"]]
    kept_files = {r["url"] for r in keep["renditions"].values()}
    assert {
        "/media/" + str(p.relative_to(container.settings.media_dir))
        for p in stored_files(container)
    } == kept_files
    assert image_events(container, product_id)[-1] == "ProductImageRemoved"
    again = client.delete(IMAGES.format(product_id) + f"/{image['id']}", headers=operator.headers)
    assert_problem(again, 404)


def test_only_operators_remove_images(
    client: TestClient, operator: Account, customer: Account, product_id: str
) -> None:
    image = upload(client, operator, product_id, jpeg_bytes()).json()

    response = client.delete(
        IMAGES.format(product_id) + f"/{image['id']}", headers=customer.headers
    )

    assert_problem(response, 403)


@pytest.mark.parametrize(
    "path",
    [
        "/media/exports/secret.csv",
        "/media/products/%2e%2e/%2e%2e/etc/passwd",
        "/media/products/prd_01jd3w7k6q8r2m4n5p6s7t8v9x/" + "0" * 64 + ".jpg",
        "/media/",
    ],
)
def test_media_serves_only_existing_rendition_files(
    client: TestClient, container: Container, path: str
) -> None:
    # given a private file in the same blob store
    container.blobs.put("exports/secret.csv", b"email,amount\n", "text/csv")

    assert_problem(client.get(path), 404)


def test_images_for_many_products_is_one_query(
    client: TestClient, container: Container, operator: Account
) -> None:
    products = [make_product(container, operator).id for _ in range(3)]
    for pid in products:
        upload(client, operator, pid, jpeg_bytes((200, 200)))
        upload(client, operator, pid, png_bytes((100, 100)))

    with StatementCounter(container.db.engine) as counter:
        found = container.media.images_for([*products, UNKNOWN_PRODUCT])

    assert [len(found[pid]) for pid in products] == [2, 2, 2]
    assert UNKNOWN_PRODUCT not in found
    assert len([s for s in counter.statements if "product_images" in s]) == 1


def test_a_shared_picture_is_stored_once_and_outlives_any_one_products_removal(
    client: TestClient, container: Container, operator: Account
) -> None:
    # given one picture shared by two products
    first, second = make_product(container, operator).id, make_product(container, operator).id
    shared = SharedPictures(container.db, container.blobs, container.media.rules, container.clock)
    picture = shared.store(jpeg_bytes((800, 600)))
    assert shared.attach([(first, picture, "a"), (second, picture, "b")]) == [first, second]
    files = stored_files(container)

    # when it is attached again, and then removed from the first product
    assert shared.attach([(first, picture, "a")]) == []
    listed = client.get(IMAGES.format(first), headers=operator.headers).json()["items"]
    removed = client.delete(IMAGES.format(first) + f"/{listed[0]['id']}", headers=operator.headers)

    # then its files were written once, under shared keys, and the second product still shows it
    assert removed.status_code == 204, removed.text
    assert files == stored_files(container)
    assert all("/shared/" in str(path) for path in files)
    other = client.get(IMAGES.format(second), headers=operator.headers).json()["items"][0]
    served = client.get(other["renditions"]["thumb"]["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
