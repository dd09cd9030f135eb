"""Per-write-key rate limits: 429 with Retry-After over the limit, per key, and recovery."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from segue.config import Settings
from segue.pipeline.ingest import Ingestor
from segue.pipeline.rate_limit import WriteKeyLimiter, retry_after_seconds
from segue.pipeline.sources import SourceDirectory
from segue.web.tracking import TrackingAPI
from tests.clock import FakeClock
from tests.web.conftest import SOURCES, MemorySources

TRACK = {"userId": "u1", "event": "Signed Up"}


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
async def limited(event_log, clock):
    """The Tracking API with 2 requests/s per write key and a burst of 3, on a fake clock."""
    await event_log.start()
    directory = SourceDirectory(MemorySources(*SOURCES))
    directory.refresh_now()
    settings = Settings.load(environ={}, write_key_rate_limit=2, write_key_burst=3)
    app = TrackingAPI(settings, Ingestor(settings, event_log, directory, clock=clock), Starlette())
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://segue.test") as http:
        yield http
    await event_log.close()


async def track(client, write_key: str) -> httpx.Response:
    return await client.post("/v1/track", json=TRACK, auth=(write_key, ""))


async def test_over_the_limit_answers_429_with_retry_after(limited, stored):
    statuses = [(await track(limited, "abc123")).status_code for _ in range(3)]
    refused = await track(limited, "abc123")
    assert statuses == [200, 200, 200] and refused.status_code == 429
    assert refused.headers["retry-after"] == "1" and refused.headers["x-ratelimit-reset"] == "1"
    body = refused.json()
    assert body["success"] is False and body["code"] == "rate_limited" and "2 requests per second" in body["message"]
    assert len(await stored()) == 3  # the refused request stored nothing


async def test_a_write_key_in_the_body_is_limited_too(limited):
    for _ in range(3):
        assert (await limited.post("/v1/t", json={**TRACK, "writeKey": "webkey"})).status_code == 200
    assert (await limited.post("/v1/t", json={**TRACK, "writeKey": "webkey"})).status_code == 429


async def test_other_write_keys_are_not_affected(limited):
    for _ in range(4):
        await track(limited, "abc123")
    assert (await track(limited, "abc123")).status_code == 429
    assert (await track(limited, "webkey")).status_code == 200


async def test_the_key_recovers_as_time_passes(limited, clock):
    for _ in range(3):
        await track(limited, "abc123")
    assert (await track(limited, "abc123")).status_code == 429
    clock.now += 0.5  # one token back at 2 per second
    assert (await track(limited, "abc123")).status_code == 200
    assert (await track(limited, "abc123")).status_code == 429
    clock.now += 60  # refilled up to the burst, not beyond
    assert [(await track(limited, "abc123")).status_code for _ in range(4)] == [200, 200, 200, 429]


async def test_a_batch_counts_as_one_request(limited):
    batch = {"batch": [{**TRACK, "type": "track"}] * 10}
    statuses = [(await limited.post("/v1/batch", json=batch, auth=("abc123", ""))).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


async def test_unlimited_by_default(client):
    statuses = {(await track(client, "abc123")).status_code for _ in range(50)}
    assert statuses == {200}


def test_the_bucket_says_how_long_to_wait(clock):
    limiter = WriteKeyLimiter(rate=4, burst=1, clock=clock)
    assert limiter.wait("k") == 0.0
    assert limiter.wait("k") == pytest.approx(0.25)
    clock.now -= 10  # a clock set back adds no tokens and takes none
    assert limiter.wait("k") == pytest.approx(0.25)
    assert retry_after_seconds(0.25) == 1 and retry_after_seconds(2.1) == 3
    assert WriteKeyLimiter(rate=0).wait("k") == 0.0 and WriteKeyLimiter(rate=0).wait("k") == 0.0
