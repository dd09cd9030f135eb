"""AMQP 0-9-1 (RabbitMQ): publish to an exchange with publisher confirms.

URL: `amqp[s]://[user:password@]host:port/<vhost>?exchange=<name>&routing_key=<key>` (vhost
percent-encoded, empty or `%2F` for `/`; exchange empty for the default exchange). Headers:
`Content-Type` and `Message-Id` become those properties, `Delivery-Mode: 2` (the default)
persistent, `1` transient; any other header goes into the message's headers table. A send
returns once the broker has confirmed (Basic.Ack) the message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from segue.destinations.contract import Request
from segue.pipeline.transports import (
    Pool,
    PooledTransport,
    TransportError,
    address,
    credentials,
    deliver,
    describe,
    import_client,
    pool_key,
    query_values,
)

DEFAULT_PORTS = {"amqp": 5672, "amqps": 5671}
PROPERTY_HEADERS = {"content-type", "message-id", "delivery-mode"}


@dataclass
class Session:
    """A connection, its confirming channel and the exchanges already looked up."""

    connection: Any
    channel: Any
    exchanges: dict[str, Any] = field(default_factory=dict)

    async def exchange(self, name: str) -> Any:
        if not name:
            return self.channel.default_exchange
        if name not in self.exchanges:
            self.exchanges[name] = await self.channel.get_exchange(name, ensure=True)  # passive: must exist
        return self.exchanges[name]

    @property
    def open(self) -> bool:
        return not self.connection.is_closed and not self.channel.is_closed


class AmqpTransport(PooledTransport):
    def __init__(self) -> None:
        self.pool = Pool(lambda session: session.connection.close(), alive=lambda session: session.open)

    async def send(self, request: Request, timeout: float) -> None:
        library = import_client("aio_pika", "amqp")  # outside the timeout: the first import is slow
        parts = urlsplit(request.url)
        query = query_values(parts, keep_blank_values=True)
        exchange, routing_key = query.get("exchange", ""), query.get("routing_key", "")
        key = pool_key(parts) + (parts.path,)

        async def publish() -> None:
            session = await self.pool.get(key, lambda: self._connect(library, parts, timeout))
            from pamqp.commands import Basic  # installed with aio-pika, which the session needed

            target = await session.exchange(exchange)
            message = _message(request)
            confirmation = await target.publish(message, routing_key=routing_key, mandatory=False, timeout=timeout)
            if not isinstance(confirmation, Basic.Ack):
                answer = type(confirmation).__name__
                raise TransportError(f"the broker did not confirm the message ({answer})", retryable=True)

        where = f"{address(parts, DEFAULT_PORTS[parts.scheme])} exchange {exchange!r} routing key {routing_key!r}"
        await deliver(self.pool, key, parts, where, timeout, publish, classify)

    async def _connect(self, aio_pika, parts, timeout: float) -> Session:
        user, password = credentials(parts)
        connection = await aio_pika.connect(
            host=parts.hostname, port=parts.port or DEFAULT_PORTS[parts.scheme], login=user or "guest",
            password=password or "guest", virtualhost=unquote(parts.path[1:]) or "/", ssl=parts.scheme == "amqps",
            timeout=timeout, client_properties={"connection_name": "segue"},
        )
        return Session(connection, await connection.channel(publisher_confirms=True))


def _message(request: Request) -> Any:
    import aio_pika

    headers = {name.lower(): value for name, value in request.headers.items()}
    persistent = headers.get("delivery-mode", "2") != "1"
    return aio_pika.Message(
        request.body or b"", content_type=headers.get("content-type"), message_id=headers.get("message-id"),
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT if persistent else aio_pika.DeliveryMode.NOT_PERSISTENT,
        headers={name: value for name, value in request.headers.items() if name.lower() not in PROPERTY_HEADERS},
    )


def classify(error: Exception) -> TransportError:
    """Refused logins, missing exchanges or vhosts and denied access are permanent."""
    from aiormq import exceptions

    text = describe(error)
    if isinstance(error, exceptions.ProbableAuthenticationError) or "ACCESS_REFUSED" in text:
        return TransportError(f"login refused (check the user and password): {text}", retryable=False)
    if isinstance(error, exceptions.ChannelNotFoundEntity):
        return TransportError(f"no such exchange: {text}", retryable=False)
    if isinstance(error, (exceptions.ChannelAccessRefused, exceptions.ConnectionNotAllowed)):
        return TransportError(f"access refused: {text}", retryable=False)
    if "Connection.Close" in text:  # closed while opening: a vhost that does not exist or is not allowed
        return TransportError(f"the broker refused the connection (check the vhost): {text}", retryable=False)
    if isinstance(error, (exceptions.ChannelPreconditionFailed, exceptions.ConnectionFrameError)):
        return TransportError(text, retryable=False)
    if isinstance(error, (OSError, exceptions.AMQPConnectionError, exceptions.DeliveryError)):
        return TransportError(f"cannot publish: {text}", retryable=True)
    return TransportError(text, retryable=True)
