"""Fixtures for the delivery tests: a local HTTP server, a fake clock, both store backends."""

from __future__ import annotations

import pytest

from segue.config import Settings
from segue.control import OPERATOR, ControlPlane
from segue.log.memory import MemoryLog
from segue.pipeline.retries import MemoryRetryQueue, SqliteRetryQueue
from segue.pipeline.stats import MemoryStatsStore, SqliteStatsStore
from segue.store import Store
from tests.clock import FakeClock
from tests.pipeline.http_server import ServerThread
from tests.pipeline.router_world import World
from tests.pipeline.scripted_server import ScriptedServer


@pytest.fixture(scope="module")
def http_server():
    server = ServerThread()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def server(http_server):
    """The module's server with its counters reset for this test."""
    http_server.recorder.reset()
    return http_server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def open_retry_queue(kind: str, request, tmp_path):
    """A new, empty retry queue: in memory, a SQLite file, or a PostgreSQL schema of its own."""
    if kind == "memory":
        return MemoryRetryQueue()
    if kind == "sqlite":
        return SqliteRetryQueue(tmp_path / "retries.db")
    from segue.pipeline.retries_postgres import PostgresRetryQueue

    return PostgresRetryQueue(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def retry_queue(request, tmp_path):
    queue = open_retry_queue(request.param, request, tmp_path)
    yield queue
    await queue.close()


def open_stats_store(kind: str, request, tmp_path, clock):
    """A new, empty statistics store: in memory, a SQLite file, or a PostgreSQL schema of its own."""
    if kind == "memory":
        return MemoryStatsStore(clock)
    if kind == "sqlite":
        return SqliteStatsStore(tmp_path / "stats.db", clock)
    from segue.pipeline.stats import PostgresStatsStore

    return PostgresStatsStore(request.getfixturevalue("postgres_url"), clock)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def stats_store(request, tmp_path, clock):
    store = open_stats_store(request.param, request, tmp_path, clock)
    yield store
    await store.close()


# The router tests' world (tests/pipeline/router_world.py).

FAST = dict(
    retry_base_seconds=0.01, retry_max_delay_seconds=0.05, delivery_timeout_seconds=0.5,
    config_poll_seconds=0.05, breaker_failures=1000, user_hold_seconds=3600.0,
    allow_private_destinations=True,  # the scripted server listens on 127.0.0.1
)


@pytest.fixture
def scripted_server():
    server = ScriptedServer().start()
    yield server
    server.stop()


@pytest.fixture
async def world(tmp_path, scripted_server):
    settings = Settings.load(environ={}, data_dir=tmp_path, **FAST)
    store = Store.open(settings)
    log = MemoryLog()
    await log.start()
    plane = ControlPlane(store)
    source = plane.create_source(OPERATOR, "Web", "javascript")
    world = World(settings, store, plane, log, MemoryRetryQueue(), MemoryStatsStore(), scripted_server, source)
    yield world
    for router in world.routers:
        await router.stop()
    await log.close()
    store.close()
