"""The disk budget watcher (segue/pipeline/disk.py): its arithmetic, ingest's refusal, early retention."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections import namedtuple
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from segue.config import Settings, parse_size
from segue.control import OPERATOR
from segue.errors import StorageFull
from segue.log import SqliteLog
from segue.log.memory import MemoryLog
from segue.log.protocol import Entry
from segue.log.segments import SegmentWriter
from segue.pipeline.archive import iter_archive
from segue.pipeline.disk import DiskReading, DiskWatcher, measure_parts, relieve_pressure
from segue.pipeline.ingest import Ingestor
from segue.pipeline.sources import SourceDirectory
from segue.server import Runtime
from segue.web.tracking import TrackingAPI
from tests.web.conftest import SOURCES, MemorySources

Usage = namedtuple("Usage", "total used free")
MB = 1000**2


class FakeDisk:
    """shutil.disk_usage's twin: the free space the test says."""

    def __init__(self, free: int) -> None:
        self.free = free

    def __call__(self, path: str) -> Usage:
        return Usage(10**12, 10**12 - self.free, self.free)


def write_file(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(size))  # real bytes, so the blocks are allocated


def allocated(path: Path) -> int:
    return path.stat().st_blocks * 512


def test_sizes_are_read_from_the_environment_with_units():
    assert parse_size("10GB") == 10 * 1000**3
    assert parse_size("500 MB") == 500 * MB
    assert parse_size("2GiB") == 2 * 1024**3
    assert parse_size("12345") == 12345
    assert parse_size("1.5G") == 1_500_000_000
    with pytest.raises(ValueError):
        parse_size("lots")
    settings = Settings.load(environ={"SEGUE_DISK_BUDGET": "64MB", "SEGUE_DISK_MIN_FREE_BYTES": "1KiB"})
    assert (settings.disk_budget_bytes, settings.disk_min_free_bytes) == (64 * MB, 1024)
    assert Settings.load(environ={}).disk_budget_bytes == 0  # no budget by default


def test_usage_is_counted_by_part(tmp_path):
    write_file(tmp_path / "log" / "segments" / "1.db", 200_000)
    write_file(tmp_path / "archive" / "src" / "part.ndjson.gz", 50_000)
    write_file(tmp_path / "warehouses" / "wh_1" / "stage" / "batch" / "tracks.ndjson", 30_000)
    write_file(tmp_path / "warehouse.duckdb", 100_000)
    write_file(tmp_path / "warehouse.duckdb.wal", 10_000)
    write_file(tmp_path / "config.db", 5_000)
    parts = measure_parts(tmp_path)
    assert parts["event log"] == allocated(tmp_path / "log" / "segments" / "1.db")
    assert parts["archive"] >= 50_000
    assert parts["warehouse staging"] >= 30_000
    duckdb = tmp_path / "warehouse.duckdb"
    assert parts["DuckDB file"] == allocated(duckdb) + allocated(duckdb.with_suffix(".duckdb.wal"))
    assert parts["other"] == allocated(tmp_path / "config.db")
    reading = DiskReading(sum(parts.values()), 0, parts)
    assert reading.describe().startswith("event log ")


def test_the_budget_refuses_at_the_limit_and_accepts_again_below_it(tmp_path):
    write_file(tmp_path / "log" / "a.db", 400_000)
    used = measure_parts(tmp_path)["event log"]
    watcher = DiskWatcher(tmp_path, budget_bytes=used + 20_000, min_free_bytes=1 * MB, disk_usage=FakeDisk(10**9))
    assert watcher.update(watcher.measure()) is True  # past 90 %: pressing, not yet full
    assert watcher.refusal is None
    watcher.check()
    write_file(tmp_path / "archive" / "big", 200_000)
    watcher.update(watcher.measure())
    assert "disk budget" in watcher.refusal
    with pytest.raises(StorageFull) as raised:
        watcher.check()
    assert raised.value.status == 503 and raised.value.code == "storage_full"
    (tmp_path / "archive" / "big").unlink()
    watcher.update(watcher.measure())
    assert watcher.refusal is None


