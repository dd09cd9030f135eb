"""Checks shared by the end-to-end tests: what every stored message must look like."""

from __future__ import annotations

from datetime import datetime, timedelta

TIMESTAMP_FIELDS = ("receivedAt", "sentAt", "originalTimestamp", "timestamp")
ROUNDING = timedelta(milliseconds=1)


def parse_iso(value: object) -> datetime:
    """An ISO-8601 timestamp with a timezone (trailing Z allowed), or AssertionError."""
    assert isinstance(value, str), f"timestamp is not a string: {value!r}"
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, f"timestamp has no timezone: {value}"
    return parsed


def assert_timestamps(stored: dict, original: str) -> None:
    """All four timestamps present and ISO; originalTimestamp is the client's; skew corrected."""
    times = {name: parse_iso(stored.get(name)) for name in TIMESTAMP_FIELDS}
    assert times["originalTimestamp"] == parse_iso(original)
    expected = times["receivedAt"] - (times["sentAt"] - times["originalTimestamp"])
    assert abs(times["timestamp"] - expected) <= ROUNDING, times


def assert_clean(stored: dict) -> None:
    """Nothing that only served transport is kept."""
    assert "writeKey" not in stored
    assert "_metadata" not in stored


def by_message_id(messages: list[dict]) -> dict[str, dict]:
    """Stored messages keyed by messageId; fails on a duplicate."""
    index: dict[str, dict] = {}
    for message in messages:
        assert message["messageId"] not in index, f"stored twice: {message['messageId']}"
        index[message["messageId"]] = message
    return index
