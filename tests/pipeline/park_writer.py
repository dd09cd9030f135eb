"""Parks events in a loop and reports each parked batch on stdout once `park` returned.

Run by test_retries_crash.py, which kills it with SIGKILL at an arbitrary moment. Usage:
python park_writer.py <database path>. Each output line lists the offsets of one batch; one
os.write per batch, so a line is never cut in half.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from pathlib import Path

from segue.pipeline.retries import SqliteRetryQueue
from tests.pipeline.retry_helpers import parked


async def main(path: Path) -> None:
    queue = SqliteRetryQueue(path)
    offsets = itertools.count(1)
    for size in itertools.cycle([1, 3, 7, 20]):
        batch = [parked(f"user-{offset % 50}", offset) for offset in itertools.islice(offsets, size)]
        await queue.park(batch)
        os.write(1, (" ".join(str(item.offset) for item in batch) + "\n").encode())


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
