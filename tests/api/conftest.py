"""API fixtures: the REST API over a fresh config store, and clients holding tokens of each role.

`api_client(role)` returns a Starlette TestClient whose requests carry a new token of that role.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from segue.config import Settings
from segue.control import OPERATOR, ControlPlane
from segue.store import Store
from segue.web.api import build_api


@pytest.fixture
def settings(tmp_path):
    return Settings.load(environ={}, data_dir=tmp_path / "data", allow_private_destinations=True)


@pytest.fixture
def store(settings):
    with Store.open(settings) as store:
        yield store


@pytest.fixture
def plane(store):
    return ControlPlane(store, allow_private_destinations=True)  # test sends go to servers on 127.0.0.1


@pytest.fixture
def app(plane):
    return Starlette(routes=[Mount("/api", app=build_api(plane))])


@pytest.fixture
def api_client(app, plane):
    """A factory: a client authenticated with a fresh token of `role`."""
    clients = []

    def make(role: str = "owner") -> TestClient:
        token = plane.create_token(OPERATOR, f"{role}-{len(clients)}", role)["token"]
        client = TestClient(app, raise_server_exceptions=False, headers={"Authorization": f"Bearer {token}"})
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def owner(api_client):
    return api_client("owner")


@pytest.fixture
def anonymous(app):
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


class RecordingHandler(BaseHTTPRequestHandler):
    """Answers 200 to everything and keeps (method, path, headers, body)."""

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.received.append((self.command, self.path, dict(self.headers), self.rfile.read(length)))
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok":true}')

    do_POST = do_PUT = do_PATCH = do_GET = _record

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver():
    """A local HTTP server recording what it receives; `.url`, `.received`, `.status`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordingHandler)
    server.received = []
    server.status = 200
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
