"""Which addresses a destination may connect to: public ones, unless the operator allows private.

A destination URL is typed by workspace members; without this rule a webhook could reach the
machine's own services, the private network or a cloud metadata endpoint (169.254.169.254)
and show what came back in the delivery view (server-side request forgery). The rule is
checked on the resolved addresses at connect time, by the code that then connects to exactly
the address checked, so a name that resolves to 127.0.0.1, or resolves differently a moment
later (DNS rebinding), is refused too. `Settings.allow_private_destinations` lifts it.

Hooks: aiohttp delivery (segue/pipeline/http.py), the stream transports
(segue/pipeline/transports/), and httpx for test sends and OAuth token requests (below).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any, Iterable

import httpcore
import httpx

ALLOW_HINT = "set SEGUE_ALLOW_PRIVATE_DESTINATIONS=1 to allow it"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class DestinationRefused(Exception):
    """A destination whose address is not public; permanent (`retryable` is False)."""

    retryable = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def refusal(address: str | IPAddress) -> str | None:
    """Why `address` is not a public destination ("a private address"...), or None when it is."""
    ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str) else address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    for kind, matches in _KINDS:
        if matches(ip):
            return kind
    return None


_KINDS = (  # order: the most specific name first (169.254.169.254 is link-local, not "private")
    ("a loopback address", lambda ip: ip.is_loopback),
    ("an unspecified address", lambda ip: ip.is_unspecified),
    ("a link-local address", lambda ip: ip.is_link_local),
    ("a multicast address", lambda ip: ip.is_multicast),
    ("a reserved address", lambda ip: ip.is_reserved),
    ("a private address", lambda ip: ip.is_private),  # RFC 1918, RFC 4193 (fc00::/7), documentation...
    ("a non-public address", lambda ip: not ip.is_global),  # 100.64/10 shared address space and the like
)


def check_address(address: str, host: str | None = None) -> None:
    """Raise DestinationRefused when `address` (resolved from `host`) is not public."""
    kind = refusal(address)
    if kind is not None:
        named = address if not host or host == address else f"{host} ({address})"
        raise DestinationRefused(f"refused: {named} is {kind}; {ALLOW_HINT}")


def public_only(host: str, addresses: Iterable[str]) -> list[str]:
    """The addresses that may be connected to; DestinationRefused naming the first refused when none."""
    addresses = list(addresses)
    allowed = [address for address in addresses if refusal(address) is None]
    if not allowed and addresses:
        check_address(addresses[0], host)
    return allowed


def resolve_public(host: str, port: int) -> str:
    """One public address of `host` (blocking DNS); DestinationRefused when it has none."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return public_only(host, [info[4][0] for info in infos])[0]


async def resolve_public_async(host: str, port: int) -> str:
    """`resolve_public` without blocking the event loop."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return public_only(host, [info[4][0] for info in infos])[0]


class _PublicBackend(httpcore.SyncBackend):
    """httpcore's socket backend connecting only to a checked public address of the host.

    TLS still verifies the host name: httpcore passes the URL's host as SNI, not this address.
    """

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        try:
            address = resolve_public(host, port)
        except (DestinationRefused, OSError) as error:  # httpx shows httpcore's errors, not others
            raise httpcore.ConnectError(str(error)) from None
        return super().connect_tcp(address, port, timeout, local_address, socket_options)


def httpx_client(allow_private: bool, **options: Any) -> httpx.Client:
    """An httpx client for destination traffic (test sends, OAuth token requests) obeying the rule."""
    if allow_private:
        return httpx.Client(**options)
    transport = httpx.HTTPTransport()
    # httpx has no public hook for the connect step; its transport's pool takes a network backend.
    transport._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(), network_backend=_PublicBackend())
    # trust_env off: an HTTP_PROXY from the environment would connect on our behalf, unchecked.
    return httpx.Client(transport=transport, trust_env=False, **options)
