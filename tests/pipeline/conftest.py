"""Fixtures for the delivery tests: a local HTTP server, a fake clock, both store backends."""

from __future__ import annotations

import pytest

from segue.pipeline.retries import MemoryRetryQueue, SqliteRetryQueue
from segue.pipeline.stats import MemoryStatsStore, SqliteStatsStore
from tests.pipeline.http_server import ServerThread


class FakeClock:
    """A clock the test moves by hand (epoch seconds, or monotonic for the breaker)."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


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


@pytest.fixture(params=["memory", "sqlite"])
async def retry_queue(request, tmp_path):
    queue = MemoryRetryQueue() if request.param == "memory" else SqliteRetryQueue(tmp_path / "retries.db")
    yield queue
    await queue.close()


@pytest.fixture(params=["memory", "sqlite"])
async def stats_store(request, tmp_path, clock):
    store = MemoryStatsStore(clock) if request.param == "memory" else SqliteStatsStore(tmp_path / "stats.db", clock)
    yield store
    await store.close()
