"""Ingest: from a Tracking API request body to durable log entries.

The web layer hands over the decompressed body, the Authorization header and the client's
address; `Ingestor.ingest` parses, authenticates the write key, validates and enriches each
message, appends the valid ones to the event log and returns once they are durable.
"""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import orjson

from segue.config import Settings
from segue.errors import InvalidMessage, RateLimited, StorageFull, Unauthorized
from segue.log.protocol import Entry, EventLog
from segue.pipeline.disk import DiskWatcher
from segue.pipeline.rate_limit import WriteKeyLimiter, retry_after_seconds
from segue.pipeline.sources import SourceDirectory
from segue.spec.enrich import Envelope, enrich, make_envelope, merge_envelope
from segue.spec.messages import BATCH, validate

# Sources whose events come from the user's device: their connection address is the user's.
CLIENT_SIDE_TYPES = frozenset({"javascript", "ios", "android"})
# The 32 KB message limit is checked on the stored (enriched) form, which is serialised anyway,
# rather than serialising every batch item twice; this allowance covers what enrichment adds
# (messageId, receivedAt, timestamps and the batch envelope's context).
ENRICHMENT_ALLOWANCE = 1024


@dataclass(frozen=True, slots=True)
class Rejection:
    """One message of a request that was not accepted, and why."""

    index: int
    code: str
    message: str
    message_id: str | None = None

    def to_json(self) -> dict:
        return {"index": self.index, "messageId": self.message_id, "code": self.code, "message": self.message}


@dataclass(slots=True)
class IngestResult:
    """What happened to a request's messages."""

    stored: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)


class Ingestor:
    """Turns request bodies into durable log entries."""

    def __init__(
        self,
        settings: Settings,
        log: EventLog,
        sources: SourceDirectory,
        clock: Callable[[], float] = time.time,
        disk: DiskWatcher | None = None,
    ) -> None:
        self._settings = settings
        self._disk = disk or DiskWatcher(settings.data_dir)  # never measured: never refuses
        self._log = log
        self._sources = sources
        self._clock = clock
        self._rate = WriteKeyLimiter(settings.write_key_rate_limit, settings.write_key_burst, clock)

    async def ingest(self, kind: str, body: bytes, authorization: str | None, client_ip: str | None) -> IngestResult:
        """Store the messages of one request; `kind` is a message type or "batch".

        Raises InvalidMessage for a request that cannot be taken at all (bad JSON, no write
        key, a single invalid message, a batch with no valid message) and Unauthorized for an
        unknown or disabled write key. Otherwise the valid messages are stored and the invalid
        ones reported in the result. Raises StorageFull (503) while the data dir has no room,
        and RateLimited (429) for a write key over its rate limit.
        """
        if self._disk.refusal is not None:  # one attribute read: the watcher measures in the background
            raise StorageFull(self._disk.refusal)
        payload = _parse(body)
        source = self._authenticate(payload, authorization)
        if source is None:
            return IngestResult()
        items = self._messages(kind, payload)
        now_ms = int(self._clock() * 1000)
        fill_ip = source.type in CLIENT_SIDE_TYPES
        envelope = make_envelope(payload, now_ms, client_ip, batch=kind == BATCH, fill_ip=fill_ip)
        entries, result = self._prepare(items, envelope, source.id)
        _raise_if_nothing_valid(kind, items, result)
        offsets = await self._log.append(entries) if entries else []
        result.duplicates = offsets.count(None)
        result.stored = len(offsets) - result.duplicates
        return result

    def _authenticate(self, payload: dict, authorization: str | None) -> Any | None:
        write_key = _write_key(payload, authorization)
        source = self._sources.lookup(write_key)
        if source is None:
            if self._settings.unknown_write_key_status == 200:
                return None  # Segment's behaviour: acknowledge, then drop
            raise Unauthorized("unknown write key", code="invalid_write_key")
        if not source.enabled:
            raise Unauthorized(f"source {source.name!r} is disabled", code="source_disabled")
        _check_rate(self._rate, source)
        return source

    def _messages(self, kind: str, payload: dict) -> list[Any]:
        if kind != BATCH:
            payload["type"] = kind
            return [payload]
        items = payload.get("batch")
        if not isinstance(items, list):
            raise InvalidMessage("batch must be an array of messages", code="invalid_batch")
        limit = self._settings.max_batch_messages
        if len(items) > limit:
            raise InvalidMessage(f"a batch holds at most {limit} messages, got {len(items)}", code="too_many_messages")
        return items

    def _prepare(self, items: list, envelope: Envelope, source_id: str) -> tuple[list[Entry], IngestResult]:
        result = IngestResult()
        entries: list[Entry] = []
        for index, item in enumerate(items):
            try:
                entries.append(self._entry(item, envelope, source_id))
            except InvalidMessage as error:
                result.rejected.append(_rejection(index, item, error))
        return entries, result

    def _entry(self, item: Any, envelope: Envelope, source_id: str) -> Entry:
        validate(item)
        if envelope.context or envelope.integrations:
            merge_envelope(item, envelope)
        message = enrich(item, envelope)
        payload = orjson.dumps(message)
        if len(payload) > self._settings.max_message_bytes + ENRICHMENT_ALLOWANCE:
            raise InvalidMessage(
                f"a message is at most {self._settings.max_message_bytes} bytes", code="message_too_large"
            )
        user = message.get("userId") or message["anonymousId"]
        return Entry(source_id, message["messageId"], user, envelope.received_at_ms, payload)


