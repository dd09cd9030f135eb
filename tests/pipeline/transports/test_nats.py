"""NATS transport against the local nats-server (JetStream enabled): what is sent is read back."""

from __future__ import annotations

import asyncio
import uuid

import nats
import pytest

from segue.pipeline.transports import TransportError
from tests.pipeline.transports.conftest import HOST, free_port, own_server, require_server
from tests.pipeline.transports.helpers import EVENTS, translate, with_ids


@pytest.fixture
def server() -> str:
    return require_server("NATS", 4222)


@pytest.fixture
async def stream(server):
    """A JetStream stream on `<prefix>.>`, deleted afterwards; yields the prefix."""
    prefix = f"segue-test-{uuid.uuid4().hex[:8]}"
    client = await nats.connect(f"nats://{server}")
    jetstream = client.jetstream()
    await jetstream.add_stream(name=prefix, subjects=[f"{prefix}.>"])
    yield prefix
    await jetstream.delete_stream(prefix)
    await client.close()


async def test_core_publish_reaches_a_subscriber_in_order(server, transports):
    prefix = f"segue-core-{uuid.uuid4().hex[:8]}"
    requests = translate("nats", {"serverUrl": f"nats://{server}", "subjectTemplate": prefix + ".{type}"})
    client = await nats.connect(f"nats://{server}")
    subscription = await client.subscribe(f"{prefix}.>")
    for request in requests:
        await transports.send(request, timeout=5)
    received = [await subscription.next_msg(timeout=5) for _ in requests]
    await client.close()
    assert [message.data for message in received] == [request.body for request in requests]
    assert [message.subject for message in received] == [f"{prefix}.{event['type']}" for event in EVENTS]
    assert received[0].headers["Content-Type"] == "application/json"


async def test_jetstream_publish_is_acked_stored_and_deduplicated(server, stream, transports):
    settings = {"serverUrl": f"nats://{server}", "subjectTemplate": stream + ".{type}", "jetstream": True}
    requests = translate("nats", settings, with_ids(EVENTS, stream))
    for request in requests + requests[:1]:  # the first one again: JetStream drops the duplicate
        await transports.send(request, timeout=5)
    client = await nats.connect(f"nats://{server}")
    jetstream = client.jetstream()
    info = await jetstream.stream_info(stream)
    stored = [await jetstream.get_msg(stream, seq) for seq in range(1, info.state.messages + 1)]
    await client.close()
    assert [message.data for message in stored] == [request.body for request in requests]
    assert [message.headers["Nats-Msg-Id"] for message in stored] == [f"{stream}-{n}" for n in range(len(EVENTS))]


async def test_a_subject_without_a_stream_is_a_permanent_jetstream_error(server, transports):
    (request,) = translate("nats", {"serverUrl": f"nats://{server}", "subjectTemplate": "segue-nostream.{type}",
                                    "jetstream": True}, EVENTS[:1])
    with pytest.raises(TransportError) as caught:
        await transports.send(request, timeout=5)
    assert not caught.value.retryable and "stream" in caught.value.message


async def test_an_unreachable_server_is_retryable(transports, closed_port):
    (request,) = translate("nats", {"serverUrl": f"nats://{HOST}:{closed_port}"}, EVENTS[:1])
    with pytest.raises(TransportError) as caught:
        await transports.send(request, timeout=5)
    assert caught.value.retryable and "connection refused" in caught.value.message


@pytest.fixture
def server_with_password():
    """A nats-server of our own that asks for user `segue`, password `right-password`."""
    port = free_port()
    command = ["nats-server", "-a", HOST, "-p", str(port), "--user", "segue", "--pass", "right-password"]
    with own_server("nats-server", command, port) as server:
        yield server


async def test_bad_credentials_are_permanent_and_not_shown(server_with_password, transports):
    settings = {"serverUrl": f"nats://{server_with_password}", "username": "segue", "password": "wrong-password"}
    (request,) = translate("nats", settings, EVENTS[:1])
    with pytest.raises(TransportError) as caught:
        await transports.send(request, timeout=5)
    assert not caught.value.retryable and "wrong-password" not in caught.value.message
    good = translate("nats", {**settings, "password": "right-password"}, EVENTS[:1])
    await transports.send(good[0], timeout=5)


async def test_a_dropped_connection_is_replaced(server, transports):
    (request,) = translate("nats", {"serverUrl": f"nats://{server}"}, EVENTS[:1])
    await transports.send(request, timeout=5)
    nats_transport = transports._transports["nats"]
    for client in list(nats_transport.pool._clients.values()):
        await client.close()
    await asyncio.sleep(0)
    await transports.send(request, timeout=5)
