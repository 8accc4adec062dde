"""SSRF guard for outbound URLs, with a fake resolver (no DNS)."""

from __future__ import annotations

import socket
from collections.abc import Sequence

import pytest

from bazaar.infra.netguard import IPNetwork, Resolver, check_outbound_url, parse_networks
from bazaar.kernel.errors import ValidationFailed


def resolver(*addresses: str) -> Resolver:
    def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


def fake_dns(table: dict[str, list[str]]) -> Resolver:
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]

    return resolve


def refusal(
    url: str, *addresses: str, allowed_networks: Sequence[IPNetwork] = ()
) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        check_outbound_url(
            url,
            resolve=fake_dns({"hooks.example.com": list(addresses)}),
            allowed_networks=allowed_networks,
        )
    return caught.value


@pytest.mark.parametrize(
    "addresses",
    [["93.184.216.34"], ["8.8.8.8", "1.1.1.1"], ["2606:4700:4700::1111"]],
)
def test_public_addresses_are_allowed(addresses: list[str]) -> None:
    result = check_outbound_url(
        "https://hooks.example.com/bazaar", resolve=fake_dns({"hooks.example.com": addresses})
    )

    assert result == addresses


def test_resolver_receives_host_and_default_port() -> None:
    calls: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append((host, port))
        return ["93.184.216.34"]

    check_outbound_url("https://Hooks.Example.com/x", resolve=resolve)
    check_outbound_url("http://hooks.example.com:8080/x", resolve=resolve)

    assert calls == [("hooks.example.com", 443), ("hooks.example.com", 8080)]


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.5",
        "172.16.3.4",
        "172.31.255.255",
        "192.168.1.1",
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "fe80::1",
        "fec0::1",  # IPv6 site-local
        "fd12:3456::1",  # unique local
        "169.254.169.254",
        "169.254.1.1",
        "0.0.0.0",  # noqa: S104 - an address to refuse, not a bind
        "::",
        "::ffff:127.0.0.1",
        "::ffff:10.1.2.3",
        "::ffff:169.254.169.254",
        "2002:7f00:1::",  # 6to4 wrapping 127.0.0.1
        "224.0.0.1",
        "239.255.255.250",
        "ff02::1",
        "240.0.0.1",  # reserved
        "100.64.0.1",  # carrier-grade NAT
    ],
)
def test_internal_addresses_are_refused(address: str) -> None:
    error = refusal("https://hooks.example.com/", address)

    assert error.errors[0].code == "url_not_allowed"
    assert error.errors[0].field == "url"
    assert address in error.detail or "metadata" in error.detail


def test_metadata_address_is_named() -> None:
    error = refusal("http://hooks.example.com/", "169.254.169.254")

    assert "metadata" in error.detail


def test_one_private_address_among_public_ones_is_refused() -> None:
    error = refusal("https://hooks.example.com/", "93.184.216.34", "10.0.0.1")

    assert error.errors[0].code == "url_not_allowed"


def test_allowed_networks_let_loopback_through() -> None:
    allowed = parse_networks(["127.0.0.0/8"])

    result = check_outbound_url(
        "http://hooks.example.com:8000/", resolve=resolver("127.0.0.1"), allowed_networks=allowed
    )

    assert result == ["127.0.0.1"]


def test_allowed_networks_cover_ipv4_mapped_form() -> None:
    allowed = parse_networks(["127.0.0.0/8"])

    result = check_outbound_url(
        "http://hooks.example.com/", resolve=resolver("::ffff:127.0.0.1"), allowed_networks=allowed
    )

    assert result == ["::ffff:127.0.0.1"]


def test_allowed_networks_do_not_open_other_ranges() -> None:
    allowed = parse_networks(["127.0.0.0/8"])

    error = refusal("http://hooks.example.com/", "10.0.0.1", allowed_networks=allowed)

    assert error.errors[0].code == "url_not_allowed"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/file",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "gopher://hooks.example.com/",
        "hooks.example.com/no-scheme",
        "https://user:pass@hooks.example.com/",
        "https://user@hooks.example.com/",
        "https:///path-only",
        "https://",
        "http://hooks.example.com:0/",
        "http://hooks.example.com:70000/",
        "http://hooks.example.com:abc/",
        "http://[::1/",
    ],
)
def test_bad_urls_are_refused_before_resolving(url: str) -> None:
    def must_not_resolve(host: str, port: int) -> list[str]:
        raise AssertionError("resolver called")

    with pytest.raises(ValidationFailed) as caught:
        check_outbound_url(url, resolve=must_not_resolve, field="body.url")

    assert caught.value.errors[0].code == "url_not_allowed"
    assert caught.value.errors[0].field == "body.url"


@pytest.mark.parametrize("addresses", [None, []])
def test_unresolvable_host_is_refused(addresses: list[str] | None) -> None:
    table = {} if addresses is None else {"hooks.example.com": addresses}

    with pytest.raises(ValidationFailed) as caught:
        check_outbound_url("https://hooks.example.com/", resolve=fake_dns(table))

    assert caught.value.errors[0].code == "url_unresolvable"


def test_parse_networks_accepts_ipv4_and_ipv6_and_skips_blanks() -> None:
    networks = parse_networks(["127.0.0.0/8", " ::1/128 ", ""])

    assert [str(n) for n in networks] == ["127.0.0.0/8", "::1/128"]


@pytest.mark.parametrize("value", ["not-a-network", "127.0.0.1/8", "10.0.0.0/33", "::1/129"])
def test_parse_networks_rejects_bad_input(value: str) -> None:
    with pytest.raises(ValueError, match="invalid network"):
        parse_networks([value])
