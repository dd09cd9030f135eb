"""Enrichment: what the Tracking API adds to a valid message before it is stored (spec 1.4-1.8).

messageId when absent, receivedAt, originalTimestamp, sentAt (message or batch envelope), the
clock-skew corrected timestamp, the envelope's context and integrations merged in, context.ip
from the connection where asked for, and the client-only fields stripped.
"""

from __future__ import annotations

import uuid
from typing import Any, Callable, NamedTuple

from segue.errors import InvalidMessage
from segue.spec.timestamps import format_ms, parse_ms

STRIPPED_FIELDS = ("writeKey", "_metadata")
# Years 1..9999 in epoch milliseconds: the range an ISO-8601 timestamp can express.
_MIN_MS, _MAX_MS = -62135596800000, 253402300799999


class Envelope(NamedTuple):
    """What a request adds to each of its messages (a NamedTuple: one is built per request)."""

    received_at_ms: int
    received_at: str
    sent_at: Any = None
    sent_at_ms: int | None = None  # the envelope's sentAt, parsed once for all its messages
    context: dict | None = None
    integrations: dict | None = None
    client_ip: str | None = None  # the connection's address
    fill_ip: bool = False  # every message gets it (client-side sources); others opt in with context.direct


def make_envelope(body: dict, received_at_ms: int, client_ip: str | None, batch: bool, fill_ip: bool = False) -> Envelope:
    """The envelope of a request body; single-message bodies contribute no context of their own."""
    sent_at = body.get("sentAt")
    context = _dict_or_none(body.get("context")) if batch else None
    integrations = _dict_or_none(body.get("integrations")) if batch else None
    sent_at_ms = None if sent_at is None else _try_parse(sent_at)
    return Envelope(
        received_at_ms, format_ms(received_at_ms), sent_at, sent_at_ms, context, integrations, client_ip, fill_ip
    )


def merge_envelope(message: dict, envelope: Envelope) -> None:
    """Batch envelope `context`/`integrations` under the message's own keys (the message wins)."""
    if envelope.context:
        message["context"] = {**envelope.context, **(message.get("context") or {})}
    if envelope.integrations:
        message["integrations"] = {**envelope.integrations, **(message.get("integrations") or {})}


def enrich(message: dict, envelope: Envelope, new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> dict:
    """Complete a validated message in place and return it.

    Raises InvalidMessage (`invalid_timestamp`) when a timestamp is not ISO-8601.
    """
    for field in STRIPPED_FIELDS:
        message.pop(field, None)
    if not message.get("messageId"):
        message["messageId"] = new_id()
    _normalise_ids(message)
    _set_timestamps(message, envelope)
    if envelope.client_ip is not None:
        _fill_ip(message, envelope)
    return message


def _set_timestamps(message: dict, envelope: Envelope) -> None:
    original = message.pop("timestamp", None)
    if original is None:
        original = message.get("originalTimestamp")
    sent_at = message.get("sentAt", envelope.sent_at)
    message["receivedAt"] = envelope.received_at
    if sent_at is not None:
        message["sentAt"] = sent_at
    if original is None:
        message["timestamp"] = envelope.received_at
        return
    message["originalTimestamp"] = original
    message["timestamp"] = _corrected(original, sent_at, envelope)


def _corrected(original: str, sent_at: Any, envelope: Envelope) -> str:
    """timestamp = receivedAt - (sentAt - originalTimestamp); the original when it can't apply."""
    original_ms = parse_ms(original, "timestamp")
    if sent_at is None:
        return original
    sent_at_ms = envelope.sent_at_ms if sent_at is envelope.sent_at and envelope.sent_at_ms is not None else None
    if sent_at_ms is None:
        sent_at_ms = parse_ms(sent_at, "sentAt")
    corrected = envelope.received_at_ms - (sent_at_ms - original_ms)
    if not _MIN_MS <= corrected <= _MAX_MS:
        return original
    return format_ms(corrected)


def _try_parse(value: Any) -> int | None:
    """Epoch ms of a valid ISO time, else None (each message then reports the error itself)."""
    if value is None:
        return None
    try:
        return parse_ms(value, "sentAt")
    except InvalidMessage:
        return None


def _normalise_ids(message: dict) -> None:
    """Numeric ids become strings, as Segment's libraries send them (validate refused bools)."""
    for field in _ID_FIELDS:
        if type(message.get(field)) is int:
            message[field] = str(message[field])


_ID_FIELDS = ("userId", "anonymousId", "groupId", "previousId")


def _fill_ip(message: dict, envelope: Envelope) -> None:
    """context.ip from the connection, for client-side sources and callers sending context.direct."""
    context = message.get("context")
    if context is None:
        if envelope.fill_ip:
            message["context"] = {"ip": envelope.client_ip}
    elif "ip" not in context and (envelope.fill_ip or context.get("direct") is True):
        context["ip"] = envelope.client_ip


def _dict_or_none(value: Any) -> dict | None:
    return value if isinstance(value, dict) else None
