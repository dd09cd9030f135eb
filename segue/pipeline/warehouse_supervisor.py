"""The sync supervisor: one `WarehouseSyncer` per enabled warehouse, following the config store.

Like the router, it polls the workspace's `config_version` and reconciles: a newly enabled
warehouse gets a syncer (and a cursor at the oldest record the log still holds, so it loads the
history the log retains, as Segment does on connect); a disabled one is stopped and its cursor
dropped, so it does not hold back the log's retention (enabling it again reloads what the log
still holds, deduplicated); a deleted one also loses its staging directory. "Sync now" requests
(`Pending` rows in the sync history, which bump the config version) go to their syncer.

One loader per warehouse at a time: a node runs a warehouse's syncer only while it holds the
warehouse's lease (segue/log/leases.py; on one node it always does). When the holder dies, the
lease passes on after the lease time; the next holder marks the syncs left `Running` as
interrupted and loads from the warehouse's cursor (loads are deduplicated, so a load cut short
is simply done again).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from pathlib import Path
from typing import Any, Callable

from segue.config import Settings
from segue.log.leases import Leases, LocalLeases
from segue.pipeline.cursors import sweep_cursors
from segue.pipeline.warehouse_sync import CONSUMER_PREFIX, TICK_SECONDS, WarehouseSyncer, consumer_name
from segue.store.changes import ChangeFeed, follow_changes
from segue.tasks import cancel_tasks, carry_on

log = logging.getLogger(__name__)
INTERRUPTED = "interrupted: Segue stopped during this sync; the next sync loads its events"


class SyncSupervisor:
    """Starts, reconfigures and stops the warehouse syncers as the configuration changes."""

    def __init__(self, settings: Settings, store: Any, event_log: Any, clock: Callable[[], float] = time.time,
                 tick_seconds: float = TICK_SECONDS, leases: Leases | None = None,
                 changes: ChangeFeed | None = None) -> None:
        self.settings, self.store, self.log = settings, store, event_log
        self.leases = leases or LocalLeases(settings.node, settings.lease_seconds)
        self.changes = changes  # config changes notified by PostgreSQL (polling stays the fallback)
        self._enabled: dict[str, Any] = {}  # the enabled warehouses, as of the last reconcile
        self._lock = asyncio.Lock()  # reconcile and lease renewal change the syncers one at a time
        self.clock, self.tick_seconds = clock, tick_seconds
        self.syncers: dict[str, WarehouseSyncer] = {}
        self._tasks: dict[str, asyncio.Task] = {}
        self._known: set[str] = set()
        self._version: int | None = None
        self._background: list[asyncio.Task] = []

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    async def start(self) -> None:
        await self.reconcile()
        await sweep_cursors(self.log, CONSUMER_PREFIX, self.syncers, self._known, self._forget)
        follow = follow_changes(self.changes, self.settings.config_poll_seconds, self._reconcile_if_changed,
                                "warehouse changes")
        self._background = [asyncio.create_task(follow, name="warehouse-syncs-follow-config"),
                            asyncio.create_task(self._keep_leases(), name="warehouse-leases")]

    async def stop(self) -> None:
        await cancel_tasks(*self._background, *self._tasks.values())
        self._tasks.clear()
        self.syncers.clear()

    def sync_now(self, warehouse_id: str) -> None:
        """Ask a running syncer for a sync at once (the store's `request_sync` does it across processes)."""
        self.syncers[warehouse_id].request()

    async def reconcile(self) -> None:
        """Make the running syncers match the enabled warehouses; hand out sync requests."""
        async with self._lock:
            self._version = await asyncio.to_thread(self.store.config_version)
            warehouses, pending = await asyncio.to_thread(self._load)
            self._enabled = {warehouse.id: warehouse for warehouse in warehouses if warehouse.enabled}
            for warehouse_id in set(self.syncers) - set(self._enabled):
                await self._stop_syncer(warehouse_id)
            existing = {warehouse.id for warehouse in warehouses}
            for warehouse_id in self._known - existing:
                await self._forget(warehouse_id)
            await self._claim()
            for sync in pending:
                await self._hand_out(sync)
            self._known = existing

    async def _claim(self) -> None:
        """Run a syncer for each enabled warehouse whose lease this node takes or renews; stop
        the syncers whose lease another node holds now."""
        for warehouse in self._enabled.values():
            if await self.leases.acquire(lease_name(warehouse.id)):
                if warehouse.id not in self.syncers:
                    await asyncio.to_thread(self.store.interrupt_running_syncs, INTERRUPTED, warehouse.id)
                self._run_syncer(warehouse)
            elif warehouse.id in self.syncers:
                log.warning("warehouse %s is loaded by another node now", warehouse.id)
                await self._halt(warehouse.id)

    async def _keep_leases(self) -> None:
        """Renew the warehouses' leases three times per lease time (and take free ones)."""
        while True:
            await asyncio.sleep(self.leases.ttl / 3)
            with carry_on(log, "renew the warehouse leases"):  # NATS unreachable: another node takes over
                async with self._lock:
                    await self._claim()

    def _load(self) -> tuple[list, list]:
        return self.store.list_warehouses(), self.store.pending_syncs()

    def _run_syncer(self, warehouse: Any) -> None:
        syncer = self.syncers.get(warehouse.id)
        if syncer is not None:
            syncer.warehouse = warehouse  # settings, sources or interval may have changed
            return
        syncer = WarehouseSyncer(warehouse, self.store, self.log, self.data_dir, self.clock,
                                 tick_seconds=self.tick_seconds)  # fmt: skip
        self.syncers[warehouse.id] = syncer
        self._tasks[warehouse.id] = asyncio.create_task(syncer.run(), name=f"sync-{warehouse.id}")

    async def _hand_out(self, sync: Any) -> None:
        syncer = self.syncers.get(sync.warehouse_id)
        if syncer is not None:
            syncer.request(sync.id)
        elif sync.warehouse_id not in self._enabled:
            await asyncio.to_thread(self.store.finish_sync, sync.id, status="Failure", rows={}, notices=[],
                                    error="the warehouse is disabled; enable it to sync")  # fmt: skip

    async def _stop_syncer(self, warehouse_id: str) -> None:
        """Disabled: stop, and drop the cursor so it holds nothing back."""
        await self._halt(warehouse_id)
        await self.leases.release(lease_name(warehouse_id))
        await self.log.remove_consumer(consumer_name(warehouse_id))

    async def _halt(self, warehouse_id: str) -> None:
        self.syncers.pop(warehouse_id)
        await cancel_tasks(self._tasks.pop(warehouse_id))

    async def _forget(self, warehouse_id: str) -> None:
        """Deleted: its cursor and staged files go too (its tables stay in the warehouse)."""
        await self.log.remove_consumer(consumer_name(warehouse_id))
        directory = self.data_dir / "warehouses" / warehouse_id
        await asyncio.to_thread(shutil.rmtree, directory, True)

    async def _reconcile_if_changed(self) -> None:
        if await asyncio.to_thread(self.store.config_version) != self._version:
            await self.reconcile()


def lease_name(warehouse_id: str) -> str:
    return f"warehouse-{warehouse_id}"
