"""MQTT transport against the local Mosquitto: messages read back by a subscriber."""

from __future__ import annotations

import asyncio
import getpass
import shutil
import subprocess
import uuid

import aiomqtt
import pytest

from segue.pipeline.transports import TransportError
from tests.pipeline.transports.conftest import HOST, free_port, own_server, require_server
from tests.pipeline.transports.helpers import EVENTS, translate


@pytest.fixture
def server() -> str:
    return require_server("Mosquitto", 1883)


@pytest.mark.parametrize("qos", [0, 1, 2])
async def test_messages_reach_a_subscriber_in_order(server, transports, qos):
    prefix = f"segue-test-{uuid.uuid4().hex[:8]}"
    host, port = server.split(":")
    settings = {"brokerUrl": f"mqtt://{server}", "topicTemplate": prefix + "/{type}", "qos": qos}
    requests = translate("mqtt", settings)
    async with aiomqtt.Client(host, int(port)) as subscriber:
        await subscriber.subscribe(f"{prefix}/#", qos=2)
        for request in requests:
            await transports.send(request, timeout=5)
        received = []
        async with asyncio.timeout(5):
            async for message in subscriber.messages:
                received.append(message)
                if len(received) == len(requests):
                    break
    assert [message.payload for message in received] == [request.body for request in requests]
    assert [str(message.topic) for message in received] == [f"{prefix}/{event['type']}" for event in EVENTS]
    assert {message.qos for message in received} == {qos}


async def test_an_unreachable_broker_is_retryable(transports, closed_port):
    (request,) = translate("mqtt", {"brokerUrl": f"mqtt://{HOST}:{closed_port}"}, EVENTS[:1])
    with pytest.raises(TransportError) as caught:
        await transports.send(request, timeout=5)
    assert caught.value.retryable


@pytest.fixture
def broker_with_password(tmp_path):
    """A Mosquitto of our own that asks for user `segue`, password `right-password`."""
    if shutil.which("mosquitto_passwd") is None:
        pytest.skip("mosquitto_passwd is not installed, so no broker with a password can be started")
    port = free_port()
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(tmp_path / "passwd"), "segue", "right-password"], check=True,
                   capture_output=True)
    config = tmp_path / "mosquitto.conf"
    config.write_text(f"listener {port} {HOST}\nallow_anonymous false\npassword_file {tmp_path / 'passwd'}\n"
                      f"persistence false\nuser {getpass.getuser()}\n")  # as root, mosquitto would switch users
    with own_server("mosquitto", ["mosquitto", "-c", str(config)], port) as server:
        yield server


async def test_bad_credentials_are_permanent_and_not_shown(broker_with_password, transports):
    settings = {"brokerUrl": f"mqtt://{broker_with_password}", "username": "segue", "password": "wrong-password"}
    (request,) = translate("mqtt", settings, EVENTS[:1])
    with pytest.raises(TransportError) as caught:
        await transports.send(request, timeout=5)
    assert not caught.value.retryable and "wrong-password" not in caught.value.message
    (good,) = translate("mqtt", {**settings, "password": "right-password"}, EVENTS[:1])
    await transports.send(good, timeout=5)
