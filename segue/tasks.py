"""Ending background tasks, the same way everywhere.

`asyncio.wait` rather than `await task` inside `suppress(CancelledError)`: the latter also
swallows a cancellation of the caller itself, which must go on up.

Some libraries swallow a cancellation or turn it into another error. nats-py does both: a flush
cancelled while it waits returns normally (`nats/aio/client.py`), and a JetStream publish (a key-value
put too) cancelled while it waits raises `TooManyStalledMsgsError` (`nats/js/client.py`). A background
loop that logs errors and carries on then never ends, and whoever waits for it hangs (seen: a router
stopping during a lease renewal). Loops run each turn in `carry_on`, and `cancel_tasks` asks again
if a task is still running after `RECANCEL_SECONDS`.

Bottom layer, next to config and errors: the store, the log and the pipeline all run such loops.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from contextlib import contextmanager
from typing import Callable, Iterator

log = logging.getLogger(__name__)

RECANCEL_SECONDS = 5.0


def resume_cancellation() -> None:
    """Raise `CancelledError` if this task was asked to stop and a library ate the request."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


@contextmanager
def carry_on(logger: logging.Logger, what: str) -> Iterator[None]:
    """One turn of a background loop: an error is logged ("could not <what>") and the loop goes
    on; a cancellation goes on up, even one a library ate."""
    try:
        yield
    except Exception:
        resume_cancellation()
        logger.exception("could not %s", what)
    resume_cancellation()


async def cancel_tasks(*tasks: asyncio.Task | None) -> None:
    """Cancel the tasks (None: nothing to do) and wait until they have ended; a task that had
    failed before is logged with its error."""
    running = [task for task in tasks if task is not None]
    for task in running:
        task.cancel()
    pending = set(running)
    while pending:
        pending = (await asyncio.wait(pending, timeout=RECANCEL_SECONDS))[1]
        for task in pending:  # a library swallowed the cancellation: ask again
            log.warning("background task %s did not stop when cancelled; cancelling it again", task.get_name())
            task.cancel()
    for task in running:
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s had failed", task.get_name(), exc_info=task.exception())


async def end_task(task: asyncio.Task, within: float) -> None:
    """Wait up to `within` seconds for a task that was asked to stop, then cancel it."""
    if not (await asyncio.wait({task}, timeout=within))[0]:
        await cancel_tasks(task)


REPEAT_LOG_SECONDS = 60.0


class RepeatedFailure:
    """Logs a failure that a background loop keeps retrying without flooding the journal: the
    first one with its traceback, then one line at most every REPEAT_LOG_SECONDS while it
    lasts, and one line when the loop succeeds again (a router retrying each second while
    PostgreSQL is down would otherwise log a traceback a second)."""

    def __init__(self, logger: logging.Logger, what: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.logger, self.what, self.clock = logger, what, clock
        self.failures = 0
        self._logged_at = -math.inf

    def failed(self, error: BaseException) -> None:
        self.failures += 1
        now = self.clock()
        if self.failures == 1:
            self.logger.error("could not %s; retrying", self.what, exc_info=error)
        elif now - self._logged_at >= REPEAT_LOG_SECONDS:
            self.logger.error("still could not %s (%d failures so far): %s", self.what, self.failures, error)
        else:
            return
        self._logged_at = now

    def succeeded(self) -> None:
        if self.failures:
            self.logger.warning("could %s again after %d failure(s)", self.what, self.failures)
        self.failures, self._logged_at = 0, -math.inf
