"""The listing image prober remembers: a URL's verdict for a while, an image's bytes for good,
and never that a host was down. The image host is an ``httpx.MockTransport``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bazaar.listings import images
from bazaar.listings.checks import ImageOutcome
from bazaar.listings.images import MediaImageProber
from bazaar.media.fetch import ImageFetcher
from bazaar.media.model import ImageRules
from tests.support.images import png_bytes

PNG = png_bytes((30, 20))


class Host:
    """Serves ``PNG`` at every path but /missing (404) and /text (not an image); ``down``
    answers 503. Counts the requests it got."""

    def __init__(self) -> None:
        self.down = False
        self.requests = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.down:
            return httpx.Response(503)
        if request.url.path == "/missing":
            return httpx.Response(404)
        if request.url.path == "/text":
            return httpx.Response(200, content=b"plain words")
        return httpx.Response(200, content=PNG)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def host() -> Host:
    return Host()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The bytes the media pipeline was asked to decode, in order."""
    seen: list[bytes] = []
    real = images.check_image

    def counting(data: bytes, rules: ImageRules, **kwargs: Any) -> Any:
        seen.append(data)
        return real(data, rules, **kwargs)

    monkeypatch.setattr(images, "check_image", counting)
    return seen


@pytest.fixture
def prober(host: Host, clock: Clock) -> MediaImageProber:
    fetcher = ImageFetcher(
        httpx.Client(transport=httpx.MockTransport(host)),
        max_bytes=100_000,
        timeout_s=5.0,
        resolve=lambda name, port: ["93.184.216.34"],
    )
    return MediaImageProber(fetcher, ImageRules(), ok_ttl_s=600, refused_ttl_s=60, monotonic=clock)


def test_a_url_is_fetched_once_while_its_verdict_stands(
    prober: MediaImageProber, host: Host, clock: Clock, decodes: list[bytes]
) -> None:
    # given an image probed once
    assert prober.probe("https://img.example/a.png").outcome is ImageOutcome.OK

    # when another listing names it within ten minutes, then it is not fetched again
    clock.now = 599
    assert prober.probe("https://img.example/a.png").outcome is ImageOutcome.OK
    assert (host.requests, len(decodes)) == (1, 1)

    # and after that, it is fetched again (the bytes, known, are not decoded again)
    clock.now = 601
    assert prober.probe("https://img.example/a.png").outcome is ImageOutcome.OK
    assert (host.requests, len(decodes)) == (2, 1)


def test_the_same_bytes_at_another_url_are_not_decoded_again(
    prober: MediaImageProber, host: Host, decodes: list[bytes]
) -> None:
    # when two URLs serve the same picture
    first = prober.probe("https://img.example/a.png")
    second = prober.probe("https://cdn.example/a.png?w=800")

    # then both are fetched and judged alike, the picture decoded once
    assert (first.outcome, second.outcome) == (ImageOutcome.OK, ImageOutcome.OK)
    assert host.requests == 2
    assert decodes == [PNG]


def test_a_refusal_is_remembered_only_briefly(
    prober: MediaImageProber, host: Host, clock: Clock
) -> None:
    # given a broken link and a file that is not an image
    assert prober.probe("https://img.example/missing").outcome is ImageOutcome.NOT_FOUND
    assert prober.probe("https://img.example/text").outcome is ImageOutcome.NOT_AN_IMAGE

    # when they are named again within a minute, then the host is not asked again
    clock.now = 59
    assert prober.probe("https://img.example/missing").outcome is ImageOutcome.NOT_FOUND
    assert prober.probe("https://img.example/text").outcome is ImageOutcome.NOT_AN_IMAGE
    assert host.requests == 2

    # but a seller who fixed the link is heard a minute later
    clock.now = 61
    prober.probe("https://img.example/missing")
    assert host.requests == 3


def test_a_host_that_was_down_is_asked_again_on_the_retry(
    prober: MediaImageProber, host: Host
) -> None:
    # given a host answering 503
    host.down = True
    assert prober.probe("https://img.example/a.png").outcome is ImageOutcome.UNREACHABLE

    # when it is back, then the retry fetches the image and finds it
    host.down = False
    assert prober.probe("https://img.example/a.png").outcome is ImageOutcome.OK
    assert host.requests == 2
