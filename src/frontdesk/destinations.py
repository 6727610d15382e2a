"""Where http_request steps and media fetched from a URL may connect: the address guard, and the
address the call then uses.

A workflow author (or an API client) chooses the URL, so a call could reach the deployment's own
network. The host is resolved once; every address it resolves to is checked (loopback, private,
link-local, multicast, reserved — also when hidden inside an IPv6 form: IPv4-mapped, IPv4-compatible, 6to4,
NAT64); the call then connects to the checked address, with the original Host header and TLS
server name. Resolving again at connect time would let a DNS answer change in between (rebinding).

Also what every outbound call shares: one TLS context, and reading a `Retry-After` answer.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import httpx

from frontdesk.clock import now

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the IPv4 address is the last 32 bits
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: local translators, never global
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated, but some stacks still route it


class Refused(Exception):
    """The URL may not be called; the message says why (it is recorded on the step)."""


@dataclass(frozen=True)
class Destination:
    """What to send the request to: the URL to connect to, and what keeps the original host."""

    url: httpx.URL
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def pin(url: str, allow_private: bool, resolve: Resolver = system_resolver) -> Destination:
    """Resolve `url`'s host once, check every address and return a destination that connects to
    the first one (the system's preferred); with `allow_private`, `url` as it is. Raises Refused."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise Refused(f"refused {url!r}: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise Refused(f"refused {url!r}: only http(s) URLs with a host")
    host = parsed.raw_host.decode("ascii")  # an IDN as its punycode, as DNS and TLS know it
    if allow_private:  # nothing to protect: let the connection try every address, as usual
        return Destination(parsed)
    try:
        addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in await resolve(host, parsed.port or 443)]
    except (OSError, ValueError) as exc:
        raise Refused(f"cannot resolve {host}: {exc}") from None
    if not addresses:
        raise Refused(f"cannot resolve {host}: no address")
    for address in addresses:
        problem = refusal(address)
        if problem:
            raise Refused(f"refused {host}: {address} {problem}")
    return _to(parsed, host, addresses[0])


def refusal(address: IPAddress) -> str | None:
    """None when `address` is a public unicast one, else what it is."""
    if address.is_multicast:
        return "is a multicast address"
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64_LOCAL:
            return "is a local-use NAT64 address"
        embedded = _embedded_ipv4(address)
        if embedded is not None and (not embedded.is_global or embedded.is_multicast):
            return f"embeds {embedded}, a private, loopback or reserved address"
    if not address.is_global:
        return "is a private, loopback or reserved address"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or address in _IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _to(parsed: httpx.URL, host: str, address: IPAddress) -> Destination:
    if host == str(address):  # an address literal: nothing to keep
        return Destination(parsed)
    extensions: dict[str, Any] = {"sni_hostname": host} if parsed.scheme == "https" else {}
    return Destination(parsed.copy_with(host=str(address)), {"host": parsed.netloc.decode("ascii")}, extensions)


@cache
def tls_context() -> ssl.SSLContext:
    """One context for every call: loading the CA bundle per client costs milliseconds."""
    return httpx.create_ssl_context()


def retry_after(value: str | None) -> float | None:
    """An HTTP `Retry-After` header in seconds: delay-seconds, or an HTTP date (RFC 9110 §10.2.3);
    None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now()).total_seconds())
