"""Durable, partitioned event log (see protocol.py; docs/event-log.md for the SQLite layout)."""

from __future__ import annotations

from segue.config import Settings
from segue.log.consumers import LogConsumer, LogStats
from segue.log.memory import MemoryLog
from segue.log.protocol import Consumer, Entry, EventLog, Record, partition_for
from segue.log.sqlite import SqliteLog

__all__ = [
    "Consumer", "Entry", "EventLog", "LogConsumer", "LogStats", "MemoryLog", "Record", "SqliteLog",
    "open_log", "partition_for",
]


def open_log(settings: Settings, read_only: bool = False) -> EventLog:
    """The log `settings.log_url` names: JetStream for a nats:// URL, else the embedded log at
    `settings.log_dir` (read-only: serves `newest()` beside a running server)."""
    if settings.log_url:
        return _jetstream_log(settings)
    return SqliteLog(
        settings.log_dir,
        partitions=settings.log_partitions,
        dedup_window_seconds=settings.dedup_window_seconds,
        segment_max_records=settings.segment_max_records,
        retention_min_seconds=settings.retention_min_seconds,
        read_only=read_only,
        writer_process=settings.log_writer_process,
        dedup_flush_keys=settings.dedup_flush_keys,
    )


def _jetstream_log(settings: Settings) -> EventLog:
    from segue.log.jetstream import JetStreamLog

    if not settings.log_url.startswith(("nats://", "tls://")):
        raise ValueError(f"log URL {settings.log_url!r}: only nats:// (or tls://) URLs are supported")
    return JetStreamLog(settings.log_url, partitions=settings.log_partitions,
                        dedup_window_seconds=settings.dedup_window_seconds,
                        retention_min_seconds=settings.retention_min_seconds, stream=settings.log_stream,
                        replicas=settings.log_replicas)
