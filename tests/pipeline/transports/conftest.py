"""Fixtures for the transport tests: the real brokers on this machine (skipped when absent),
a moto S3 server, a closed port, and one `Transports` per test."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from typing import Iterator

import pytest

from segue.pipeline.transports import Transports

HOST = "127.0.0.1"


def require_server(name: str, port: int) -> str:
    """`host:port` of a broker listening locally, or skip the test saying which one is missing."""
    if not listening(port):
        pytest.skip(f"{name} is not running on {HOST}:{port}")
    return f"{HOST}:{port}"


def listening(port: int) -> bool:
    try:
        socket.create_connection((HOST, port), timeout=1).close()
    except OSError:
        return False
    return True


@contextlib.contextmanager
def own_server(name: str, command: list[str], port: int) -> Iterator[str]:
    """A broker process of our own (e.g. one that checks passwords) listening on `port`, stopped after."""
    binary = shutil.which(command[0]) or shutil.which(command[0], path="/usr/sbin:/usr/local/sbin:/usr/local/bin")
    if binary is None:
        pytest.skip(f"{name} is not installed, so no server that checks passwords can be started")
    process = subprocess.Popen([binary, *command[1:]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not listening(port):
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.skip(f"{name} with a password did not start")
            time.sleep(0.05)
        yield f"{HOST}:{port}"
    finally:
        process.terminate()
        process.wait(10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on (connections are refused)."""
    return free_port()


@pytest.fixture
async def transports():
    shared = Transports(allow_private=True)  # the brokers listen on 127.0.0.1
    yield shared
    await shared.close()


@pytest.fixture(scope="session")
def moto_endpoint():
    """`http://host:port` of a moto S3 server (server mode) running for the session."""
    server_module = pytest.importorskip("moto.server", reason="moto[server] is not installed")
    server = server_module.ThreadedMotoServer(ip_address=HOST, port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
