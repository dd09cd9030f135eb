"""SqliteLog beyond the shared contract: group commit, files, durability, failures."""

from __future__ import annotations

import asyncio
import sqlite3
import sys

import pytest

from segue.config import Settings
from segue.errors import StorageUnavailable
from segue.log import SqliteLog, open_log
from segue.log.dedup_store import SqliteDedup
from segue.log.segments import SegmentWriter
from tests.log.log_helpers import entries, entry


def segment_files(directory):
    return sorted(path.name for path in (directory / "segments").iterdir())


def applied_offset(tmp_path):
    with sqlite3.connect(tmp_path / "log" / "dedup.db") as db:
        return db.execute("SELECT offset FROM applied").fetchone()[0]


async def eventually(condition, seconds: float = 5.0) -> bool:
    """Poll `condition` until it holds or `seconds` pass (background threads at work)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


def segment_bases(directory):
    return [int(name[:20]) for name in segment_files(directory) if name.endswith(".db")]


async def test_concurrent_appends_share_commits(sqlite_log):
    log = await sqlite_log()
    results = await asyncio.gather(*(log.append([entry(f"m{n}")]) for n in range(300)))
    assert sorted(offsets[0] for offsets in results) == list(range(1, 301))
    assert log.stats.appends == 300
    assert log.stats.commits < 100  # many appends waited on each fsync


async def test_acks_and_dedup_survive_close_and_reopen(sqlite_log):
    log = await sqlite_log()
    await log.append(entries(5))
    consumer = log.consumer("warehouse")
    await consumer.fetch(3)
    await consumer.ack(3)
    await log.close()
    reopened = await sqlite_log()
    assert await reopened.consumer("warehouse").committed() == 3
    assert [r.offset for r in await reopened.consumer("warehouse").fetch()] == [4, 5]
    assert await reopened.append([entry("m4"), entry("new")]) == [None, 6]


async def test_segments_roll_and_reads_cross_them(sqlite_log, tmp_path):
    log = await sqlite_log(segment_max_records=3)
    for start in range(0, 10, 2):
        await log.append(entries(2, prefix=f"b{start}-"))
    assert segment_bases(tmp_path / "log") == [1, 3, 5, 7, 9]
    assert [r.offset for r in await log.consumer("c").fetch(100)] == list(range(1, 11))
    assert [r.offset for r in await log.newest(5)] == [6, 7, 8, 9, 10]


async def test_a_sealed_segment_is_a_single_file(sqlite_log, tmp_path):
    log = await sqlite_log(segment_max_records=2)
    await log.append(entries(2, prefix="a"))
    await log.append(entries(2, prefix="b"))
    wal = tmp_path / "log" / "segments" / "00000000000000000001.db-wal"
    assert await eventually(lambda: not wal.exists() or wal.stat().st_size == 0)  # sealed in the background


async def test_one_append_larger_than_a_segment_stays_whole(sqlite_log, tmp_path):
    log = await sqlite_log(segment_max_records=3)
    await log.append(entries(1, prefix="a"))
    assert await log.append(entries(5, prefix="b")) == [2, 3, 4, 5, 6]
    await log.append(entries(1, prefix="c"))
    assert segment_bases(tmp_path / "log") == [1, 2, 7]


async def test_prune_deletes_files_only_when_every_consumer_passed(sqlite_log, tmp_path, clock):
    log = await sqlite_log(segment_max_records=2, retention_min_seconds=0)
    for pair in range(4):
        await log.append(entries(2, prefix=f"p{pair}-", received_at_ms=int(clock.now * 1000) - 1))
    a, b = log.consumer("a"), log.consumer("b")
    await a.ack(8)
    assert await log.prune() == 0
    await b.ack(5)
    assert await log.prune() == 4
    assert segment_bases(tmp_path / "log") == [5, 7]
    assert segment_files(tmp_path / "log")[0].startswith("00000000000000000005.db")
    await b.ack(8)
    assert await log.prune() == 2  # never the current segment
    assert [r.offset for r in await log.newest(10)] == [7, 8]


async def test_reader_in_another_process_sees_a_running_log(sqlite_log, tmp_path):
    log = await sqlite_log(segment_max_records=2)
    await log.append(entries(3, source_id="web"))
    code = (
        "import asyncio, sys; from segue.log import SqliteLog\n"
        "async def main():\n"
        "    log = SqliteLog.open_reader(sys.argv[1]); await log.start()\n"
        "    print([r.offset for r in await log.newest(10, source_id='web')]); await log.close()\n"
        "asyncio.run(main())\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, str(tmp_path / "log"),
        stdout=asyncio.subprocess.PIPE,
    )
    stdout, _ = await process.communicate()
    assert stdout.decode().strip() == "[1, 2, 3]"


async def test_read_only_after_the_writer_closed_and_on_a_missing_directory(sqlite_log, tmp_path):
    log = await sqlite_log()
    await log.append(entries(2))
    await log.close()
    for directory, expected in ((tmp_path / "log", 2), (tmp_path / "nothing", 0)):
        reader = SqliteLog.open_reader(directory)
        await reader.start()
        assert len(await reader.newest()) == expected
        with pytest.raises(StorageUnavailable):
            await reader.append(entries(1))
        await reader.close()
    assert not (tmp_path / "nothing").exists()


async def test_dedup_recovers_after_a_crash_between_the_two_commits(sqlite_log, monkeypatch):
    log = await sqlite_log()
    await log.append([entry("m1")])
    monkeypatch.setattr(SqliteDedup, "remember", lambda self, keys, now, applied: None)  # "crash" before it
    assert await log.append([entry("m2"), entry("m3")]) == [2, 3]
    await log.close()
    monkeypatch.undo()
    reopened = await sqlite_log()
    assert await reopened.append([entry("m1"), entry("m2"), entry("m3"), entry("m4")]) == [None, None, None, 4]


async def test_dedup_keys_reach_dedup_db_in_bulk_and_on_close(sqlite_log, tmp_path):
    log = await sqlite_log(dedup_flush_keys=10)
    await log.append(entries(4))
    assert applied_offset(tmp_path) == 0  # still in memory, and deduplicating from there
    assert await log.append(entries(12)) == [None] * 4 + list(range(5, 13))
    assert await eventually(lambda: applied_offset(tmp_path) == 12)  # the background flush
    await log.append([entry("last")])
    await log.close()
    assert applied_offset(tmp_path) == 13


async def test_a_lost_dedup_db_is_rebuilt_from_the_log(sqlite_log, tmp_path):
    log = await sqlite_log(dedup_flush_keys=3)
    await log.append(entries(10))
    await log.close()
    for path in (tmp_path / "log").glob("dedup.db*"):
        path.unlink()
    reopened = await sqlite_log(dedup_flush_keys=3)
    assert await reopened.append(entries(11)) == [None] * 10 + [11]


async def test_a_damaged_dedup_db_is_rebuilt_from_the_log(sqlite_log, tmp_path):
    log = await sqlite_log()
    await log.append(entries(3))
    await log.close()
    (tmp_path / "log" / "dedup.db").write_bytes(b"not a database" * 100)
    reopened = await sqlite_log()
    assert await reopened.append(entries(4)) == [None, None, None, 4]


async def test_a_failed_dedup_flush_keeps_the_keys_and_retries(sqlite_log, tmp_path, monkeypatch):
    log = await sqlite_log(dedup_flush_keys=2)
    original = SqliteDedup._write

    def fail_once(self, *args):
        monkeypatch.setattr(SqliteDedup, "_write", original)
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(SqliteDedup, "_write", fail_once)
    assert await log.append(entries(2)) == [1, 2]  # the records themselves are durable
    assert await eventually(lambda: log._writer.dedup._job.done())
    assert await log.append(entries(4)) == [None, None, 3, 4]  # the failed keys still count
    assert await eventually(lambda: applied_offset(tmp_path) == 4)


async def test_a_full_disk_fails_the_append_then_the_log_carries_on(sqlite_log):
    log = await sqlite_log()
    await log.append([entry("m0")])
    segment = log._writer.segments._db
    pages = segment.execute("PRAGMA page_count").fetchone()[0]
    segment.execute(f"PRAGMA max_page_count = {pages}")  # SQLITE_FULL on the next growth
    big = [entry(f"big{n}", payload=b"x" * 20_000) for n in range(5)]
    with pytest.raises(StorageUnavailable):
        await log.append(big)
    assert await log.append(big) == [2, 3, 4, 5, 6]  # recovery reopened the segment
    assert [r.message_id for r in await log.newest(10)] == ["m0", "big0", "big1", "big2", "big3", "big4"]


async def test_appends_fail_while_writes_fail_and_resume_after(sqlite_log, monkeypatch):
    log = await sqlite_log()
    original = SegmentWriter.write

    def full(self, rows):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(SegmentWriter, "write", full)
    for _ in range(3):
        with pytest.raises(StorageUnavailable):
            await log.append([entry("m1")])
    monkeypatch.setattr(SegmentWriter, "write", original)
    assert await log.append([entry("m1")]) == [1]
    assert await log.append([entry("m1")]) == [None]


async def test_close_writes_queued_appends_and_then_refuses(sqlite_log):
    log = await sqlite_log()
    pending = [asyncio.create_task(log.append([entry(f"m{n}")])) for n in range(50)]
    await asyncio.sleep(0)
    await log.close()
    assert sorted([(await task)[0] for task in pending]) == list(range(1, 51))
    with pytest.raises(StorageUnavailable):
        await log.append([entry("late")])
    with pytest.raises(StorageUnavailable):
        log.consumer("late")


async def test_a_partial_segment_left_by_a_crash_is_removed(sqlite_log, tmp_path):
    log = await sqlite_log()
    await log.append(entries(2))
    await log.close()
    (tmp_path / "log" / "segments" / "00000000000000000003.db.partial").write_bytes(b"half")
    reopened = await sqlite_log()
    assert await reopened.append([entry("next")]) == [3]
    assert not any(name.endswith(".partial") for name in segment_files(tmp_path / "log"))


async def test_open_log_builds_from_settings(tmp_path):
    settings = Settings.load(environ={}, data_dir=tmp_path, log_partitions=4, segment_max_records=7)
    log = open_log(settings)
    assert isinstance(log, SqliteLog) and log.partitions == 4 and log.directory == tmp_path / "log"
    assert open_log(settings, read_only=True).read_only


async def test_keys_on_disk_are_found_through_their_filters_before_and_after_a_restart(sqlite_log, tmp_path):
    log = await sqlite_log(dedup_flush_keys=5)
    await log.append(entries(10))
    assert await eventually(lambda: applied_offset(tmp_path) == 10)  # every key is in dedup.db now
    assert not log._writer.dedup._pending and not log._writer.dedup._flushing
    assert await log.append(entries(11)) == [None] * 10 + [11]
    await log.close()
    reopened = await sqlite_log(dedup_flush_keys=5)  # filters rebuilt from the tables
    assert await reopened.append(entries(12)) == [None] * 11 + [12]
