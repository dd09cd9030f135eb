"""The Tracking API (spec section 1) as a plain ASGI application.

Written against raw ASGI rather than Starlette routes on purpose: this is the hot path (the
floor is 8,000 single requests/s on two cores), and Starlette's Request, Response and router
objects cost a large share of a request this small. Everything that is not a tracking route
goes to `fallback`, a regular Starlette/FastAPI application.
"""

from __future__ import annotations

import logging
import zlib
from typing import Any, Awaitable, Callable

import orjson

from segue.config import Settings
from segue.errors import InvalidMessage, RateLimited, SegueError, StorageUnavailable
from segue.pipeline.ingest import Ingestor, IngestResult
from segue.spec.messages import BATCH, ROUTE_TYPES

log = logging.getLogger(__name__)

ASGIApp = Callable[[dict, Callable, Callable], Awaitable[None]]
METRICS = "metrics"
SUCCESS = b'{"success":true}'
ALLOWED_HEADERS = b"Content-Type, Authorization, X-Retry-Count, Content-Encoding"


def _route_table() -> dict[str, str]:
    """Path (with or without /v1, no trailing slash) -> message type, "batch" or "metrics"."""
    kinds = {**ROUTE_TYPES, "m": METRICS}
    return {f"{prefix}/{name}": kind for name, kind in kinds.items() for prefix in ("/v1", "")}


ROUTES = _route_table()


class TrackingAPI:
    """ASGI app answering the Tracking API routes; anything else goes to `fallback`."""

    def __init__(self, settings: Settings, ingestor: Ingestor, fallback: ASGIApp) -> None:
        self._settings = settings
        self._ingestor = ingestor
        self._fallback = fallback

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        path = scope.get("path", "")
        kind = ROUTES.get(path.rstrip("/") if len(path) > 1 else path) if scope["type"] == "http" else None
        if kind is None:
            await self._fallback(scope, receive, send)
            return
        headers = dict(scope["headers"])
        method = scope["method"]
        if method == "POST":
            await self._post(kind, scope, headers, receive, send)
        elif method == "OPTIONS":
            await _preflight(headers, send)
        else:
            error = InvalidMessage(f"{method} is not allowed here; send POST", code="method_not_allowed")
            await _respond(send, 405, orjson.dumps(error.to_json()), headers)

    async def _post(self, kind: str, scope: dict, headers: dict, receive: Callable, send: Callable) -> None:
        try:
            status, body, extra = await self._handle(kind, scope, headers, receive)
        except SegueError as error:
            status, body, extra = error.status, orjson.dumps(error.to_json()), _retry_after(error)
        except _ClientGone:
            return
        except Exception:
            log.exception("tracking request failed")
            status, body, extra = 500, orjson.dumps(_internal_error()), []
        await _respond(send, status, body, headers, extra)

    async def _handle(self, kind: str, scope: dict, headers: dict, receive: Callable) -> tuple[int, bytes, list]:
        limit = self._settings.max_batch_bytes if kind in (BATCH, METRICS) else self._settings.max_message_bytes
        body = await read_body(receive, headers, limit)
        if kind == METRICS:
            return 200, SUCCESS, []
        client = scope.get("client")
        authorization = headers.get(b"authorization")
        result = await self._ingestor.ingest(
            kind, body, authorization.decode("latin-1") if authorization else None, client[0] if client else None
        )
        return 200, _success_body(result), []


def _success_body(result: IngestResult) -> bytes:
    if not result.rejected:
        return SUCCESS
    return orjson.dumps({"success": True, "rejected": [rejection.to_json() for rejection in result.rejected]})


class _ClientGone(Exception):
    """The client disconnected before sending its whole body."""


async def read_body(receive: Callable, headers: dict, limit: int) -> bytes:
    """The request body, gunzipped when sent with `Content-Encoding: gzip`, at most `limit` bytes."""
    declared = headers.get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + 1024:
        raise _too_large(limit)
    raw = await _receive_all(receive, limit + 1024)  # gzip framing may add a little to small bodies
    encoding = headers.get(b"content-encoding", b"").strip().lower()
    body = _gunzip(raw, limit) if encoding == b"gzip" else raw
    if len(body) > limit:
        raise _too_large(limit)
    return body


async def _receive_all(receive: Callable, cap: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > cap:
            raise _too_large(cap)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _gunzip(raw: bytes, limit: int) -> bytes:
    """Decompress at most limit+1 bytes, so a small gzip bomb cannot exhaust memory."""
    try:
        body = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw, limit + 1)
    except zlib.error as error:
        raise InvalidMessage(f"body is not valid gzip: {error}", code="invalid_gzip") from None
    return body


def _too_large(limit: int) -> InvalidMessage:
    return InvalidMessage(f"request body is larger than {limit} bytes", code="request_too_large")


def _retry_after(error: SegueError) -> list[tuple[bytes, bytes]]:
    if isinstance(error, RateLimited):  # Segment's 429 headers (spec section 1.10)
        seconds = str(error.retry_after).encode()
        return [(b"retry-after", seconds), (b"x-ratelimit-reset", seconds)]
    return [(b"retry-after", b"5")] if isinstance(error, StorageUnavailable) else []


def _internal_error() -> dict:
    return {"success": False, "code": "internal_error", "message": "internal error; the request was not stored"}


def _cors_headers(request_headers: dict) -> list[tuple[bytes, bytes]]:
    origin = request_headers.get(b"origin")
    if origin is None:
        return []
    return [(b"access-control-allow-origin", origin), (b"vary", b"Origin")]


async def _respond(send: Callable, status: int, body: bytes, request_headers: dict, extra: Any = ()) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *_cors_headers(request_headers),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _preflight(request_headers: dict, send: Callable) -> None:
    """CORS preflight: any origin may POST with the headers analytics.js and the SDKs send."""
    headers = [
        (b"access-control-allow-origin", request_headers.get(b"origin", b"*")),
        (b"access-control-allow-methods", b"POST, OPTIONS"),
        (b"access-control-allow-headers", request_headers.get(b"access-control-request-headers", ALLOWED_HEADERS)),
        (b"access-control-max-age", b"86400"),
        (b"vary", b"Origin"),
        (b"content-length", b"0"),
    ]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
