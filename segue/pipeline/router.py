"""The router: one delivery worker per enabled cloud-mode destination instance.

It follows the config store (the workspace's `config_version`, polled like the write keys)
and starts a worker when an instance is enabled, stops it when the instance is disabled,
and forgets its cursor and retries when the instance is deleted. A new instance's cursor
starts at the head of the log: it receives what arrives while it is enabled (Replay is how
history reaches a destination). A changed setting or filter reaches the running worker.

On one node a worker reads the whole log with one cursor. Routers sharing a JetStream log
(`ownership` set) each deliver the partitions they hold a lease on, with one cursor per
instance and partition (segue/pipeline/partitions.py); when the partitions they hold change,
their workers restart on the new set.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable

from segue.config import Settings
from segue.destinations.registry import Catalog
from segue.errors import ConfigError
from segue.pipeline.cursors import sweep_cursors
from segue.pipeline.delivery import Sender
from segue.pipeline.http import HttpClient
from segue.pipeline.transports import Transports
from segue.pipeline.retries import SqliteRetryQueue, SqlRetryQueue
from segue.pipeline.retries_postgres import PostgresRetryQueue, adopt_local_queue
from segue.pipeline.instances import instance_config
from segue.pipeline.partitions import PartitionOwnership, PartitionsConsumer, rate_share
from segue.pipeline.routing import InstanceConfig
from segue.pipeline.stats import PostgresStatsStore, SqliteStatsStore, SqlStatsStore
from segue.store.changes import ChangeFeed, follow_changes
from segue.store.engine import is_postgres_url
from segue.pipeline.worker import CONSUMER_PREFIX, InstanceWorker, consumer_name
from segue.tasks import RepeatedFailure, cancel_tasks, carry_on, end_task

log = logging.getLogger(__name__)
STATS_FLUSH_SECONDS = 1.0
HALT_SECONDS = 5.0  # how long a stopping worker may take to finish its turn before it is cancelled
RECENT_RECORDS = 10_000  # how far back a new instance's start is looked for (seconds of traffic)


def open_delivery_stores(settings: Settings) -> tuple[SqlRetryQueue, SqlStatsStore]:
    """The retry queue and the delivery records: in the config store's database when it is
    PostgreSQL (shared by every node), else in `<data dir>/delivery/`."""
    if is_postgres_url(settings.database_url):
        return PostgresRetryQueue(settings.database_url), PostgresStatsStore(settings.database_url)
    directory = settings.data_dir / "delivery"
    directory.mkdir(parents=True, exist_ok=True)
    return SqliteRetryQueue(local_retries_path(settings)), SqliteStatsStore(directory / "stats.db")


def local_retries_path(settings: Settings) -> Path:
    return settings.data_dir / "delivery" / "retries.db"


async def adopt_local_retries(settings: Settings, retries: SqlRetryQueue, partitions: int) -> None:
    """A shared retry queue takes over what this node's own queue still holds."""
    if isinstance(retries, PostgresRetryQueue):
        await adopt_local_queue(retries, local_retries_path(settings), partitions)


