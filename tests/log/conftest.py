"""Fixtures for the event-log tests: both backends, an adjustable clock, entry builders."""

from __future__ import annotations

import contextlib
import socket
import time
import uuid

import pytest

from segue.log import MemoryLog, SqliteLog
from segue.log.jetstream import JetStreamLog
from tests.log.log_helpers import Clock

SQLITE_ONLY_OPTIONS = {"segment_max_records"}


class RealTimeClock(Clock):
    """For the writer-process backend, whose child keeps real time: moving it skips the test."""

    def __init__(self) -> None:
        pass

    @property
    def now(self) -> float:
        return time.time()

    @now.setter
    def now(self, value: float) -> None:
        pytest.skip("the writer process keeps real time; this rule is tested on the in-process backends")

    def advance(self, seconds: float) -> None:
        pytest.skip("the writer process keeps real time; this rule is tested on the in-process backends")


REAL_TIME_BACKENDS = ("sqlite-process", "jetstream")  # time is the child's or the NATS server's
NATS_URL = "nats://127.0.0.1:4222"


@pytest.fixture
def clock(request) -> Clock:
    if "backend" in request.fixturenames and request.getfixturevalue("backend") in REAL_TIME_BACKENDS:
        return RealTimeClock()
    return Clock()


@pytest.fixture(params=["memory", "sqlite", "sqlite-process", "jetstream"])
def backend(request) -> str:
    if request.param == "jetstream" and not nats_reachable():
        pytest.skip(f"the JetStream backend's tests need a NATS server with JetStream at {NATS_URL}")
    return request.param


def nats_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 4222), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.fixture
async def open_log(backend, tmp_path, clock):
    """Factory: a started log of the parametrised backend, closed after the test."""
    def build(**options):
        if backend == "memory":
            return MemoryLog(**{k: v for k, v in options.items() if k not in SQLITE_ONLY_OPTIONS})
        if backend == "jetstream":
            options.pop("clock")
            options.setdefault("stream", f"T{uuid.uuid4().hex[:12].upper()}")
            return JetStreamLog(NATS_URL, **{k: v for k, v in options.items() if k not in SQLITE_ONLY_OPTIONS})
        if backend == "sqlite-process":
            options.pop("clock")  # the child keeps real time: tests that move the clock skip
            return SqliteLog(tmp_path / "log", writer_process=True, **options)
        return SqliteLog(tmp_path / "log", **options)

    async with started_logs(build, clock) as make:
        yield make


@pytest.fixture
def reopen_log(open_log, backend):
    """Close a log made by `open_log` and open it again on the same storage (a restart)."""
    async def reopen(log, **options):
        if backend == "memory":
            pytest.skip("the memory log keeps nothing across a restart")
        await log.close()
        if backend == "jetstream":
            options["stream"] = log.stream
        return await open_log(**options)

    return reopen


@pytest.fixture
async def sqlite_log(tmp_path, clock):
    """Factory: a started SqliteLog in tmp_path/log (reopenable), closed after the test."""
    async with started_logs(lambda **options: SqliteLog(tmp_path / "log", **options), clock) as make:
        yield make


@contextlib.asynccontextmanager
async def started_logs(build, clock):
    """A factory of started logs (built by `build(**options)`), all closed on exit."""
    logs = []

    async def make(**options):
        options.setdefault("clock", clock)
        log = build(**options)
        await log.start()
        logs.append(log)
        return log

    try:
        yield make
    finally:
        deleted = set()
        for log in reversed(logs):  # a reopened log is still connected: it deletes
            if isinstance(log, JetStreamLog) and log.stream not in deleted:
                deleted.add(log.stream)
                await log.delete_everything()  # each test's stream and bucket are its own
            await log.close()
