"""kill -9 a process that appends in a loop; every append that returned must be there once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from segue.log import SqliteLog
from tests.log.log_helpers import entry

WRITER = Path(__file__).with_name("crash_writer.py")
pytestmark = pytest.mark.slow


def run_and_kill(directory: Path, run: str, mode: str = "thread", min_lines: int = 3000,
                 max_seconds: float = 5.0) -> dict[str, int | None]:
    """Start the writer, SIGKILL it once it has reported enough appends; its reports."""
    process = subprocess.Popen([sys.executable, str(WRITER), str(directory), run, mode], stdout=subprocess.PIPE)
    deadline = time.monotonic() + max_seconds
    lines = []
    while len(lines) < min_lines and time.monotonic() < deadline:
        lines.append(process.stdout.readline())
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    lines += process.stdout.read().splitlines(keepends=True)
    reported: dict[str, int | None] = {}
    for line in (line.decode() for line in lines if line.endswith(b"\n")):
        message_id, offset = line.split()
        reported.setdefault(message_id, None if offset == "None" else int(offset))
    return reported


def all_records(directory: Path) -> list[tuple[int, str]]:
    rows = []
    for path in sorted((directory / "segments").glob("*.db")):
        with sqlite3.connect(path) as db:
            rows += db.execute("SELECT offset, message_id FROM events ORDER BY offset").fetchall()
    return rows


def assert_intact(directory: Path) -> None:
    for path in directory.rglob("*.db"):
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", path


def assert_exactly_once(records: list[tuple[int, str]], reported: dict[str, int | None]) -> None:
    assert [offset for offset, _ in records] == list(range(1, len(records) + 1))
    where = {message_id: offset for offset, message_id in records}
    assert len(where) == len(records), "a message is stored twice"
    for message_id, offset in reported.items():
        assert message_id in where, f"{message_id} was acknowledged but is missing"
        if offset is not None:
            assert where[message_id] == offset


@pytest.mark.parametrize("mode", ["thread", "process"])
async def test_every_returned_append_survives_kill_9_exactly_once(tmp_path, mode):
    directory = tmp_path / "log"
    reported: dict[str, int | None] = {}
    for run in ("first", "second"):  # the second run starts from a crashed log
        outcome = run_and_kill(directory, run, mode)
        assert sum(offset is not None for offset in outcome.values()) > 100
        reported.update(outcome)
        log = SqliteLog(directory, segment_max_records=300)
        await log.start()  # recovery
        assert_exactly_once(all_records(directory), reported)
        resend = [entry(message_id, source_id="src") for message_id in list(reported)[-2000:]]
        assert set(await log.append(resend)) == {None}
        await log.close()
        assert_intact(directory)