def test_the_free_space_floor_applies_without_a_budget(tmp_path):
    disk = FakeDisk(free=100 * MB)
    watcher = DiskWatcher(tmp_path, min_free_bytes=256 * MB, disk_usage=disk)
    assert watcher.update(watcher.measure()) is True
    assert "nearly full" in watcher.refusal
    disk.free = 300 * MB
    assert watcher.update(watcher.measure()) is False
    assert watcher.refusal is None
    assert watcher.measure().parts == {}  # no budget: no walk of the data dir on every round


def test_the_archive_is_walked_less_often_unless_under_pressure(tmp_path):
    write_file(tmp_path / "archive" / "a", 100_000)
    watcher = DiskWatcher(tmp_path, budget_bytes=10 * MB, disk_usage=FakeDisk(10**12))
    first = watcher.measure()
    watcher.update(first)
    write_file(tmp_path / "archive" / "b", 100_000)
    assert watcher.measure().parts["archive"] == first.parts["archive"]  # its last walk, reused
    watcher.budget_bytes = first.used_bytes
    assert watcher.update(watcher.measure()) is True
    assert watcher.measure().parts["archive"] > first.parts["archive"]  # under pressure: walked every round


async def test_ingest_refuses_with_storage_full_while_the_watcher_says_so(tmp_path):

    settings = Settings.load(environ={}, data_dir=tmp_path)
    watcher = DiskWatcher(tmp_path, min_free_bytes=MB, disk_usage=FakeDisk(0))
    ingestor = Ingestor(settings, MemoryLog(), sources=None, disk=watcher)
    watcher.update(watcher.measure())
    with pytest.raises(StorageFull):
        await ingestor.ingest("track", b"{}", None, None)


def payload_entries(count: int, prefix: str, size: int = 20_000) -> list[Entry]:
    filler = "x" * size
    return [Entry("src_1", f"{prefix}{n}", "user-1", 1, f'{{"p":"{filler}"}}'.encode()) for n in range(count)]


class FakeArchiver:
    def __init__(self) -> None:
        self.sweeps = 0

    async def sweep(self) -> int:
        self.sweeps += 1
        return 0


async def test_the_high_water_mark_prunes_what_every_consumer_passed(tmp_path, caplog):
    data_dir = tmp_path / "data"
    log = SqliteLog(data_dir / "log", segment_max_records=5, retention_min_seconds=0)
    await log.start()
    try:
        for batch in range(6):
            await log.append(payload_entries(5, f"b{batch}-"))
        slow, fast = log.consumer("slow"), log.consumer("fast")
        await fast.ack(30)
        await slow.ack(15)  # slow still needs 16..30
        archiver = FakeArchiver()
        used = sum(measure_parts(data_dir).values())
        watcher = DiskWatcher(data_dir, budget_bytes=int(used / 0.95), disk_usage=FakeDisk(10**12),
                              relieve=lambda: relieve_pressure(log, archiver))
        with caplog.at_level(logging.WARNING, logger="segue.pipeline.disk"):
            await watcher.poll()
        assert watcher.refusal is None
        assert "event log" in caplog.text and "disk pressure" in caplog.text
        assert archiver.sweeps == 1
        kept = [record.offset for record in await log.newest(100)]
        assert kept[0] == 16 and kept[-1] == 30  # 1..15 dropped early, nothing slow still needs
        assert sum(measure_parts(data_dir).values()) < used
    finally:
        await log.close()


async def test_what_a_consumer_still_needs_stays_and_ingest_is_refused_instead(tmp_path):
    data_dir = tmp_path / "data"
    log = SqliteLog(data_dir / "log", segment_max_records=5, retention_min_seconds=0)
    await log.start()
    try:
        for batch in range(4):
            await log.append(payload_entries(5, f"b{batch}-"))
        log.consumer("stuck")  # acknowledged nothing
        used = sum(measure_parts(data_dir).values())
        watcher = DiskWatcher(data_dir, budget_bytes=used // 2, disk_usage=FakeDisk(10**12),
                              relieve=lambda: relieve_pressure(log, None))
        await watcher.poll()
        assert len(await log.newest(100)) == 20
        assert watcher.refusal is not None
    finally:
        await log.close()


