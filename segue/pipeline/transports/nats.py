"""NATS: core publish (flushed, so the server has it) or JetStream publish (acked by a stream).

URL: `nats://[user:password@|token@]host:port/<subject>[?jetstream=1]`; the request headers
are the message headers (JetStream dedups on `Nats-Msg-Id`).
"""

from __future__ import annotations

import asyncio
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

DEFAULT_PORT = 4222
PERMANENT_TEXT = ("authorization", "authentication", "permissions violation", "invalid subject", "no stream",
                  "maximum payload", "bad subject")


class NatsTransport(PooledTransport):
    def __init__(self) -> None:
        self.pool = Pool(lambda client: client.close(), alive=lambda client: client.is_connected)

    async def send(self, request: Request, timeout: float) -> None:
        library = import_client("nats", "nats")  # outside the timeout: the first import is slow
        parts = urlsplit(request.url)
        subject = unquote(parts.path[1:])
        jetstream = query_values(parts).get("jetstream", "0") in ("1", "true")

        async def publish() -> None:
            client = await self.pool.get(pool_key(parts), lambda: self._connect(library, parts, timeout))
            headers = dict(request.headers) or None
            if jetstream:
                await client.jetstream().publish(subject, request.body or b"", timeout=timeout, headers=headers)
            else:
                await client.publish(subject, request.body or b"", headers=headers)
                await client.flush(timeout=max(1, int(timeout)))

        where = f"{address(parts, DEFAULT_PORT)} subject {subject!r}"
        await deliver(self.pool, pool_key(parts), parts, where, timeout, publish, classify)

    async def _connect(self, nats, parts, timeout: float):
        """A connection, or the first error: nats-py would otherwise retry the first connect forever."""
        user, password = credentials(parts)
        auth = {"user": user, "password": password} if password else {"token": user} if user else {}
        first_error: asyncio.Future = asyncio.get_running_loop().create_future()

        async def on_error(error: Exception) -> None:
            if not first_error.done():
                first_error.set_result(error)

        connecting = asyncio.ensure_future(nats.connect(
            f"nats://{parts.hostname}:{parts.port or DEFAULT_PORT}", name="segue", connect_timeout=timeout,
            allow_reconnect=False, max_reconnect_attempts=0, error_cb=on_error, **auth,
        ))
        try:
            await asyncio.wait({connecting, first_error}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not connecting.done():
                connecting.cancel()
        if connecting.done() and not connecting.cancelled() and connecting.exception() is None:
            return connecting.result()
        raise first_error.result() if first_error.done() else connecting.exception()


def classify(error: Exception) -> TransportError:
    """Bad credentials, subjects, missing streams and oversized messages are permanent."""
    import nats.errors
    import nats.js.errors

    text = describe(error)
    if isinstance(error, (nats.js.errors.NoStreamResponseError, nats.errors.NoRespondersError)):
        return TransportError(f"no JetStream stream takes this subject ({text})", retryable=False)
    if isinstance(error, nats.js.errors.APIError):
        return TransportError(f"JetStream refused the message: {text}", retryable=(error.code or 0) >= 500)
    if isinstance(error, (nats.errors.AuthorizationError, nats.errors.BadSubjectError, nats.errors.MaxPayloadError)):
        return TransportError(text, retryable=False)
    if isinstance(error, (nats.errors.NoServersError, OSError)):
        return TransportError(f"cannot connect: {text}", retryable=True)
    return TransportError(text, retryable=not any(word in text.lower() for word in PERMANENT_TEXT))
