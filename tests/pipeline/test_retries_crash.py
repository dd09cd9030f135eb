"""kill -9 a process that parks events in a loop: every park that returned is there after a reopen."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from segue.pipeline.retries import SqliteRetryQueue

WRITER = Path(__file__).with_name("park_writer.py")
ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def park_and_kill(path: Path, min_lines: int = 200, max_seconds: float = 20.0) -> list[int]:
    """Start the writer, SIGKILL it once it reported enough parks; the offsets it reported."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, str(WRITER), str(path)], stdout=subprocess.PIPE, env=environment)
    deadline = time.monotonic() + max_seconds
    lines = []
    while len(lines) < min_lines and time.monotonic() < deadline:
        lines.append(process.stdout.readline())
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    lines += process.stdout.read().splitlines(keepends=True)
    return [int(offset) for line in lines if line.endswith(b"\n") for offset in line.split()]


async def test_every_parked_event_survives_kill_9(tmp_path):
    path = tmp_path / "retries.db"
    reported = park_and_kill(path)
    assert len(reported) > 500
    queue = SqliteRetryQueue(path)
    stored, by_user = set(), {}
    while heads := await queue.due("dst_a", float("inf"), 1000):
        stored.update(item.offset for item in heads)
        for item in heads:
            by_user.setdefault(item.user_key, []).append(item.offset)
        await queue.done([item.id for item in heads])  # the next event of each user becomes its head
    await queue.close()
    assert set(reported) <= stored
    assert all(offsets == sorted(offsets) for offsets in by_user.values())  # each user's order kept
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
