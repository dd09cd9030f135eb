"""ISO-8601 timestamps as Segment uses them, kept as integer epoch milliseconds in between."""

from __future__ import annotations

from datetime import datetime, timezone

from segue.errors import InvalidMessage

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def parse_ms(value: object, field: str) -> int:
    """Epoch milliseconds of an ISO-8601 string; naive times are UTC.

    Raises InvalidMessage (code `invalid_timestamp`) naming the field for anything else.
    """
    if not isinstance(value, str):
        raise InvalidMessage(f"{field} must be an ISO-8601 string", code="invalid_timestamp")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidMessage(f"{field} is not ISO-8601: {value[:40]!r}", code="invalid_timestamp") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    try:
        return (parsed - _EPOCH) // _MS
    except OverflowError:
        raise InvalidMessage(f"{field} is out of range: {value[:40]!r}", code="invalid_timestamp") from None


def format_ms(ms: int) -> str:
    """`2012-12-02T00:30:12.984Z` for epoch milliseconds (UTC, millisecond precision)."""
    seconds, millis = divmod(ms, 1000)
    prefix = _SECOND_PREFIXES.get(seconds)
    if prefix is None:
        prefix = _second_prefix(seconds)
    return f"{prefix}.{millis:03d}Z"


# Formatting a datetime costs ~4 us; a batch's messages share a handful of seconds, so the
# `YYYY-MM-DDTHH:MM:SS` part is cached per second (bounded: cleared when it fills).
_SECOND_PREFIXES: dict[int, str] = {}


def _second_prefix(seconds: int) -> str:
    if len(_SECOND_PREFIXES) > 4096:
        _SECOND_PREFIXES.clear()
    prefix = f"{datetime.fromtimestamp(seconds, timezone.utc):%Y-%m-%dT%H:%M:%S}"
    _SECOND_PREFIXES[seconds] = prefix
    return prefix


_MS = datetime(1970, 1, 1, 0, 0, 0, 1000, tzinfo=timezone.utc) - _EPOCH
