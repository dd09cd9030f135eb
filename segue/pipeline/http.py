"""Outgoing HTTP for cloud-mode delivery, on one aiohttp session.

Why aiohttp here when the rest of Segue uses httpx: delivery makes many small requests to the
same hosts, and aiohttp's client does that several times faster (measured on this project's
benchmark sink, 8 concurrent requests on uvloop: httpx ~600 requests/s, aiohttp ~3,900; see
docs/benchmarks.md). httpx stays for the control plane's one-off calls (test events, OAuth).

The session is created on first use, inside the running event loop, and reuses connections
per host. Redirects are not followed: a destination that answers 3xx is told so. Unless
`allow_private` is set, the connector connects only to public addresses (segue/pipeline/addresses.py).
"""

from __future__ import annotations

import asyncio
import functools
import socket
from typing import Mapping

import aiohttp

from segue import __version__
from segue.destinations.contract import Request
from segue.pipeline.addresses import DestinationRefused, public_only

READ_BODY_BYTES = 64 * 1024  # read at most this much of a response (interpret needs the body)
USER_AGENT = f"Segue/{__version__} (+https://github.com/segue-cdp/segue)"
MAX_CONNECTIONS = 1_000  # all destinations together; each is also bounded by its own concurrency


class HttpClient:
    """Sends a `Request` and returns `(status, headers, body)`; raises aiohttp/OS errors."""

    def __init__(self, allow_private: bool = False) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._connector_class = aiohttp.TCPConnector if allow_private else PublicOnlyConnector

    async def request(self, request: Request, timeout: float) -> tuple[int, Mapping[str, str], bytes]:
        skip = () if _has_header(request.headers, "content-type") else ("Content-Type",)
        async with self._open().request(
            request.method, request.url, headers=request.headers, data=request.body,
            timeout=_timeout(timeout), allow_redirects=False, skip_auto_headers=skip,
        ) as response:
            return response.status, response.headers, await _read_some(response.content)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = self._connector_class(limit=MAX_CONNECTIONS, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=connector, headers={"User-Agent": USER_AGENT})
        return self._session


class PublicOnlyConnector(aiohttp.TCPConnector):
    """A connector that connects only to public addresses.

    `_resolve_host` is the one step between a URL's host (a name, cached or not, or an IP
    literal) and the addresses aiohttp then connects to, so filtering its answer checks exactly
    what is connected to: no window for DNS rebinding. (A resolver wrapper would miss IP literals,
    which aiohttp never passes to the resolver.)
    """

    async def _resolve_host(self, host: str, port: int, traces=None):  # type: ignore[override]
        results = await super()._resolve_host(host, port, traces=traces)
        allowed = set(public_only(host, [result["host"] for result in results]))
        return [result for result in results if result["host"] in allowed]


@functools.lru_cache(maxsize=16)
def _timeout(seconds: float) -> aiohttp.ClientTimeout:
    """One (immutable) timeout object per value instead of one per request."""
    return aiohttp.ClientTimeout(total=seconds)


def _has_header(headers: Mapping[str, str], name: str) -> bool:
    return any(key.lower() == name for key in headers)


async def _read_some(stream: aiohttp.StreamReader) -> bytes:
    body = bytearray()
    while len(body) < READ_BODY_BYTES:
        chunk = await stream.read(READ_BODY_BYTES - len(body))
        if not chunk:
            break
        body += chunk
    return bytes(body)


EXPECTED_ERRORS = (DestinationRefused, aiohttp.ClientError, OSError, asyncio.TimeoutError, ValueError, UnicodeError)


def describe_error(error: BaseException, timeout: float) -> tuple[bool, str]:
    """`(retryable, message)` for a failed request, naming the cause the way people search for it."""
    if isinstance(error, DestinationRefused):
        return False, error.message
    if isinstance(error, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return True, f"timeout after {timeout:g} s"
    if isinstance(error, (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError, UnicodeError, ValueError)):
        return False, f"invalid request: {error}"
    for cause in _causes(error):
        message = _os_cause(cause)
        if message:
            return True, message
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return True, "connection lost: the destination closed the connection"
    if isinstance(error, aiohttp.ClientConnectorError):
        return True, f"cannot connect: {error}"
    return True, f"{type(error).__name__}: {error}"


def _os_cause(cause: BaseException) -> str | None:
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    if isinstance(cause, socket.gaierror):
        return f"DNS lookup failed: {cause.strerror or cause}"
    if isinstance(cause, aiohttp.ClientConnectorDNSError):
        return f"DNS lookup failed: {cause.os_error.strerror or cause.os_error}"
    if isinstance(cause, ConnectionResetError):
        return "connection reset by the destination"
    return None


def _causes(error: BaseException | None) -> list[BaseException]:
    """The error and what caused it (aiohttp wraps the OSError), at most 10 deep."""
    chain: list[BaseException] = []
    while error is not None and len(chain) < 10:
        chain.append(error)
        os_error = getattr(error, "os_error", None)
        error = os_error if isinstance(os_error, BaseException) and os_error not in chain else (
            error.__cause__ or error.__context__)
    return chain
