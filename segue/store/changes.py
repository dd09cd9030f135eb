"""Config changes pushed to running processes: PostgreSQL's LISTEN/NOTIFY.

Every write to the config store bumps the workspace's `config_version` (db.py), and running
processes poll it every `SEGUE_CONFIG_POLL_SECONDS`. On PostgreSQL the same transaction also
notifies the channel `segue_config` (delivered when it commits); a `ChangeFeed` listens on it
and wakes every follower at once, so a change made on one node reaches the others within
milliseconds. Polling stays as the fallback: on SQLite (one machine), and while the listening
connection is down (it reconnects by itself).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any, Awaitable, Callable

from segue.store.engine import is_postgres_url, libpq_conninfo
from segue.tasks import carry_on

log = logging.getLogger(__name__)
CHANNEL = "segue_config"
LISTEN_TURN_SECONDS = 1.0  # how often the listening thread looks whether it should stop
RECONNECT_SECONDS = 2.0
COALESCE_SECONDS = 0.05  # after a notification, wait this long for the rest of a burst


class Waiter:
    """One follower's wake-up call: `pause(seconds)` returns after `seconds`, or at once when a
    change was notified since the last pause."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()

    def notify(self) -> None:  # from the listening thread
        self._loop.call_soon_threadsafe(self._changed.set)

    async def pause(self, seconds: float) -> bool:
        """True when a change was notified (then after a short pause for the rest of a burst),
        False after `seconds` without one."""
        try:
            await asyncio.wait_for(self._changed.wait(), seconds)
        except TimeoutError:
            return False
        await asyncio.sleep(COALESCE_SECONDS)
        self._changed.clear()
        return True


class ChangeFeed:
    """Listens for config changes on PostgreSQL and wakes the waiters; does nothing on SQLite."""

    def __init__(self, database_url: str) -> None:
        self.enabled = is_postgres_url(database_url)
        self._conninfo = libpq_conninfo(database_url)
        self._waiters: list[Waiter] = []
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def waiter(self) -> Waiter:
        """A waiter for one follower (call inside its event loop)."""
        waiter = Waiter()
        self._waiters.append(waiter)
        return waiter

    def start(self) -> None:
        if self.enabled and self._thread is None:
            self._thread = threading.Thread(target=self._listen, name="segue-config-changes", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=LISTEN_TURN_SECONDS * 3)
            self._thread = None

    def _listen(self) -> None:
        import psycopg

        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5) as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self._wake()  # changes made while not listening: look once now
                    while not self._stopping.is_set():
                        for _ in connection.notifies(timeout=LISTEN_TURN_SECONDS):
                            self._wake()
            except Exception as error:  # the server went away: polling carries on meanwhile
                log.warning("not listening for config changes (%s); retrying in %.0f s", error, RECONNECT_SECONDS)
                self._stopping.wait(RECONNECT_SECONDS)

    def _wake(self) -> None:
        for waiter in list(self._waiters):
            try:
                waiter.notify()
            except RuntimeError:  # its event loop is closed
                self._waiters.remove(waiter)


async def follow_changes(changes: ChangeFeed | None, seconds: float, look: Callable[[], Awaitable[Any]],
                         what: str) -> None:
    """Run `look()` every `seconds`, or at once when a change is notified, forever (a task;
    cancel to stop). A failed look is logged and the next one retries: a config store hiccup
    must not stop ingest, delivery or syncs."""
    waiter = changes.waiter() if changes else None
    while True:
        if waiter is None:
            await asyncio.sleep(seconds)
        else:
            await waiter.pause(seconds)
        with carry_on(log, f"follow {what} in the config store"):
            await look()
