"""Transports for the requests that are not HTTP: brokers and object stores.

A destination's `Request` names its transport by its URL scheme; the URL carries the broker
address, the credentials (userinfo), and where to publish (path and query):

- `nats://[user:pass@|token@]host:4222/<subject>[?jetstream=1]`: the body; the headers are NATS
  message headers (JetStream dedups on `Nats-Msg-Id`).
- `redis[s]://[user:pass@]host:6379/<db>?stream=<key>[&maxlen=<n>]`: XADD with field `event` =
  the body and one more field per header; `maxlen` trims with `MAXLEN ~ n`.
- `amqp[s]://[user:pass@]host:5672/<vhost>?exchange=<x>&routing_key=<k>`: the body; headers
  `Content-Type`, `Message-Id`, `Delivery-Mode` are message properties, others the headers table.
- `mqtt[s]://[user:pass@]host:1883/<topic>?qos=<0|1|2>&retain=<0|1>`: the body (MQTT 3.1.1 has
  no headers).
- `s3://<keyId>:<secret>@<bucket>/<key>?region=<r>[&endpoint=<url>]`: PUT of the body as the object.

`Transports.send(request, timeout)` returns when the broker has the message (JetStream ack,
publisher confirm, PUBACK, PutObject answer) and raises `TransportError` otherwise, with
`retryable` saying whether the same request may succeed later. Connections are reused per
broker address and credentials and dropped after a failure, so the next send reconnects.
The client libraries are the optional extra `streams`, imported only when a scheme is used.

Unless `allow_private` is set, a broker must have a public address (segue/pipeline/addresses.py):
for plain-text schemes the URL's host is resolved and checked here and the library connects to
that checked address; TLS schemes (and an S3 `endpoint`) keep the name, for certificate checks:
its addresses are checked here and the library resolves it again when it connects (a rebinding
window that the certificate check narrows). A checked address is reused for CHECKED_SECONDS.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from dataclasses import replace
from typing import Any, Awaitable, Callable, Hashable, Protocol
from urllib.parse import SplitResult, parse_qs, quote, unquote, urlsplit

from segue.destinations.contract import Request
from segue.pipeline.addresses import DestinationRefused, resolve_public_async

INSTALL_HINT = "pip install 'segue[streams]'"
MASK = "••••"
TRANSPORT_CLASSES = {  # scheme -> "module:class" under this package
    "nats": "nats:NatsTransport",
    "redis": "redis:RedisTransport", "rediss": "redis:RedisTransport",
    "amqp": "amqp:AmqpTransport", "amqps": "amqp:AmqpTransport",
    "mqtt": "mqtt:MqttTransport", "mqtts": "mqtt:MqttTransport",
    "s3": "s3:S3Transport",
}


class TransportError(Exception):
    """A request the transport could not deliver; `retryable`: it may succeed later."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


class Transport(Protocol):
    async def send(self, request: Request, timeout: float) -> None:
        """Deliver `request` within `timeout` seconds, or raise TransportError."""

    async def close(self) -> None:
        """Close every connection."""


class Transports:
    """One transport per URL scheme, created on first use; `send` dispatches by scheme."""

    def __init__(self, allow_private: bool = False) -> None:
        self._transports: dict[str, Transport] = {}
        self._allow_private = allow_private
        self._checked: dict[str, tuple[str, float]] = {}  # host -> (its checked public address, until when)

    @staticmethod
    def handles(url: str) -> bool:
        """Is the URL's scheme one of the transports here (not HTTP)?"""
        return urlsplit(url).scheme in TRANSPORT_CLASSES

    async def send(self, request: Request, timeout: float) -> None:
        """Deliver `request` by its URL's scheme; TransportError when it cannot be delivered."""
        scheme = _checked_scheme(request.url)
        if not self._allow_private:
            request = await _public_request(request, scheme, self._public_address)
        if scheme not in self._transports:
            self._transports[scheme] = _create(scheme)
        await self._transports[scheme].send(request, timeout)

    async def _public_address(self, host: str) -> str:
        """A checked public address of `host`, looked up at most every CHECKED_SECONDS."""
        address, until = self._checked.get(host) or ("", 0.0)
        if until < time.monotonic():
            address = await resolve_public_async(host, 0)
            if len(self._checked) >= 1_000:
                self._checked.clear()
            self._checked[host] = (address, time.monotonic() + CHECKED_SECONDS)
        return address

    async def close(self) -> None:
        transports, self._transports = list(self._transports.values()), {}
        for transport in transports:
            await transport.close()


