"""The raw archive: per source and hour, gzip NDJSON, durable before the ack, deduplicated on read."""

from __future__ import annotations

import asyncio
import gzip
import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from segue.config import Settings
from segue.log.memory import MemoryLog
from segue.log.protocol import Entry
from segue.log.sqlite import SqliteLog
from segue.pipeline.archive import (
    ARCHIVE_CONSUMER,
    Archiver,
    archive_root,
    iter_archive,
    start_archiver,
    write_parts,
)
from segue.spec.timestamps import format_ms

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def at(minutes: float) -> int:
    """Epoch milliseconds `minutes` after T0."""
    return int((T0 + timedelta(minutes=minutes)).timestamp() * 1000)


def entry(source_id: str, received_ms: int, **fields) -> Entry:
    event = {"type": "track", "event": "Viewed", "messageId": str(uuid.uuid4()), "userId": "u1",
             "receivedAt": format_ms(received_ms), **fields}
    return Entry(source_id, event["messageId"], event["userId"], received_ms, orjson.dumps(event))


def make_archiver(log, data_dir, **options) -> Archiver:
    """An archiver whose clock is a few hours after T0 (retention counts from it)."""
    options.setdefault("clock", lambda: (T0 + timedelta(hours=3)).timestamp())
    return Archiver(log, data_dir, **options)


async def archive_all(archiver: Archiver) -> None:
    archiver.flush_seconds = 0
    await archiver.step(wait=0)


def parts(root) -> list:
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*.ndjson.gz"))


async def test_events_land_per_source_and_hour_compressed(tmp_path):
    log = MemoryLog()
    entries = [entry("src-a", at(50)), entry("src-a", at(5)), entry("src-a", at(70)), entry("src-b", at(1))]
    await log.append(entries)
    archiver = make_archiver(log, tmp_path)
    await archive_all(archiver)
    root = archive_root(tmp_path)
    assert parts(root) == [
        "src-a/2024/05/01/10/part-000000000001.ndjson.gz",
        "src-a/2024/05/01/11/part-000000000001.ndjson.gz",
        "src-b/2024/05/01/10/part-000000000001.ndjson.gz",
    ]
    raw = (root / parts(root)[0]).read_bytes()
    assert raw[:2] == b"\x1f\x8b"  # gzip
    lines = gzip.decompress(raw).splitlines()
    assert [orjson.loads(line)["messageId"] for line in lines] == [entries[1].message_id, entries[0].message_id]
    assert await archiver.consumer.committed() == 4


async def test_reader_gives_a_range_in_received_order(tmp_path):
    log = MemoryLog()
    entries = [entry("src-a", at(minute)) for minute in (130, 5, 65, 59.9, 200)]
    await log.append(entries)
    await archive_all(make_archiver(log, tmp_path))
    events = list(iter_archive(tmp_path, "src-a", T0, T0 + timedelta(minutes=180)))
    assert [event["receivedAt"] for event in events] == [format_ms(at(m)) for m in (5, 59.9, 65, 130)]
    assert list(iter_archive(tmp_path, "src-a", T0 + timedelta(minutes=6), T0 + timedelta(minutes=65))) == [events[1]]
    assert list(iter_archive(tmp_path, "src-other", T0, T0 + timedelta(days=1))) == []


async def test_crash_between_write_and_ack_loses_nothing_and_reads_once(tmp_path):
    log = SqliteLog(tmp_path / "log")
    await log.start()
    first = [entry("src-a", at(minute)) for minute in (1, 2, 3)]
    await log.append(first)
    archiver = make_archiver(log, tmp_path)

    async def crash(offset: int) -> None:
        raise RuntimeError("killed before the ack")

    archiver.consumer.ack = crash
    with pytest.raises(RuntimeError):
        await archive_all(archiver)
    await log.close()

    log = SqliteLog(tmp_path / "log")  # the restart: the cursor is still at 0
    await log.start()
    later = [entry("src-a", at(4))]
    await log.append(later)
    restarted = make_archiver(log, tmp_path)
    assert await restarted.consumer.committed() == 0
    await archive_all(restarted)
    assert await restarted.consumer.committed() == 4
    await log.close()
    ids = [event["messageId"] for event in iter_archive(tmp_path, "src-a", T0, T0 + timedelta(hours=1))]
    assert ids == [item.message_id for item in first + later]


async def test_a_duplicated_part_is_read_once(tmp_path):
    log = MemoryLog()
    await log.append([entry("src-a", at(minute)) for minute in (1, 1, 2)])
    records = await log.read_after(0, 10)
    root = archive_root(tmp_path)
    write_parts(root, records[1:])  # an earlier, differently cut flush of the same records
    write_parts(root, records)
    assert len(parts(root)) == 2
    ids = [event["messageId"] for event in iter_archive(tmp_path, "src-a", T0, T0 + timedelta(hours=1))]
    assert sorted(ids) == sorted(record.message_id for record in records)


@pytest.mark.parametrize("days, kept_hours", [(30, 1), (0, 2)])
async def test_retention_drops_old_hours(tmp_path, days, kept_hours):
    log = MemoryLog()
    now = T0 + timedelta(days=40)
    await log.append([entry("src-a", at(0)), entry("src-a", int(now.timestamp() * 1000) - 60_000)])
    archiver = make_archiver(log, tmp_path, retention_days=days, clock=now.timestamp)
    await archive_all(archiver)
    stale = archive_root(tmp_path) / "src-a/2024/06/10/09/.part-1.ndjson.gz.77.tmp"
    stale.write_bytes(b"half")
    await archiver.sweep()
    assert len(parts(archive_root(tmp_path))) == kept_hours
    assert not stale.exists()
    if days:
        assert not (archive_root(tmp_path) / "src-a/2024/05").exists()  # empty directories go too


async def test_stop_writes_what_is_buffered(tmp_path):
    log = MemoryLog()
    archiver = make_archiver(log, tmp_path, flush_seconds=3600)
    await archiver.start()
    await log.append([entry("src-a", at(1))])
    await asyncio.sleep(0.1)  # read, buffered, not yet due
    assert await archiver.consumer.committed() == 0
    await archiver.stop()
    assert len(list(iter_archive(tmp_path, "src-a", T0, T0 + timedelta(hours=1)))) == 1
    assert await archiver.consumer.committed() == 1


async def test_turning_the_archive_off_releases_its_cursor(tmp_path):
    log = MemoryLog()
    log.consumer(ARCHIVE_CONSUMER)
    settings = Settings.load(environ={"SEGUE_ARCHIVE_ENABLED": "false"}, data_dir=tmp_path)
    assert await start_archiver(settings, log) is None
    assert ARCHIVE_CONSUMER not in log._cursors


def test_a_source_id_cannot_leave_the_archive(tmp_path):
    with pytest.raises(ValueError):
        list(iter_archive(tmp_path, "../etc", T0, T0 + timedelta(hours=1)))
