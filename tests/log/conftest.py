"""Fixtures for the event-log tests: both backends, an adjustable clock, entry builders."""

from __future__ import annotations

import pytest

from segue.log import MemoryLog, SqliteLog
from tests.log.log_helpers import Clock

SQLITE_ONLY_OPTIONS = {"segment_max_records"}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["memory", "sqlite"])
def backend(request) -> str:
    return request.param


@pytest.fixture
async def open_log(backend, tmp_path, clock):
    """Factory: a started log of the parametrised backend, closed after the test."""
    logs = []

    async def make(**options):
        options.setdefault("clock", clock)
        if backend == "memory":
            log = MemoryLog(**{k: v for k, v in options.items() if k not in SQLITE_ONLY_OPTIONS})
        else:
            log = SqliteLog(tmp_path / "log", **options)
        await log.start()
        logs.append(log)
        return log

    yield make
    for log in logs:
        await log.close()


@pytest.fixture
async def sqlite_log(tmp_path, clock):
    """Factory: a started SqliteLog in tmp_path/log (reopenable), closed after the test."""
    logs = []

    async def make(**options):
        options.setdefault("clock", clock)
        log = SqliteLog(tmp_path / "log", **options)
        await log.start()
        logs.append(log)
        return log

    yield make
    for log in logs:
        await log.close()
