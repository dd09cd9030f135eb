"""The writer in its own process: answers like the thread, fails cleanly and comes back when killed."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from segue.errors import StorageUnavailable
from segue.log import SqliteLog
from tests.log.log_helpers import entry

pytestmark = pytest.mark.slow


async def append_until_stored(log: SqliteLog, message_id: str, seconds: float = 30.0) -> int:
    """Retry like a client would while the writer restarts; the offset once stored."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            [offset] = await log.append([entry(message_id)])
            return offset
        except StorageUnavailable:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.1)


async def test_killed_writer_fails_appends_cleanly_then_restarts(tmp_path):
    log = SqliteLog(tmp_path / "log", writer_process=True)
    await log.start()
    try:
        assert await log.append([entry("before")]) == [1]
        os.kill(log._writer._child.pid, signal.SIGKILL)
        offset = await append_until_stored(log, "after")
        assert offset == 2
        assert await log.append([entry("before"), entry("after")]) == [None, None]  # dedup survived
        assert [r.message_id for r in await log.newest(10)] == ["before", "after"]
    finally:
        await log.close()


async def test_a_second_writer_waits_for_the_first(tmp_path):
    first = SqliteLog(tmp_path / "log", writer_process=True)
    await first.start()
    await first.append([entry("m1")])
    second = SqliteLog(tmp_path / "log", writer_process=True)
    opening = asyncio.create_task(second.start())
    await asyncio.sleep(1.0)
    assert not opening.done()  # blocked on the writer lock
    await first.close()
    await asyncio.wait_for(opening, 30)
    assert await second.append([entry("m1"), entry("m2")]) == [None, 2]
    await second.close()


async def test_closing_while_the_writer_restarts_leaves_no_child_behind(tmp_path):
    log = SqliteLog(tmp_path / "log", writer_process=True)
    await log.start()
    os.kill(log._writer._child.pid, signal.SIGKILL)
    with pytest.raises(StorageUnavailable):
        await log.append([entry("lost")])  # fails cleanly: the writer is gone
    await asyncio.sleep(0)  # the restart has begun
    await log.close()
    child = log._writer._child
    assert child.poll() is not None, "a writer started during shutdown is still running"
