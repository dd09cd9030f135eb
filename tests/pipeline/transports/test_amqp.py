"""AMQP transport against the local RabbitMQ (guest/guest): messages read back from a queue."""

from __future__ import annotations

import uuid

import aio_pika
import pytest

from segue.pipeline.transports import TransportError
from tests.pipeline.transports.conftest import HOST, require_server
from tests.pipeline.transports.helpers import EVENTS, translate

CREDENTIALS = {"username": "guest", "password": "guest"}


@pytest.fixture
async def queue():
    """A queue bound to amq.topic for `<prefix>.#`; yields (server, prefix, queue)."""
    server = require_server("RabbitMQ", 5672)
    connection = await aio_pika.connect(f"amqp://guest:guest@{server}/")
    channel = await connection.channel()
    prefix = f"segue-test-{uuid.uuid4().hex[:8]}"
    declared = await channel.declare_queue(prefix, auto_delete=True)
    await declared.bind("amq.topic", routing_key=f"{prefix}.#")
    yield server, prefix, declared
    await declared.delete(if_unused=False, if_empty=False)
    await connection.close()


async def test_messages_arrive_in_order_with_their_properties(queue, transports):
    server, prefix, declared = queue
    settings = {"amqpUrl": f"amqp://{server}/%2F", **CREDENTIALS, "routingKeyTemplate": prefix + ".{type}"}
    requests = translate("rabbitmq", settings)
    for request in requests:
        await transports.send(request, timeout=5)
    received = [await declared.get(timeout=5) for _ in requests]
    assert [message.body for message in received] == [request.body for request in requests]
    assert [message.routing_key for message in received] == [f"{prefix}.{event['type']}" for event in EVENTS]
    first = received[0]
    assert first.message_id == EVENTS[0]["messageId"] and first.content_type == "application/json"
    assert first.delivery_mode == aio_pika.DeliveryMode.PERSISTENT


async def test_an_unknown_exchange_is_permanent(queue, transports):
    server, _, _ = queue
    settings = {"amqpUrl": f"amqp://{server}/%2F", **CREDENTIALS, "exchange": "segue-no-such-exchange"}
    (request,) = translate("rabbitmq", settings, EVENTS[:1])
    with pytest.raises(TransportError) as caught:
        await transports.send(request, timeout=5)
    assert not caught.value.retryable and "no such exchange" in caught.value.message


async def test_an_unreachable_broker_is_retryable(transports, closed_port):
    (request,) = translate("rabbitmq", {"amqpUrl": f"amqp://{HOST}:{closed_port}/%2F"}, EVENTS[:1])
    with pytest.raises(TransportError) as caught:
        await transports.send(request, timeout=5)
    assert caught.value.retryable


async def test_bad_credentials_are_permanent_and_not_shown(queue, transports):
    server, _, _ = queue
    settings = {"amqpUrl": f"amqp://{server}/%2F", "username": "guest", "password": "wrong-password"}
    (request,) = translate("rabbitmq", settings, EVENTS[:1])
    with pytest.raises(TransportError) as caught:
        await transports.send(request, timeout=5)
    assert not caught.value.retryable and "wrong-password" not in caught.value.message