async def test_a_full_disk_under_the_log_answers_503_with_retry_after_then_recovers(tmp_path, monkeypatch):
    log = SqliteLog(tmp_path / "log")
    await log.start()
    directory = SourceDirectory(MemorySources(*SOURCES))
    directory.refresh_now()
    settings = Settings.load(environ={}, data_dir=tmp_path)
    app = TrackingAPI(settings, Ingestor(settings, log, directory), Starlette())
    original = SegmentWriter.write

    def full(self, rows):
        raise sqlite3.OperationalError("database or disk is full")

    event = {"writeKey": "abc123", "userId": "u1", "event": "Full", "messageId": "m-full"}
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://segue.test") as http:
            monkeypatch.setattr(SegmentWriter, "write", full)
            refused = await http.post("/v1/track", json=event)
            assert refused.status_code == 503 and int(refused.headers["retry-after"]) > 0
            assert refused.json()["success"] is False and refused.json()["code"] == "storage_unavailable"
            monkeypatch.setattr(SegmentWriter, "write", original)
            accepted = await http.post("/v1/track", json=event)  # the next append recovers by itself
            assert accepted.status_code == 200
        assert [record.message_id for record in await log.newest(10)] == ["m-full"]
    finally:
        await log.close()


EVENTS = 2500  # of 10 KB each


def files(root: Path) -> list:
    """What takes the space (for failure messages)."""
    return sorted((str(path.relative_to(root)), allocated(path)) for path in root.rglob("*") if path.is_file())


async def cursors(event_log) -> dict:
    return {name: await event_log.consumer(name).committed() for name in await event_log.consumer_names()}


@pytest.mark.slow
async def test_under_steady_load_early_retention_keeps_the_data_dir_within_its_budget(tmp_path):
    """A running Runtime with a 12 MB budget takes 25 MB of events: the log is pruned early, ingest
    waits (503) whenever the budget is full (if retention did not keep up), and every event ends up
    acknowledged and archived."""
    settings = Settings.load(environ={}, data_dir=tmp_path / "data", log_writer_process=False,
                             segment_max_records=40, retention_min_seconds=0, disk_check_seconds=0.05,
                             archive_flush_seconds=0.05, admin_password="disk-password-1")
    settings.ensure_data_dir()
    runtime = Runtime(settings)
    await runtime.start()
    try:
        runtime.plane.update_warehouse(OPERATOR, "warehouse", enabled=False)  # its cursor would hold the log
        source = runtime.plane.create_source(OPERATOR, "load", "python")
        runtime.sources.refresh_now()
        budget = sum(measure_parts(settings.data_dir).values()) + 12 * MB
        runtime.disk.budget_bytes = budget
        acknowledged, filler = 0, "y" * 10_000
        deadline = asyncio.get_running_loop().time() + 60
        for number in range(EVENTS):
            body = f'{{"writeKey":"{source["writeKeys"][0]}","userId":"u{number}","event":"E","p":"{filler}"}}'
            while True:
                try:
                    await runtime.ingestor.ingest("track", body.encode(), None, None)
                    acknowledged += 1
                    break
                except StorageFull:
                    assert asyncio.get_running_loop().time() < deadline, (await cursors(runtime.log),
                                                                           files(settings.data_dir))
                    await asyncio.sleep(0.02)
        while runtime.disk.refusal is not None or sum(measure_parts(settings.data_dir).values()) >= budget:
            assert asyncio.get_running_loop().time() < deadline, (runtime.disk.refusal, files(settings.data_dir))
            await asyncio.sleep(0.05)
        assert (await runtime.log.newest(1))[0].offset == EVENTS
        assert len(await runtime.log.newest(EVENTS)) < EVENTS  # the oldest segments were dropped early
    finally:
        await runtime.stop()
    now = datetime.now(UTC)
    archived = list(iter_archive(settings.data_dir, source["id"], now - timedelta(hours=2), now + timedelta(hours=1)))
    assert acknowledged == EVENTS and len(archived) == EVENTS
