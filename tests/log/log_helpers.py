"""Builders shared by the event-log tests (a unique module name: tests/ has no packages)."""

from __future__ import annotations

from segue.log.protocol import Entry
from tests.clock import FakeClock


Clock = FakeClock  # the log tests' name for it


def entry(message_id: str, source_id: str = "src_1", user: str = "user-1", received_at_ms: int = 1_700_000_000_000,
          payload: bytes | None = None) -> Entry:
    return Entry(source_id, message_id, user, received_at_ms, payload or f'{{"messageId":"{message_id}"}}'.encode())


def entries(count: int, prefix: str = "m", **fields) -> list[Entry]:
    return [entry(f"{prefix}{n}", **fields) for n in range(count)]
