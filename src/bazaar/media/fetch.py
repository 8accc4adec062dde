"""Import an image by URL without becoming a proxy into the private network.

Every hop is checked with :func:`check_outbound_url` before it is requested: only http and
https, no private, loopback, link-local or cloud-metadata addresses (unless an operator allowed
a network in ``webhook_allowed_networks``). Redirects are followed by hand, at most
``max_redirects`` times, each target checked like the first URL. One deadline covers the whole
import, redirects included, and reading stops as soon as the body passes ``max_bytes``.

Every refusal is a ``ValidationFailed`` on the ``url`` field (422): the problem is the URL the
caller gave, not Bazaar.

Known gap: the host is resolved once for the check and again by the HTTP client, so a DNS
server that answers differently within that moment (DNS rebinding) could slip past the check.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import httpx

from bazaar import __version__
from bazaar.infra.netguard import IPNetwork, Resolver, check_outbound_url
from bazaar.kernel.errors import ValidationFailed

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_ACCEPT = "image/jpeg, image/png, image/webp;q=0.9, */*;q=0.1"


class ImageFetcher:
    def __init__(
        self,
        client: httpx.Client,
        *,
        max_bytes: int,
        timeout_s: float,
        allowed_networks: Sequence[IPNetwork] = (),
        resolve: Resolver | None = None,
        max_redirects: int = 3,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._max_bytes = max_bytes
        self._timeout_s = timeout_s
        self._allowed_networks = tuple(allowed_networks)
        self._resolve = resolve
        self._max_redirects = max_redirects
        self._monotonic = monotonic

    @staticmethod
    def build_client() -> httpx.Client:
        # Redirects are followed by hand: a redirect could point at an internal address.
        return httpx.Client(
            follow_redirects=False, headers={"User-Agent": f"Bazaar-Media/{__version__}"}
        )

    def fetch(self, url: str, *, field: str = "url") -> bytes:
        """Return the body at ``url``; raise ``ValidationFailed`` on ``field`` otherwise.

        Codes: ``url_not_allowed``/``url_unresolvable`` (the guard), ``too_many_redirects``,
        ``upstream_status`` (a non-2xx answer), ``too_large``, ``timeout``, ``fetch_failed``.
        """
        deadline = self._monotonic() + self._timeout_s
        current = url.strip()
        for _hop in range(self._max_redirects + 1):
            check_outbound_url(
                current, allowed_networks=self._allowed_networks, resolve=self._resolve, field=field
            )
            remaining = deadline - self._monotonic()
            if remaining <= 0:
                raise self._timed_out(field)
            request = self._client.build_request(
                "GET",
                current,
                headers={"Accept": _ACCEPT, "Accept-Encoding": "identity"},
                timeout=httpx.Timeout(remaining),
            )
            try:
                response = self._client.send(request, stream=True, follow_redirects=False)
            except httpx.TimeoutException as exc:
                raise self._timed_out(field) from exc
            except httpx.HTTPError as exc:
                raise self._failed(field, exc) from exc
            try:
                location = response.headers.get("location")
                if response.status_code in _REDIRECTS and location:
                    current = str(response.url.join(location))
                    continue
                if not 200 <= response.status_code < 300:
                    raise ValidationFailed.on(
                        field,
                        f"The server answered HTTP {response.status_code}",
                        "upstream_status",
                    )
                return self._read(response, deadline, field)
            except httpx.TimeoutException as exc:
                raise self._timed_out(field) from exc
            except httpx.HTTPError as exc:
                raise self._failed(field, exc) from exc
            finally:
                response.close()
        raise ValidationFailed.on(
            field, f"More than {self._max_redirects} redirects", "too_many_redirects"
        )

    def _read(self, response: httpx.Response, deadline: float, field: str) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise self._too_large(field)
        chunks: list[bytes] = []
        received = 0
        for chunk in response.iter_bytes():
            received += len(chunk)
            if received > self._max_bytes:
                raise self._too_large(field)
            # Per-read timeouts alone let a server drip one byte at a time for ever.
            if self._monotonic() > deadline:
                raise self._timed_out(field)
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, field: str) -> ValidationFailed:
        return ValidationFailed.on(
            field, f"The image is larger than the limit of {self._max_bytes} bytes", "too_large"
        )

    def _timed_out(self, field: str) -> ValidationFailed:
        return ValidationFailed.on(
            field, f"The image could not be fetched within {self._timeout_s:g} s", "timeout"
        )

    @staticmethod
    def _failed(field: str, exc: httpx.HTTPError) -> ValidationFailed:
        return ValidationFailed.on(
            field, f"The image could not be fetched ({type(exc).__name__})", "fetch_failed"
        )
