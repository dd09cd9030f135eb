"""Sync schedules (an injected clock, never real intervals), sync now, the supervisor, the default warehouse."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import pytest

from segue.config import Settings
from segue.control import OPERATOR, ControlPlane
from segue.log import MemoryLog
from segue.pipeline.warehouse_supervisor import SyncSupervisor
from segue.pipeline.warehouse_sync import WarehouseSyncer, consumer_name
from segue.server import SYSTEM, ensure_default_warehouse
from tests.clock import FakeClock
from tests.warehouses.test_sync import append, duckdb_warehouse, event, open_store, rows

TICK = 0.01


START = 1_000_000.0  # the fake clock's epoch seconds at the start of each test


def finished_syncs(store, warehouse_id: str) -> int:
    return sum(sync.finished for sync in store.list_syncs(warehouse_id))


async def until(condition, seconds: float = 5.0) -> None:
    """Wait (briefly, for real) until the background task has done what the test expects."""
    for _ in range(int(seconds / TICK)):
        if await asyncio.to_thread(condition):
            return
        await asyncio.sleep(TICK)
    raise AssertionError("condition not met in time")


@pytest.fixture
def world(tmp_path):
    store = open_store(tmp_path)
    yield store, MemoryLog(), store.create_source("Web", "javascript"), tmp_path
    store.close()


@contextlib.asynccontextmanager
async def running(syncer: WarehouseSyncer):
    task = asyncio.create_task(syncer.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_syncs_every_interval_from_the_last_start(world):
    store, event_log, web, data_dir = world
    clock = FakeClock(START)
    syncer = WarehouseSyncer(duckdb_warehouse(store), store, event_log, data_dir, clock, tick_seconds=TICK)
    count = lambda: finished_syncs(store, syncer.warehouse.id)  # noqa: E731
    async with running(syncer):
        await until(lambda: count() == 1)  # no history: the first sync is due at once
        assert syncer.next_due() == clock.now + 3600
        await append(event_log, web, event("w1"))
        clock.now += 3599
        await asyncio.sleep(TICK * 10)
        assert count() == 1
        clock.now += 1
        await until(lambda: count() == 2)
    newest = store.list_syncs(syncer.warehouse.id)[0]
    assert newest.rows["tracks"] == 1 and newest.started_at == datetime.fromtimestamp(clock.now, UTC)


async def test_a_restarted_syncer_waits_for_the_interval_after_the_last_sync(world):
    store, event_log, _, data_dir = world
    clock = FakeClock(START)
    warehouse = duckdb_warehouse(store)
    await WarehouseSyncer(warehouse, store, event_log, data_dir, clock).sync_once()
    clock.now += 600
    syncer = WarehouseSyncer(warehouse, store, event_log, data_dir, clock, tick_seconds=TICK)
    async with running(syncer):
        await asyncio.sleep(TICK * 10)
        assert syncer.next_due() == clock.now - 600 + 3600
        assert len(store.list_syncs(warehouse.id)) == 1


async def test_sync_now_runs_at_once_and_takes_the_pending_request(world):
    store, event_log, web, data_dir = world
    clock = FakeClock(START)
    syncer = WarehouseSyncer(duckdb_warehouse(store), store, event_log, data_dir, clock, tick_seconds=TICK)
    async with running(syncer):
        await until(lambda: finished_syncs(store, syncer.warehouse.id) == 1)
        await append(event_log, web, event("w1"))
        pending = store.request_sync(syncer.warehouse.id, actor="alice")
        syncer.request(pending.id)
        await until(lambda: store.get_sync(pending.id).finished)
    done = store.get_sync(pending.id)
    assert (done.status, done.trigger, done.requested_by, done.rows["tracks"]) == ("Success", "manual", "alice", 1)
    assert len(store.list_syncs(syncer.warehouse.id)) == 2


def _settings(data_dir) -> Settings:
    return Settings.load(environ={}, data_dir=data_dir, config_poll_seconds=TICK)


async def test_the_supervisor_follows_the_config_and_hands_out_sync_requests(world):
    store, event_log, web, data_dir = world
    warehouse = duckdb_warehouse(store)
    supervisor = SyncSupervisor(_settings(data_dir), store, event_log, FakeClock(START), tick_seconds=TICK)
    await supervisor.start()
    try:
        await until(lambda: finished_syncs(store, warehouse.id) == 1)
        await append(event_log, web, event("w1"), event("w2"))
        pending = store.request_sync(warehouse.id, actor="alice")  # as the API and the CLI do
        await until(lambda: store.get_sync(pending.id).finished)
        assert store.get_sync(pending.id).rows["tracks"] == 2
        store.update_warehouse(warehouse.id, enabled=False, actor="alice")
        await until(lambda: warehouse.id not in supervisor.syncers)
        assert consumer_name(warehouse.id) not in event_log._cursors  # holds back no retention
        store.delete_warehouse(warehouse.id, actor="alice")
        await until(lambda: supervisor._known == set())
    finally:
        await supervisor.stop()
    assert rows(data_dir, "web.tracks") == [("w1",), ("w2",)]


async def test_a_request_for_a_disabled_warehouse_fails_clearly_and_leftovers_are_interrupted(world):
    store, event_log, _, data_dir = world
    warehouse = duckdb_warehouse(store)
    pending = store.request_sync(warehouse.id, actor="alice")
    left_running = store.start_sync(duckdb_warehouse(store, "other").id)
    store.update_warehouse(warehouse.id, enabled=False, actor="alice")
    supervisor = SyncSupervisor(_settings(data_dir), store, event_log, FakeClock(START), tick_seconds=TICK)
    await supervisor.start()
    await supervisor.stop()
    assert store.get_sync(pending.id).error == "the warehouse is disabled; enable it to sync"
    assert store.get_sync(left_running.id).error.startswith("interrupted")


def test_the_default_duckdb_warehouse_is_made_once_on_first_start(tmp_path):
    store = open_store(tmp_path)
    plane = ControlPlane(store)
    try:
        ensure_default_warehouse(plane)
        ensure_default_warehouse(plane)
        [made] = store.list_warehouses()
        assert (made.name, made.engine, made.settings, made.source_ids) == ("warehouse", "duckdb", {"path": ""}, None)
        assert made.sync_interval_seconds == 86_400  # the free plan's
        store.delete_warehouse(made.id, actor="alice")
        assert plane.ensure_default_warehouse(SYSTEM) is None  # deleted on purpose: not made again
        assert store.list_warehouses() == []
    finally:
        store.close()


def test_no_default_warehouse_when_one_exists(tmp_path):
    store = open_store(tmp_path)
    plane = ControlPlane(store)
    try:
        plane.create_warehouse(OPERATOR, engine="duckdb", name="mine", settings={})
        ensure_default_warehouse(plane)
        assert [warehouse.name for warehouse in store.list_warehouses()] == ["mine"]
    finally:
        store.close()
