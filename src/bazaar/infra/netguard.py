"""SSRF guard: refuse outbound URLs that point into private or internal networks.

Anything Bazaar fetches or posts to on a user's behalf (webhook endpoints, image-by-URL
imports) goes through :func:`check_outbound_url` first. The host is resolved and *every*
address it resolves to must be public; a name with one public and one private record is
refused, since the HTTP client may pick either.

Checking the name is not enough on its own: DNS can answer differently a moment later (DNS
rebinding). Callers that can should connect to one of the returned addresses rather than
resolving the host again.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from urllib.parse import urlsplit

from bazaar.kernel.errors import ValidationFailed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

ALLOWED_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

# Cloud instance-metadata endpoints (AWS/GCP/Azure/OpenStack, and AWS's IPv6 one). They are
# link-local or ULA and so refused anyway; named here so the error says what was hit.
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Parse CIDR strings such as ``"127.0.0.0/8"`` or ``"::1/128"``; blank entries are skipped.

    Raises ValueError for anything that is not a network, including one with host bits set
    (``"127.0.0.1/8"``), which is almost always a typo.
    """
    networks: list[IPNetwork] = []
    for raw in values:
        value = raw.strip()
        if not value:
            continue
        try:
            networks.append(ipaddress.ip_network(value, strict=True))
        except ValueError as exc:
            raise ValueError(f"invalid network {raw!r}: {exc}") from exc
    return tuple(networks)


def resolve_host(host: str, port: int) -> list[str]:
    """Resolve ``host`` with the system resolver; return its distinct addresses in order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = str(sockaddr[0]).split("%", 1)[0]  # drop an IPv6 zone id ("fe80::1%eth0")
        if address not in addresses:
            addresses.append(address)
    return addresses


def _refusal_reason(ip: IPAddress) -> str | None:
    """Say why ``ip`` must not be contacted, or return None if it is a public address."""
    if ip in METADATA_ADDRESSES:
        return "the cloud metadata service"
    if isinstance(ip, ipaddress.IPv6Address):
        # Addresses that embed an IPv4 address are judged by the embedded one as well.
        for embedded in (ip.ipv4_mapped, ip.sixtofour):
            if embedded is not None:
                reason = _refusal_reason(embedded)
                if reason is not None:
                    return reason
        if ip.is_site_local:
            return "a site-local address"
    checks = (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        # Catches what the flags above miss, e.g. carrier-grade NAT 100.64.0.0/10.
        (not ip.is_global, "a non-public address"),
    )
    for refused, reason in checks:
        if refused:
            return reason
    return None


def _is_allowed(ip: IPAddress, allowed_networks: Sequence[IPNetwork]) -> bool:
    candidates: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        candidates.append(ip.ipv4_mapped)
    return any(candidate in network for candidate in candidates for network in allowed_networks)


def check_outbound_url(
    url: str,
    *,
    allowed_networks: Sequence[IPNetwork] = (),
    resolve: Resolver | None = None,
    field: str = "url",
) -> list[str]:
    """Check that ``url`` may be requested from inside Bazaar; return the host's addresses.

    Guarantees, when it returns: the scheme is http or https, there is a host and no
    ``user:pass@`` part, the port is 1-65535, and every address the host resolves to is public
    or inside ``allowed_networks``. Otherwise raises ``ValidationFailed`` on ``field`` with code
    ``url_not_allowed`` (or ``url_unresolvable`` when the host does not resolve).
    """

    def refuse(message: str, code: str = "url_not_allowed") -> ValidationFailed:
        return ValidationFailed.on(field, message, code=code)

    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise refuse(f"The URL is malformed: {exc}.") from exc
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise refuse("Only http and https URLs are allowed.")
    if "@" in parts.netloc:
        raise refuse("URLs with credentials (user:password@host) are not allowed.")
    host = parts.hostname
    if not host:
        raise refuse("The URL has no host.")
    if port is None:
        port = _DEFAULT_PORTS[scheme]
    if not 1 <= port <= 65535:
        raise refuse("The URL port must be between 1 and 65535.")

    try:
        addresses = (resolve or resolve_host)(host, port)
    except (OSError, UnicodeError) as exc:
        raise refuse(f"The host {host!r} could not be resolved.", "url_unresolvable") from exc
    if not addresses:
        raise refuse(f"The host {host!r} could not be resolved.", "url_unresolvable")

    for address in addresses:
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError as exc:
            raise refuse(
                f"The host {host!r} resolved to an invalid address.", "url_unresolvable"
            ) from exc
        if _is_allowed(ip, allowed_networks):
            continue
        reason = _refusal_reason(ip)
        if reason is not None:
            raise refuse(
                f"The host {host!r} resolves to {address}, {reason}; requests to internal "
                "networks are not allowed."
            )
    return list(addresses)
