"""One loader per warehouse: two nodes' sync supervisors share the work through leases; when the
loading node dies, the other takes the warehouse over once the lease runs out."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from segue.log import MemoryLog
from segue.cli.sync_runner import cli_holder
from segue.config import Settings
from segue.log.leases import JetStreamLeases, open_leases
from segue.pipeline.warehouse_supervisor import SyncSupervisor, lease_name
from tests.log.conftest import NATS_URL, nats_reachable
from tests.warehouses.test_sync import duckdb_warehouse, open_store
from tests.clock import FakeClock
from tests.warehouses.test_sync_schedule import START, TICK, _settings, until

pytestmark = pytest.mark.skipif(not nats_reachable(), reason=f"needs a NATS server with JetStream at {NATS_URL}")


async def _node(name: str, bucket: str, store, event_log, data_dir) -> SyncSupervisor:
    leases = JetStreamLeases(NATS_URL, bucket, name, ttl=1.0)
    await leases.start()
    supervisor = SyncSupervisor(_settings(data_dir / name), store, event_log, FakeClock(START), tick_seconds=TICK, leases=leases)
    await supervisor.start()
    return supervisor


async def _die(supervisor: SyncSupervisor) -> None:
    """Like kill -9: the tasks stop, the leases are not released."""
    for task in [*supervisor._background, *supervisor._tasks.values()]:
        task.cancel()
    await asyncio.gather(*supervisor._background, *supervisor._tasks.values(), return_exceptions=True)
    await supervisor.leases._nc.close()


async def test_one_node_loads_a_warehouse_and_another_takes_over_when_it_dies(tmp_path):
    store = open_store(tmp_path)
    warehouse = duckdb_warehouse(store)
    bucket = f"T{uuid.uuid4().hex[:8]}_leases"
    event_log = MemoryLog()
    a = await _node("a", bucket, store, event_log, tmp_path)
    b = await _node("b", bucket, store, event_log, tmp_path)
    dead = []
    try:
        loaders = [node for node in (a, b) if warehouse.id in node.syncers]
        assert len(loaders) == 1  # the lease went to one of them
        loader, other = loaders[0], (b if loaders[0] is a else a)
        for _ in range(10):  # renewals keep it there
            await asyncio.sleep(0.1)
            assert warehouse.id in loader.syncers and warehouse.id not in other.syncers
        left_running = store.start_sync(warehouse.id)  # the loader dies in the middle of a sync
        await _die(loader)
        dead.append(loader)
        await until(lambda: warehouse.id in other.syncers, seconds=10)
        assert store.get_sync(left_running.id).error.startswith("interrupted")
    finally:
        for node in (a, b):
            if node not in dead:
                await node.stop()
                await node.leases.delete_everything()
        store.close()


async def test_segue_warehouses_sync_leaves_a_lease_its_own_node_holds_to_the_server(tmp_path):
    """The command runs where the server runs, with the same node name (one environment file). Under
    that name it took the server's lease for its own and loaded the warehouse alongside the server
    (in the crash test, DuckDB refused it the file the server had open)."""
    stream = f"T{uuid.uuid4().hex[:8]}"
    settings = Settings.load(environ={}, data_dir=tmp_path, log_url=NATS_URL, log_stream=stream, node_name="node-a")
    server = JetStreamLeases(NATS_URL, f"{stream}_leases", settings.node, ttl=5.0)
    await server.start()
    command = open_leases(settings, holder=cli_holder(settings))
    await command.start()
    try:
        assert await server.acquire(lease_name("wh_1"))
        assert not await command.acquire(lease_name("wh_1"))  # the server has it: the command hands over
        await server.release(lease_name("wh_1"))
        assert await command.acquire(lease_name("wh_1"))  # no server loads it: the command may
    finally:
        await command.close()
        await server.delete_everything()
        await server.close()
