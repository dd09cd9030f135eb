"""Warehouse syncs: events in the log -> Ping, Load -> rows in DuckDB (and PostgreSQL when it answers)."""

from __future__ import annotations

import uuid
from pathlib import Path

import duckdb
import orjson
import pytest

from segue.config import Settings
from segue.log import MemoryLog, SqliteLog
from segue.log.protocol import Entry
from segue.warehouses import pipeline
from segue.pipeline.warehouse_sync import WarehouseSyncer, consumer_name
from segue.store import Store

RECEIVED_AT = "2025-01-02T03:04:05.000Z"


def event(message_id: str, kind: str = "track", user: str = "u-1", **extra) -> dict:
    body = {"type": kind, "messageId": message_id, "userId": user, "receivedAt": RECEIVED_AT, "timestamp": RECEIVED_AT}
    if kind == "track":
        body.update(event="Order Completed", properties={"revenue": 10})
    return {**body, **extra}


async def append(event_log, source, *events: dict) -> None:
    await event_log.append([Entry(source.id, e["messageId"], e["userId"], 0, orjson.dumps(e)) for e in events])


def open_store(data_dir: Path) -> Store:
    return Store.open(Settings.load(environ={}, data_dir=data_dir))


def duckdb_warehouse(store: Store, name: str = "wh", **overrides):
    values = dict(engine="duckdb", name=name, settings={"path": ""}, secrets={}, sync_interval_seconds=3600,
                  max_warehouses=None, actor="test")  # fmt: skip
    return store.create_warehouse(**{**values, **overrides})


