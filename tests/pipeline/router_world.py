"""A small world for router tests: a config store, an in-memory log, a scripted destination.

Import the fixtures (`world`, `scripted_server`) into a test module to use them.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

import orjson

from segue.control import OPERATOR, ControlPlane
from segue.log.memory import MemoryLog
from segue.log.protocol import Entry
from segue.pipeline.router import Router
from tests.pipeline.scripted_server import ScriptedServer


@dataclass
class World:
    settings: object
    store: object
    plane: ControlPlane
    log: MemoryLog
    retries: object
    stats: object
    server: ScriptedServer
    source: dict
    routers: list = field(default_factory=list)

    def router(self) -> Router:
        router = Router(self.settings, self.store, self.log, self.plane.catalog, self.retries, self.stats)
        self.routers.append(router)
        return router

    def webhook(self, path: str = "/hook", enabled: bool = True, **settings) -> dict:
        values = {"url": self.server.url + path, **settings}
        return self.plane.create_destination(OPERATOR, source=self.source["id"], slug="webhook", name=path,
                                             settings=values, enabled=enabled)

    async def send(self, *events: dict, source_id: str | None = None) -> list[dict]:
        """Append events (filled in like ingest would) to the log; returns them."""
        now_ms = int(time.time() * 1000)
        full = [{"type": "track", "event": "Tested", "messageId": str(uuid.uuid4()), "userId": "u1", **event} for event in events]
        entries = [
            Entry(source_id or self.source["id"], event["messageId"], event.get("userId") or event.get("anonymousId", ""),
                  now_ms, orjson.dumps(event))
            for event in full
        ]
        await self.log.append(entries)
        return full


async def eventually(predicate, timeout: float = 10.0, interval: float = 0.02):
    """Wait until `predicate()` is true; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {predicate.__doc__ or predicate}")
        await asyncio.sleep(interval)


async def summary_when(world: World, instance_id: str, predicate, timeout: float = 10.0) -> dict:
    """The instance's delivery summary once `predicate(summary)` holds (the worker records an
    outcome just after the destination answers, so a test waits for it)."""
    deadline = time.monotonic() + timeout
    while True:
        await world.stats.flush()
        summary = await world.stats.summary(instance_id)
        if predicate(summary):
            return summary
        if time.monotonic() > deadline:
            raise AssertionError(f"delivery summary never matched: {summary}")
        await asyncio.sleep(0.02)