def _checked_scheme(url: str) -> str:
    """The scheme of a URL a transport can use; a permanent TransportError otherwise."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as error:
        raise TransportError(f"invalid URL: {error}", retryable=False) from None
    if parts.scheme not in TRANSPORT_CLASSES:
        raise TransportError(f"no transport for {parts.scheme or 'a URL without a'} scheme", retryable=False)
    if not parts.hostname:
        raise TransportError(f"the {parts.scheme}:// URL names no host", retryable=False)
    return parts.scheme


TLS_SCHEMES = {"rediss", "amqps", "mqtts"}
CHECKED_SECONDS = 60.0  # like a DNS cache: plain-text brokers are connected to the address checked


async def _public_request(request: Request, scheme: str, public_address: Callable[[str], Awaitable[str]]) -> Request:
    """The request aimed at a checked public address of its broker; TransportError when refused."""
    parts = urlsplit(request.url)
    host = query_values(parts).get("endpoint") if scheme == "s3" else parts.hostname
    if scheme == "s3":
        host = urlsplit(host).hostname if host else None  # no endpoint: AWS itself
    if not host:
        return request
    try:
        address = await public_address(host)
    except DestinationRefused as error:
        raise TransportError(error.message, retryable=False) from None
    except OSError as error:
        raise TransportError(f"DNS lookup failed for {host}: {describe(error)}", retryable=True) from None
    if scheme in TLS_SCHEMES or scheme == "s3":
        return request
    return replace(request, url=parts._replace(netloc=_netloc(parts, address)).geturl())


def _netloc(parts: SplitResult, address: str) -> str:
    userinfo = parts.netloc.rpartition("@")[0]
    host = f"[{address}]" if ":" in address else address
    port = f":{parts.port}" if parts.port else ""
    return f"{userinfo}@{host}{port}" if "@" in parts.netloc else f"{host}{port}"


def _create(scheme: str) -> Transport:
    module_name, class_name = TRANSPORT_CLASSES[scheme].split(":")
    module = importlib.import_module(f"{__name__}.{module_name}")
    return getattr(module, class_name)()


def import_client(module: str, scheme: str) -> Any:
    """The client library `module`, or a permanent TransportError saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        library = module.split(".")[0]
        raise TransportError(f"{scheme}:// needs the {library} library: {INSTALL_HINT}", retryable=False) from None


class Pool:
    """Open clients keyed by broker address and credentials, connected once, dropped on failure."""

    def __init__(
        self, disconnect: Callable[[Any], Awaitable[None]], alive: Callable[[Any], bool] = lambda client: True
    ) -> None:
        self._clients: dict[Hashable, Any] = {}
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._disconnect = disconnect
        self._alive = alive

    async def get(self, key: Hashable, connect: Callable[[], Awaitable[Any]]) -> Any:
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key in self._clients and not self._alive(self._clients[key]):
                await self.drop(key)
            if key not in self._clients:
                self._clients[key] = await connect()
            return self._clients[key]

    async def drop(self, key: Hashable) -> None:
        client = self._clients.pop(key, None)
        if client is not None:
            await self._quietly(client)

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await self._quietly(client)

    async def _quietly(self, client: Any) -> None:
        try:
            await asyncio.wait_for(self._disconnect(client), 5.0)
        except Exception:  # closing a broken connection may fail too; it is gone either way
            pass


class PooledTransport:
    """A transport whose connections live in `self.pool`; `close` closes them all."""

    pool: Pool

    async def close(self) -> None:
        await self.pool.close()


def query_values(parts: SplitResult, keep_blank_values: bool = False) -> dict[str, str]:
    """The URL's query parameters, the first value of each."""
    return {key: values[0] for key, values in parse_qs(parts.query, keep_blank_values=keep_blank_values).items()}


def pool_key(parts: SplitResult) -> tuple:
    """What a connection is for: scheme, user, password, host and port."""
    return parts.scheme, parts.username, parts.password, parts.hostname, parts.port


def credentials(parts: SplitResult) -> tuple[str | None, str | None]:
    """The URL's user and password, percent-decoded (None when absent)."""
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return user, password


def address(parts: SplitResult, default_port: int) -> str:
    """`scheme://host:port`, the credential-free name of a broker for messages."""
    return f"{parts.scheme}://{parts.hostname}:{parts.port or default_port}"


def scrub(message: str, parts: SplitResult) -> str:
    """`message` without the URL's password, raw or percent-encoded."""
    if not parts.password:
        return message
    plain = unquote(parts.password)
    for form in sorted({parts.password, plain, quote(plain, safe="")}, key=len, reverse=True):
        message = message.replace(form, MASK)
    return message


async def deliver(pool: Pool, key: Hashable, parts: SplitResult, where: str, timeout: float,
                  operation: Callable[[], Awaitable[None]], classify: Callable[[Exception], TransportError]) -> None:
    """Run `operation` within `timeout`; any failure drops the connection `key` and becomes a TransportError.

    `classify` names the library's errors (retryable or not); the message never holds the password.
    """
    try:
        async with asyncio.timeout(timeout):
            await operation()
    except TransportError as error:
        await pool.drop(key)
        raise TransportError(scrub(f"{where}: {error.message}", parts), retryable=error.retryable) from None
    except TimeoutError:
        await pool.drop(key)
        raise TransportError(f"{where}: timeout after {timeout:g} s", retryable=True) from None
    except Exception as error:  # every library error becomes a classified TransportError
        await pool.drop(key)
        failure = classify(error)
        raise TransportError(scrub(f"{where}: {failure.message}", parts), retryable=failure.retryable) from None


def describe(error: BaseException) -> str:
    """`str(error)`, or the error's class name when it has no text; refused connections named so."""
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    return str(error).strip() or type(error).__name__
