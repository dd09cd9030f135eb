"""Appends to a SqliteLog in a loop and reports each returned offset on stdout.

Run by test_log_crash.py, which kills it with SIGKILL at an arbitrary moment. Usage:
python crash_writer.py <log directory> <run name> [thread|process]. Each output line is `<message id> <offset>`
(`None` for a duplicate); one os.write per append, so a line is never cut in half.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from pathlib import Path

from segue.log import SqliteLog
from segue.log.protocol import Entry

WORKERS = 16
SEGMENT_MAX_RECORDS = 300  # small, so that kills land during segment rolls too
DEDUP_FLUSH_KEYS = 500  # and during dedup flushes


async def worker(log: SqliteLog, run: str, number: int) -> None:
    previous: list[Entry] = []
    for n in itertools.count():
        batch = [Entry("src", f"{run}-{number}-{n}-{i}", f"user-{i}", 0, b"x" * 200) for i in range(1 + n % 7)]
        batch += previous[:1]  # a resend: must come back as a duplicate
        offsets = await log.append(batch)
        os.write(1, "".join(f"{e.message_id} {o}\n" for e, o in zip(batch, offsets)).encode())
        previous = batch


async def main(directory: Path, run: str, mode: str) -> None:
    log = SqliteLog(directory, segment_max_records=SEGMENT_MAX_RECORDS, dedup_flush_keys=DEDUP_FLUSH_KEYS,
                    writer_process=mode == "process")
    await log.start()
    await asyncio.gather(*(worker(log, run, number) for number in range(WORKERS)))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "thread"))
