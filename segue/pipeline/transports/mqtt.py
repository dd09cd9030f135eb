"""MQTT 3.1.1: publish the body to a topic; with QoS 1 or 2 a send waits for the broker's ack.

URL: `mqtt[s]://[user:password@]host:port/<topic>?qos=<0|1|2>&retain=<0|1>` (the topic is the
path, its `/` levels kept). Headers are ignored: MQTT 3.1.1 messages have none.
"""

from __future__ import annotations

import ssl
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

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
REFUSED_LOGIN_CODES = {4, 5, 134, 135}  # 3.1.1: bad user name or password, not authorized; 5.0 equivalents


class MqttTransport(PooledTransport):
    def __init__(self) -> None:
        self.pool = Pool(lambda client: client.__aexit__(None, None, None))

    async def send(self, request: Request, timeout: float) -> None:
        library = import_client("aiomqtt", "mqtt")  # outside the timeout: the first import is slow
        parts = urlsplit(request.url)
        topic = unquote(parts.path[1:])
        query = query_values(parts)
        qos = int(query.get("qos", "1")) if query.get("qos", "1") in ("0", "1", "2") else 1
        retain = query.get("retain", "0") in ("1", "true")
        key = pool_key(parts)

        async def publish() -> None:
            client = await self.pool.get(key, lambda: self._connect(library, parts, timeout))
            await client.publish(topic, request.body or b"", qos=qos, retain=retain, timeout=timeout)

        where = f"{address(parts, DEFAULT_PORTS[parts.scheme])} topic {topic!r}"
        await deliver(self.pool, key, parts, where, timeout, publish, classify)

    async def _connect(self, aiomqtt, parts, timeout: float):
        user, password = credentials(parts)
        client = aiomqtt.Client(
            parts.hostname, parts.port or DEFAULT_PORTS[parts.scheme], username=user, password=password,
            timeout=timeout, tls_context=ssl.create_default_context() if parts.scheme == "mqtts" else None,
        )
        await client.__aenter__()
        return client


def classify(error: Exception) -> TransportError:
    """A refused login is permanent; a broker that is down or drops the connection is not."""
    import aiomqtt

    text = describe(error)
    code = getattr(error, "rc", None)
    if isinstance(error, aiomqtt.MqttCodeError) and _code_value(code) in REFUSED_LOGIN_CODES:
        return TransportError(f"login refused (check the user and password): {text}", retryable=False)
    if isinstance(error, ValueError):  # paho refuses an invalid topic or QoS before sending
        return TransportError(f"invalid message: {text}", retryable=False)
    return TransportError(f"cannot publish: {text}", retryable=True)


def _code_value(code: object) -> int | None:
    value = getattr(code, "value", code)
    return value if isinstance(value, int) else None