def _check_rate(limiter: WriteKeyLimiter, source: Any) -> None:
    """RateLimited (429) when the source's write key is over its rate limit (spec section 1.10)."""
    wait = limiter.wait(source.id)
    if wait:
        raise RateLimited(
            f"write key of source {source.name!r} sent more than {limiter.rate:g} requests per second; "
            "retry after the Retry-After seconds", retry_after_seconds(wait),
        )


def _parse(body: bytes) -> dict:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidMessage(f"body is not valid JSON: {error}", code="invalid_json") from None
    if not isinstance(payload, dict):
        raise InvalidMessage("body must be a JSON object", code="invalid_json")
    return payload


def _write_key(payload: dict, authorization: str | None) -> str:
    """The write key from HTTP Basic auth (username) or the body's `writeKey`."""
    key = _basic_username(authorization) if authorization else None
    if not key:
        key = payload.get("writeKey")
    if not isinstance(key, str) or not key:
        raise InvalidMessage(
            "no write key: send it as the Basic auth username or as writeKey in the body", code="missing_write_key"
        )
    return key


def _basic_username(authorization: str) -> str | None:
    """The username of a Basic Authorization header (cached: clients resend the same header)."""
    username = _BASIC_USERNAMES.get(authorization)
    if username is None:
        username = _decode_basic(authorization)
        if len(_BASIC_USERNAMES) >= 10_000:
            _BASIC_USERNAMES.clear()
        _BASIC_USERNAMES[authorization] = username
    return username or None


_BASIC_USERNAMES: dict[str, str] = {}


def _decode_basic(authorization: str) -> str:
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidMessage("Authorization header is not valid Basic auth", code="invalid_authorization") from None
    return decoded.partition(":")[0]


def _rejection(index: int, item: Any, error: InvalidMessage) -> Rejection:
    message_id = item.get("messageId") if isinstance(item, dict) else None
    return Rejection(index, error.code, error.message, message_id if isinstance(message_id, str) else None)


def _raise_if_nothing_valid(kind: str, items: list, result: IngestResult) -> None:
    if not result.rejected or len(result.rejected) < len(items):
        return
    first = result.rejected[0]
    if kind != BATCH:
        raise InvalidMessage(first.message, code=first.code)
    raise InvalidMessage(
        f"no valid message in the batch (first: {first.message})",
        code="invalid_batch",
        details={"rejected": [rejection.to_json() for rejection in result.rejected]},
    )
