"""Ending background tasks, the same way everywhere.

`asyncio.wait` rather than `await task` inside `suppress(CancelledError)`: the latter also
swallows a cancellation of the caller itself, which must go on up.
"""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)


async def cancel_tasks(*tasks: asyncio.Task | None) -> None:
    """Cancel the tasks (None: nothing to do) and wait until they have ended; a task that had
    failed before is logged with its error."""
    running = [task for task in tasks if task is not None]
    for task in running:
        task.cancel()
    if running:
        await asyncio.wait(running)
    for task in running:
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s had failed", task.get_name(), exc_info=task.exception())


async def end_task(task: asyncio.Task, within: float) -> None:
    """Wait up to `within` seconds for a task that was asked to stop, then cancel it."""
    if not (await asyncio.wait({task}, timeout=within))[0]:
        await cancel_tasks(task)
