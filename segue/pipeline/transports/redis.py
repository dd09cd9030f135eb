"""Redis Streams: XADD of the body as field `event` plus the headers as fields.

URL: `redis[s]://[user:password@]host:port/<db>?stream=<key>[&maxlen=<n>]`; with `maxlen` the
stream is trimmed approximately (`MAXLEN ~ n`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

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

DEFAULT_PORT = 6379


class RedisTransport(PooledTransport):
    def __init__(self) -> None:
        self.pool = Pool(lambda client: client.aclose())

    async def send(self, request: Request, timeout: float) -> None:
        library = import_client("redis.asyncio", "redis")  # outside the timeout: the first import is slow
        parts = urlsplit(request.url)
        query = query_values(parts)
        if not query.get("stream"):
            raise TransportError("the redis:// URL names no stream (?stream=...)", retryable=False)
        fields = {"event": request.body or b"", **request.headers}
        maxlen = int(query["maxlen"]) if query.get("maxlen", "").isdigit() else None

        key = pool_key(parts) + (parts.path,)

        async def publish() -> None:
            client = await self.pool.get(key, lambda: self._connect(library, parts, timeout))
            await client.xadd(query["stream"], fields, maxlen=maxlen, approximate=True)

        where = f"{address(parts, DEFAULT_PORT)} stream {query['stream']!r}"
        await deliver(self.pool, key, parts, where, timeout, publish, classify)

    async def _connect(self, asyncio_redis, parts, timeout: float):
        user, password = credentials(parts)
        database = parts.path.strip("/") or "0"
        if not database.isdigit():
            raise TransportError(f"the URL's path must be a database number, not {database!r}", retryable=False)
        return asyncio_redis.Redis(
            host=parts.hostname, port=parts.port or DEFAULT_PORT, db=int(database), username=user, password=password,
            ssl=parts.scheme == "rediss", socket_connect_timeout=timeout, socket_timeout=timeout,
        )


def classify(error: Exception) -> TransportError:
    """Authentication, permissions and wrong-type keys are permanent; connection trouble is not."""
    from redis import exceptions

    text = describe(error)
    if isinstance(error, (exceptions.AuthenticationError, exceptions.AuthorizationError, exceptions.NoPermissionError)):
        return TransportError(f"authentication failed: {text}", retryable=False)
    if isinstance(error, (exceptions.BusyLoadingError, exceptions.ReadOnlyError, exceptions.OutOfMemoryError)):
        return TransportError(text, retryable=True)
    if isinstance(error, exceptions.ResponseError):
        return TransportError(f"Redis refused the XADD: {text}", retryable=False)
    if isinstance(error, (exceptions.ConnectionError, exceptions.TimeoutError, OSError)):
        return TransportError(f"cannot connect: {text}", retryable=True)
    return TransportError(text, retryable=True)