def rows(data_dir: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as connection:
        return connection.execute(f"SELECT id FROM {table} ORDER BY id").fetchall()


def tables(data_dir: Path) -> set[str]:
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as connection:
        found = connection.execute("SELECT table_schema || '.' || table_name FROM information_schema.tables").fetchall()
    return {name for (name,) in found}


@pytest.fixture
def world(tmp_path):
    """A store with two sources (web, backend), a MemoryLog and the data dir."""
    store = open_store(tmp_path)
    web, backend = store.create_source("Web", "javascript"), store.create_source("Backend", "python")
    yield store, MemoryLog(), web, backend, tmp_path
    store.close()


async def test_each_source_lands_in_its_own_schema_once(world):
    store, event_log, web, backend, data_dir = world
    syncer = WarehouseSyncer(duckdb_warehouse(store), store, event_log, data_dir)
    await append(event_log, web, event("w1"), event("w2"), event("w3", "identify", traits={"plan": "pro"}))
    await append(event_log, backend, event("b1"))
    first = await syncer.sync_once()
    assert (first.status, first.error, first.trigger) == ("Success", None, "schedule")
    assert first.rows == {"tracks": 3, "order_completed": 3, "identifies": 1, "users": 1}
    assert rows(data_dir, "web.tracks") == [("w1",), ("w2",)] and rows(data_dir, "backend.tracks") == [("b1",)]
    assert await syncer.consumer.committed() == 4
    again = await syncer.sync_once()
    assert (again.status, again.rows) == ("Success", {})
    assert store.list_syncs(syncer.warehouse.id) == [again, first]


async def test_only_the_chosen_sources_and_what_integrations_allow(world):
    store, event_log, web, backend, data_dir = world
    syncer = WarehouseSyncer(duckdb_warehouse(store, source_ids=[web.id]), store, event_log, data_dir)
    await append(event_log, web, event("w1"), event("w2", integrations={"Warehouses": {"all": False}}))
    await append(event_log, backend, event("b1"))
    await syncer.sync_once()
    assert rows(data_dir, "web.tracks") == [("w1",)]
    assert not any(name.startswith("backend.") for name in tables(data_dir))
    assert await syncer.consumer.committed() == 3  # the other source's events are passed, not held


async def test_a_failed_ping_loses_nothing_and_the_next_sync_loads_everything_once(world, tmp_path):
    store, event_log, web, _, data_dir = world
    broken = duckdb_warehouse(store, settings={"path": str(tmp_path / "missing" / "dir" / "w.duckdb")})
    syncer = WarehouseSyncer(broken, store, event_log, data_dir)
    await append(event_log, web, event("w1"), event("w2"))
    failed = await syncer.sync_once()
    assert failed.status == "Failure" and failed.error.startswith("Ping failed: cannot open the DuckDB database")
    assert await syncer.consumer.committed() == 0
    await append(event_log, web, event("w3"))
    syncer.warehouse = store.update_warehouse(broken.id, settings={"path": ""}, actor="test")
    fixed = await syncer.sync_once()
    assert (fixed.status, fixed.rows["tracks"]) == ("Success", 3)
    assert rows(data_dir, "web.tracks") == [("w1",), ("w2",), ("w3",)]


async def test_a_load_failing_midway_is_partial_and_the_rest_loads_next_time(world, monkeypatch):
    store, event_log, web, _, data_dir = world
    syncer = WarehouseSyncer(duckdb_warehouse(store), store, event_log, data_dir, chunk_events=2)
    await append(event_log, web, *(event(f"w{n}") for n in range(5)))
    real_load, calls = pipeline.load_staged, []

    def flaky_load(*args):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("connection reset")
        return real_load(*args)

    monkeypatch.setattr(pipeline, "load_staged", flaky_load)
    partial = await syncer.sync_once()
    assert (partial.status, partial.rows["tracks"]) == ("Partial", 2)
    assert partial.error == "Load failed: RuntimeError: connection reset"
    assert await syncer.consumer.committed() == 2
    done = await syncer.sync_once()
    assert (done.status, done.rows["tracks"]) == ("Success", 3)
    assert [row for (row,) in rows(data_dir, "web.tracks")] == [f"w{n}" for n in range(5)]


async def test_rejected_values_make_a_partial_sync_with_notices(world):
    store, event_log, web, _, data_dir = world
    syncer = WarehouseSyncer(duckdb_warehouse(store), store, event_log, data_dir)
    await append(event_log, web, event("w1"))
    await syncer.sync_once()
    await append(event_log, web, event("w2", properties={"revenue": "lots"}))
    partial = await syncer.sync_once()
    assert partial.status == "Partial" and partial.rows["segue_rejected"] == 1
    assert any("order_completed.revenue" in notice for notice in partial.notices)


async def test_selective_sync_turns_collections_off(world):
    store, event_log, web, _, data_dir = world
    warehouse = duckdb_warehouse(store, selective_sync={"collections": ["order_completed"]})
    await append(event_log, web, event("w1"))
    await WarehouseSyncer(warehouse, store, event_log, data_dir).sync_once()
    assert "web.tracks" in tables(data_dir) and "web.order_completed" not in tables(data_dir)


async def test_a_real_sqlite_log(tmp_path):
    store = open_store(tmp_path)
    web = store.create_source("Web", "javascript")
    event_log = SqliteLog(tmp_path / "log")
    await event_log.start()
    try:
        await append(event_log, web, event("w1"), event("w2"))
        syncer = WarehouseSyncer(duckdb_warehouse(store), store, event_log, tmp_path)
        assert (await syncer.sync_once()).rows["tracks"] == 2
        assert event_log._cursors.register(consumer_name(syncer.warehouse.id), 0) == 2  # durable
    finally:
        await event_log.close()
        store.close()
    assert rows(tmp_path, "web.tracks") == [("w1",), ("w2",)]


# PostgreSQL -------------------------------------------------------------------------------------


def _postgres_or_skip():
    psycopg = pytest.importorskip("psycopg")
    try:
        return psycopg.connect(host="127.0.0.1", port=5432, dbname="test", user="postgres", autocommit=True,
                               connect_timeout=3)  # fmt: skip
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432: {error}")


async def test_postgres_unreachable_then_reachable(tmp_path):
    admin = _postgres_or_skip()
    store = open_store(tmp_path)
    source = store.create_source(f"sync test {uuid.uuid4().hex[:8]}", "http")
    schema = source.slug.replace("-", "_")
    settings = {"host": "127.0.0.1", "port": 1, "database": "test", "user": "postgres", "sslmode": "disable"}
    warehouse = store.create_warehouse(engine="postgres", name="pg", settings=settings, secrets={},
                                       sync_interval_seconds=3600, max_warehouses=None, actor="test")  # fmt: skip
    event_log = MemoryLog()
    await append(event_log, source, event("p1"), event("p2"))
    syncer = WarehouseSyncer(warehouse, store, event_log, tmp_path)
    try:
        failed = await syncer.sync_once()
        assert failed.status == "Failure" and "Ping failed: cannot connect to postgres at 127.0.0.1:1" in failed.error
        syncer.warehouse = store.update_warehouse(warehouse.id, settings={**settings, "port": 5432}, actor="test")
        assert (await syncer.sync_once()).rows["tracks"] == 2
        assert (await syncer.sync_once()).rows == {}
        ids = admin.execute(f'SELECT id FROM "{schema}".tracks ORDER BY id').fetchall()
        assert ids == [("p1",), ("p2",)]
    finally:
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.close()
        store.close()