class Router:
    """Starts, reconfigures and stops the delivery workers as the configuration changes."""

    def __init__(self, settings: Settings, store: Any, event_log: Any, catalog: Catalog, retries: Any, stats: Any,
                 clock: Callable[[], float] = time.time,
                 renew_token: Callable[[str], Awaitable[Any]] | None = None,
                 ownership: PartitionOwnership | None = None, changes: ChangeFeed | None = None) -> None:
        self.settings, self.store, self.log, self.catalog = settings, store, event_log, catalog
        self.clock = clock
        self.renew_token = renew_token  # OAuth: renews an instance's access token (control plane)
        self.retries, self.stats = retries, stats
        self.http = HttpClient(allow_private=settings.allow_private_destinations)
        self.transports = Transports(allow_private=settings.allow_private_destinations)
        self.workers: dict[str, InstanceWorker] = {}
        self._tasks: dict[str, asyncio.Task] = {}
        self._known: set[str] = set()
        self._version: int | None = None
        self._background: list[asyncio.Task] = []
        self.ownership = ownership
        self.changes = changes  # config changes notified by PostgreSQL (polling stays the fallback)
        self.partitions: frozenset[int] | None = None  # None: the whole log (one node)
        self._lock = asyncio.Lock()  # config changes and partition changes restart workers one at a time
        self._target: frozenset[int] | None = None  # the partitions the leases say to deliver
        self._retarget = asyncio.Event()  # set when `_target` changed

    async def start(self) -> None:
        if self.ownership is not None:
            self.partitions = self._target = await self._first_partitions()
        await self.reconcile()
        await sweep_cursors(self.log, CONSUMER_PREFIX, self.workers, self._known, self._forget)
        follow = follow_changes(self.changes, self.settings.config_poll_seconds, self._reconcile_if_changed,
                                "destination changes")
        self._background = [asyncio.create_task(follow, name="router-follow-config"),
                            asyncio.create_task(self._flush_stats(), name="router-flush-stats")]
        if self.ownership is not None:
            self._background += [asyncio.create_task(self._keep_partitions(), name="router-partition-leases"),
                                 asyncio.create_task(self._follow_partitions(), name="router-partitions")]

    async def stop(self) -> None:
        """Let every worker finish its turn (at most HALT_SECONDS), then release the partitions."""
        await cancel_tasks(*self._background)
        await asyncio.gather(*(self._halt(instance_id) for instance_id in list(self.workers)))
        if self.ownership is not None:
            await self.ownership.release_all()
        await self.stats.flush()
        await self.http.close()
        await self.transports.close()

    async def reconcile(self) -> None:
        """Make the running workers match the enabled cloud-mode instances."""
        async with self._lock:
            self._version = await asyncio.to_thread(self.store.config_version)
            configs, existing, changed_at = await asyncio.to_thread(self._load)
            for instance_id in set(self.workers) - set(configs):
                await self._stop_worker(instance_id)
            for instance_id in self._known - existing:
                await self._forget(instance_id)
            names = set(await self.log.consumer_names()) if set(configs) - set(self.workers) else set()
            for instance_id, config in configs.items():
                if instance_id not in self.workers:
                    await self._register(instance_id, names, changed_at[instance_id])
                self._run_worker(config)
            self._known = existing

    def _load(self) -> tuple[dict[str, InstanceConfig], set[str], dict[str, int]]:
        """The enabled cloud-mode instances' configs, every instance id, and when each instance
        last changed (epoch ms)."""
        plan = self.store.get_workspace().plan
        records = self.store.list_destinations()
        configs = {}
        for record in records:
            if record.enabled and record.mode == "cloud" and record.catalog_slug in self.catalog:
                config = self._config(record, plan)
                if config is not None:
                    configs[record.id] = config
        changed_at = {record.id: _epoch_ms(record.updated_at) for record in records}
        return configs, {record.id for record in records}, changed_at

    async def _register(self, instance_id: str, registered: set[str], enabled_at_ms: int) -> None:
        """A new instance's cursors start before the first event received since it was enabled
        (its last change), not at the head when this router noticed it up to a poll later:
        events sent right after switching a destination on reach it too. Sharing routers
        register every partition's cursor, each computing the same start."""
        cursors = {name: partition for name, partition in self._cursors(instance_id) if name not in registered}
        if not cursors:
            return
        recent = await self.log.newest(RECENT_RECORDS)
        before = [record.offset for record in recent if record.received_at_ms < enabled_at_ms]
        start = before[-1] if before else (recent[0].offset - 1 if recent else 0)
        for name, partition in cursors.items():
            await self.log.consumer(name, partition=partition).ack(start)  # registered at 0, moved to `start`

    def _cursors(self, instance_id: str) -> list[tuple[str, int | None]]:
        """The instance's cursor names, with the partition each reads (None: the whole log)."""
        if self.ownership is None:
            return [(consumer_name(instance_id), None)]
        return [(f"{consumer_name(instance_id)}@{partition}", partition) for partition in range(self.log.partitions)]

    def _reader(self, instance_id: str) -> Any:
        """What the instance's worker reads (its cursors were registered by `_register`): the
        whole log, or the partitions this router holds."""
        if self.ownership is None:
            return self.log.consumer(consumer_name(instance_id))
        return PartitionsConsumer({partition: self.log.consumer(name, partition=partition)
                                   for name, partition in self._cursors(instance_id) if partition in self.partitions},
                                  head=self.log.head_offset)

    def _config(self, record: Any, plan: str) -> InstanceConfig | None:
        try:
            return instance_config(self.store, self.catalog, record, with_filters=plan == "business")
        except ConfigError as error:
            log.error("destination %s is enabled but %s", record.id, error.message)
            return None

    def _run_worker(self, config: InstanceConfig) -> None:
        worker = self.workers.get(config.id)
        if worker is not None:
            worker.config = config  # settings or filters may have changed
            return
        consumer = self._reader(config.id)
        rate_limit = rate_share(config.destination.rate_limit, self.partitions, self.log.partitions)
        sender = Sender(self.http, concurrency=self.settings.delivery_concurrency,
                        timeout=self.settings.delivery_timeout_seconds, rate_limit=rate_limit, transports=self.transports)
        worker = InstanceWorker(config, consumer, sender, self.retries, self.stats, self.settings, self.clock,
                                reauthorize=self._reauthorize, partitions=self.partitions)
        self.workers[config.id] = worker
        self._tasks[config.id] = asyncio.create_task(worker.run(), name=f"deliver-{config.id}")

    async def _reauthorize(self, instance_id: str) -> InstanceConfig | None:
        """After a 401: renew the instance's OAuth token; its new config, or None when renewing
        failed (the 401 then stands, with the reason in the log)."""
        if self.renew_token is None:
            return None
        try:
            await self.renew_token(instance_id)
            return await asyncio.to_thread(self._reloaded, instance_id)
        except Exception as error:
            log.warning("renewing the token of destination %s failed: %s", instance_id, error)
            return None

    def _reloaded(self, instance_id: str) -> InstanceConfig | None:
        return self._config(self.store.get_destination(instance_id), self.store.get_workspace().plan)

    async def _halt(self, instance_id: str) -> InstanceWorker:
        """Stop a worker after its current turn (what it sent is then acknowledged, so the next
        reader of its partitions does not send it again), or cut it short after HALT_SECONDS."""
        worker = self.workers.pop(instance_id)
        task = self._tasks.pop(instance_id)
        worker.stopping = True
        await end_task(task, HALT_SECONDS)
        await worker.consumer.close()
        return worker

    async def _stop_worker(self, instance_id: str) -> None:
        """Disabled: stop, and drop the cursors: a disabled instance receives nothing, so when it
        is enabled again it starts at that moment (its parked retries stay until deleted)."""
        await self._halt(instance_id)
        await self._remove_cursors(instance_id)

    async def _forget(self, instance_id: str) -> None:
        """Deleted: its cursors and parked retries go too, so they hold nothing back."""
        await self._remove_cursors(instance_id)
        await self.retries.drop_instance(instance_id)

    async def _remove_cursors(self, instance_id: str) -> None:
        for name, _ in self._cursors(instance_id):
            await self.log.remove_consumer(name)

    async def _first_partitions(self) -> frozenset[int]:
        """The partitions to start with; none when NATS does not answer yet (the lease keeper
        retries every few seconds)."""
        try:
            return await self.ownership.rebalance()
        except Exception:
            log.exception("could not take partition leases at start; retrying shortly")
            return frozenset()

    async def _keep_partitions(self) -> None:
        """Renew this router's partition leases three times per lease time, whatever the workers
        are doing. When renewing keeps failing for most of a lease time, deliver nothing: the
        other routers may take the partitions over by then."""
        interval = self.ownership.leases.ttl / 3
        renewed = time.monotonic()
        while True:
            await asyncio.sleep(interval)
            # if this renewal fails: keep the partitions, or drop them all once renewals have failed too long
            target = frozenset() if time.monotonic() - renewed > 2 * interval else self._target
            with carry_on(log, "renew this router's partition leases"):
                target = await self.ownership.rebalance()
                renewed = time.monotonic()
            if target != self._target:
                self._target = target
                self._retarget.set()

    async def _follow_partitions(self) -> None:
        """Restart the workers on the partitions the leases say, then give up the leases of the
        partitions no worker reads any more."""
        while True:
            await self._retarget.wait()
            self._retarget.clear()
            async with self._lock:
                if self._target != self.partitions:
                    log.info("router %s now delivers partitions %s", self.ownership.leases.holder, sorted(self._target))
                    self.partitions = self._target
                    await self._restart_workers()
            with carry_on(log, "release partition leases"):  # the lease then runs out by itself
                await self.ownership.release_leaving(self.partitions)

    async def _restart_workers(self) -> None:
        for instance_id in list(self.workers):
            self._run_worker((await self._halt(instance_id)).config)

    async def _reconcile_if_changed(self) -> None:
        if await asyncio.to_thread(self.store.config_version) != self._version:
            await self.reconcile()

    async def _flush_stats(self) -> None:
        trouble = RepeatedFailure(log, "save delivery statistics")  # they stay buffered meanwhile
        while True:
            await asyncio.sleep(STATS_FLUSH_SECONDS)
            try:
                await self.stats.flush()
            except Exception as error:
                trouble.failed(error)
            else:
                trouble.succeeded()


def _epoch_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)
