"""Redis Streams transport against the local Redis: XADD entries read back with XRANGE."""

from __future__ import annotations

import uuid

import pytest
import redis.asyncio as redis

from segue.pipeline.transports import TransportError
from tests.pipeline.transports.conftest import HOST, require_server
from tests.pipeline.transports.helpers import EVENTS, translate


@pytest.fixture
async def stream():
    """A fresh stream name (deleted afterwards) and a client to read it."""
    server = require_server("Redis", 6379)
    client = redis.Redis.from_url(f"redis://{server}/0")
    name = f"segue-test:{uuid.uuid4().hex[:8]}"
    yield server, name, client
    await client.delete(name)
    await client.aclose()


async def test_entries_hold_the_event_and_its_ids_in_order(stream, transports):
    server, name, client = stream
    requests = translate("redis-streams", {"redisUrl": f"redis://{server}/0", "streamTemplate": name})
    for request in requests:
        await transports.send(request, timeout=5)
    entries = await client.xrange(name)
    assert [fields[b"event"] for _, fields in entries] == [request.body for request in requests]
    assert [fields[b"type"].decode() for _, fields in entries] == [event["type"] for event in EVENTS]
    assert all(fields[b"messageId"] == EVENTS[0]["messageId"].encode() for _, fields in entries)


async def test_maxlen_trims_the_stream_approximately(stream, transports):
    server, name, client = stream
    settings = {"redisUrl": f"redis://{server}/0", "streamTemplate": name, "maxLength": 10}
    (request,) = translate("redis-streams", settings, EVENTS[:1])
    for _ in range(500):
        await transports.send(request, timeout=5)
    assert await client.xlen(name) < 500


async def test_an_unreachable_server_is_retryable(transports, closed_port):
    (request,) = translate("redis-streams", {"redisUrl": f"redis://{HOST}:{closed_port}/0"}, EVENTS[:1])
    with pytest.raises(TransportError) as caught:
        await transports.send(request, timeout=5)
    assert caught.value.retryable


async def test_bad_credentials_are_permanent_and_not_shown(stream, transports):
    server, _, _ = stream
    settings = {"redisUrl": f"redis://{server}/0", "username": "nobody", "password": "wrong-password"}
    (request,) = translate("redis-streams", settings, EVENTS[:1])
    with pytest.raises(TransportError) as caught:
        await transports.send(request, timeout=5)
    assert not caught.value.retryable and "wrong-password" not in caught.value.message


async def test_a_key_of_another_type_is_permanent(stream, transports):
    server, name, client = stream
    await client.set(name, "not a stream")
    (request,) = translate("redis-streams", {"redisUrl": f"redis://{server}/0", "streamTemplate": name}, EVENTS[:1])
    with pytest.raises(TransportError) as caught:
        await transports.send(request, timeout=5)
    assert not caught.value.retryable and "WRONGTYPE" in caught.value.message
