"""Image import by URL: the SSRF guard on every hop, the byte cap and the total deadline."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from bazaar.infra.netguard import parse_networks
from bazaar.kernel.errors import ValidationFailed
from bazaar.media.fetch import ImageFetcher

PUBLIC = {"img.example.com": ["93.184.216.34"], "rebind.example.com": ["192.168.1.20"]}


def resolve(host: str, port: int) -> list[str]:
    return PUBLIC.get(host, [host])


def fetcher(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    max_bytes: int = 1000,
    allowed: tuple[str, ...] = (),
    monotonic: Callable[[], float] | None = None,
) -> ImageFetcher:
    return ImageFetcher(
        httpx.Client(transport=httpx.MockTransport(handler)),
        max_bytes=max_bytes,
        timeout_s=5.0,
        allowed_networks=parse_networks(allowed),
        resolve=resolve,
        **({"monotonic": monotonic} if monotonic else {}),
    )


def refusal_code(image_fetcher: ImageFetcher, url: str) -> str:
    with pytest.raises(ValidationFailed) as caught:
        image_fetcher.fetch(url)
    [error] = caught.value.errors
    assert error.field == "url"
    return error.code


def never_called(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no request should be made, got {request.url}")


def test_a_body_is_returned_for_a_public_url() -> None:
    f = fetcher(lambda request: httpx.Response(200, content=b"image bytes"))

    assert f.fetch("https://img.example.com/a.jpg") == b"image bytes"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/a.jpg",
        "http://[::1]/a.jpg",
        "http://169.254.169.254/latest/meta-data/",
        "http://rebind.example.com/a.jpg",
        "ftp://img.example.com/a.jpg",
        "http://user:pw@img.example.com/a.jpg",
    ],
)
def test_internal_and_odd_urls_are_refused_before_connecting(url: str) -> None:
    assert refusal_code(fetcher(never_called), url) == "url_not_allowed"


def test_an_allowed_network_may_be_fetched_from() -> None:
    f = fetcher(lambda request: httpx.Response(200, content=b"ok"), allowed=("127.0.0.0/8",))

    assert f.fetch("http://127.0.0.1:9000/a.jpg") == b"ok"


def test_a_redirect_into_the_private_network_is_refused() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(301, headers={"Location": "http://10.0.0.7/"})

    assert refusal_code(fetcher(handler), "https://img.example.com/a.jpg") == "url_not_allowed"
    assert seen == ["https://img.example.com/a.jpg"]


def test_a_declared_length_over_the_cap_is_refused_without_reading() -> None:
    f = fetcher(lambda request: httpx.Response(200, headers={"Content-Length": "5000"}))

    assert refusal_code(f, "https://img.example.com/a.jpg") == "too_large"


def test_a_streamed_body_over_the_cap_stops_being_read() -> None:
    pulled = 0

    def chunks() -> Iterator[bytes]:
        nonlocal pulled
        for _ in range(100):
            pulled += 1
            yield b"x" * 300

    f = fetcher(lambda request: httpx.Response(200, content=chunks()))

    assert refusal_code(f, "https://img.example.com/a.jpg") == "too_large"
    assert pulled < 10


def test_a_timeout_is_a_refusal() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    assert refusal_code(fetcher(handler), "https://img.example.com/a.jpg") == "timeout"


def test_a_slow_drip_hits_the_total_deadline() -> None:
    # given a server that keeps sending, while the clock runs past the 5 s deadline
    now = [0.0]

    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            now[0] += 2.0
            yield b"x"

    f = fetcher(lambda request: httpx.Response(200, content=chunks()), monotonic=lambda: now[0])

    assert refusal_code(f, "https://img.example.com/a.jpg") == "timeout"


def test_a_connection_error_is_a_refusal() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    assert refusal_code(fetcher(handler), "https://img.example.com/a.jpg") == "fetch_failed"
