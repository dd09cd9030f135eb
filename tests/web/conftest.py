"""The Tracking API wired to the in-memory event log and an in-memory source directory."""

from dataclasses import dataclass

import httpx
import pytest
from starlette.applications import Starlette

from segue.config import Settings
from segue.log.memory import MemoryLog
from segue.pipeline.ingest import Ingestor
from segue.pipeline.sources import SourceDirectory
from segue.web.tracking import TrackingAPI


@dataclass(frozen=True)
class FakeSource:
    id: str
    name: str
    type: str
    write_key: str
    enabled: bool = True


class MemorySources:
    """In-memory twin of the config store's source queries."""

    def __init__(self, *sources):
        self.sources = {source.write_key: source for source in sources}
        self.version = 1

    def config_version(self):
        return self.version

    def write_keys(self):
        return dict(self.sources)


SOURCES = (
    FakeSource("src_server", "server", "python", "abc123"),
    FakeSource("src_web", "website", "javascript", "webkey"),
    FakeSource("src_off", "old", "node", "offkey", enabled=False),
)


@pytest.fixture
def event_log():
    return MemoryLog()


@pytest.fixture
async def client(event_log):
    await event_log.start()
    directory = SourceDirectory(MemorySources(*SOURCES))
    directory.refresh_now()
    settings = Settings.load(environ={})
    app = TrackingAPI(settings, Ingestor(settings, event_log, directory), Starlette())
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://segue.test") as http:
        yield http
    await event_log.close()


@pytest.fixture
def stored(event_log):
    """The messages in the log, decoded, oldest first."""
    import orjson

    async def read(limit=10_000):
        return [orjson.loads(record.payload) for record in await event_log.newest(limit)]

    return read
