"""The write-key directory ingest consults on every request, kept fresh from the config store.

Lookups are a dict access on the event loop. A background task polls the store's config
version (a one-row query) and reloads the keys when it changes, so a source created, disabled
or rotated from the CLI, the app or the API takes effect within `config_poll_seconds`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from segue.store.changes import ChangeFeed, follow_changes

log = logging.getLogger(__name__)


class SourceStore(Protocol):
    """The part of the config store the directory needs."""

    def config_version(self) -> int: ...

    def write_keys(self) -> dict[str, Any]: ...


class SourceDirectory:
    """write key -> source record, refreshed when the config store changes."""

    def __init__(self, store: SourceStore, poll_seconds: float = 0.5, changes: ChangeFeed | None = None) -> None:
        self._store = store
        self._changes = changes  # config changes notified by PostgreSQL (polling stays the fallback)
        self._poll_seconds = poll_seconds
        self._version: int | None = None
        self._by_key: dict[str, Any] = {}

    def lookup(self, write_key: str) -> Any | None:
        """The source with this write key, or None when unknown."""
        return self._by_key.get(write_key)

    def refresh_now(self) -> None:
        """Reload unconditionally (blocking; used at start-up and by tests)."""
        self._version = self._store.config_version()
        self._by_key = self._store.write_keys()

    async def refresh_if_changed(self) -> bool:
        """Reload when the store's config version moved; True when it did."""
        version = await asyncio.to_thread(self._store.config_version)
        if version == self._version:
            return False
        keys = await asyncio.to_thread(self._store.write_keys)
        self._version, self._by_key = version, keys
        return True

    async def follow(self) -> None:
        """Look every poll, or sooner when a change is notified (run as a task; cancel to stop)."""
        await follow_changes(self._changes, self._poll_seconds, self.refresh_if_changed, "write keys")
