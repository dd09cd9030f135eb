"""The whole Segue ASGI app in this process (`build_app(Runtime(...))`), driven by TestClients.

`segue` is one running app per module with a known owner password; `world` makes fresh objects
(source, destination instances, filter, mapping, warehouse, sync, replay, user, token) through the
control plane, so a route that deletes or changes one never disturbs another test.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

import pytest
from starlette.testclient import TestClient

from segue.config import Settings
from segue.control import OPERATOR
from segue.server import Runtime, build_app

OWNER, PASSWORD = "admin", "reliability-password-1"
HOOK_URL = "http://127.0.0.1:9/hook"  # nothing listens: a test event fails fast, never leaves the machine
_names = itertools.count()


def unique(prefix: str) -> str:
    return f"{prefix}{next(_names)}"


@dataclass
class Segue:
    """A running app: its runtime (control plane, store) and a way to make clients."""

    runtime: Runtime
    app: object
    lifespan_client: TestClient

    def stream_status(self, client: TestClient, path: str) -> tuple[int, dict]:
        """Status and headers of a never-ending response (the debugger's event stream), with
        `client`'s cookies; the request disconnects at once, which ends the stream."""
        status, headers, _ = self.stream_body(client, path)
        return status, headers

    def stream_body(self, client: TestClient, path: str) -> tuple[int, dict, bytes]:
        """Like `stream_status`, with what the stream sent before it saw the disconnect."""
        return self.lifespan_client.portal.call(_first_response, self.app, path, client)

    @property
    def plane(self):
        return self.runtime.plane

    def client(self, headers: dict | None = None) -> TestClient:
        """A client with its own cookies whose requests run on the running app's event loop (as in
        `segue serve`: the event log belongs to that loop). Never use it in `with`: that would
        run the app's lifespan a second time."""
        client = TestClient(self.app, raise_server_exceptions=False, follow_redirects=False, headers=headers or {})
        client.portal = self.lifespan_client.portal
        return client

    def token_client(self, role: str) -> TestClient:
        token = self.plane.create_token(OPERATOR, unique(f"{role}-"), role)["token"]
        return self.client({"Authorization": f"Bearer {token}"})

    def write_key_client(self) -> TestClient:
        key = self.plane.create_source(OPERATOR, unique("keyed-"), "python")["writeKeys"][0]
        return self.client({"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()})

    def user_client(self, role: str) -> TestClient:
        """A client signed in to the app as a new user of `role`; its CSRF token in `X-CSRF-Token`."""
        username, password = unique(f"{role}-user-"), "a-long-password-1"
        if role == "owner":
            username, password = OWNER, PASSWORD
        else:
            self.plane.create_user(OPERATOR, username, password, role)
        client = self.client()
        client.get("/login")
        signed_in = client.post("/login", data={"username": username, "password": password, "next": "/",
                                                "csrf": csrf_of(client.get("/login").text)})
        assert signed_in.status_code == 303, signed_in.text
        client.headers["X-CSRF-Token"] = csrf_of(client.get("/").text)
        return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf"[^>]*value="([^"]+)"', html) or re.search(r'value="([^"]+)"[^>]*name="csrf"', html)
    found = found or re.search(r'name="csrf-token"[^>]*content="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def make_settings(tmp_path, **overrides) -> Settings:
    environ = {"SEGUE_ALLOW_PRIVATE_DESTINATIONS": "1"}  # the test destinations live on 127.0.0.1
    return Settings.load(environ=environ, data_dir=tmp_path / "data", log_writer_process=False,
                         admin_password=PASSWORD, **overrides)


@pytest.fixture(scope="module")
def segue(tmp_path_factory):
    runtime = Runtime(make_settings(tmp_path_factory.mktemp("reliability")))
    app = build_app(runtime)
    with TestClient(app) as lifespan_client:  # runs the lifespan: the runtime starts, and stops at the end
        runtime.plane.update_workspace(OPERATOR, plan="business")  # filters and replays need it
        yield Segue(runtime, app, lifespan_client)


class World:
    """Fresh objects made as the operator, on first use."""

    def __init__(self, plane) -> None:
        self.plane = plane

    @cached_property
    def source(self) -> dict:
        return self.plane.create_source(OPERATOR, unique("source-"), "javascript")

    @cached_property
    def destination(self) -> dict:
        return self.plane.create_destination(OPERATOR, source=self.source["id"], slug="webhook",
                                             settings={"url": HOOK_URL})

    @cached_property
    def oauth_destination(self) -> dict:
        settings = {"clientId": "client-1", "clientSecret": "secret-1", "portalId": "1234567"}
        return self.plane.create_destination(OPERATOR, source=self.source["id"], slug="hubspot", settings=settings)

    @cached_property
    def filter(self) -> dict:
        return self.plane.create_filter(OPERATOR, self.destination["id"], title="No tests",
                                        condition='event = "Test"', actions=[{"type": "DROP"}])

    @cached_property
    def mapping(self) -> dict:
        return self.plane.create_mapping(OPERATOR, self.destination["id"], name=unique("mapping-"),
                                         trigger='type = "track"', action="track", fields={})

    @cached_property
    def replay(self) -> dict:
        start, end = datetime(2024, 5, 1, 10, tzinfo=UTC), datetime(2024, 5, 1, 11, tzinfo=UTC)
        return self.plane.start_replay(OPERATOR, self.destination["id"], start, end)

    @cached_property
    def warehouse(self) -> dict:
        return self.plane.create_warehouse(OPERATOR, engine="duckdb", name=unique("warehouse-"), settings={})

    @cached_property
    def sync(self) -> dict:
        return self.plane.request_sync(OPERATOR, self.warehouse["id"])

    @cached_property
    def user(self) -> dict:
        return self.plane.create_user(OPERATOR, unique("spare-user-"), "a-long-password-1", "member")

    @cached_property
    def token(self) -> dict:
        return self.plane.create_token(OPERATOR, unique("spare-token-"), "read_only")


@pytest.fixture
def world(segue) -> World:
    return World(segue.plane)


@pytest.fixture
def world_factory(segue):
    """A new World per call, for tests that need several independent sets of objects."""
    return lambda: World(segue.plane)


async def _first_response(app, path: str, client: TestClient) -> tuple[int, dict, bytes]:
    cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    headers = [(key.lower().encode(), value.encode()) for key, value in client.headers.items()
               if key.lower() in ("authorization", "accept")]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
             "headers": [(b"host", b"testserver"), (b"cookie", cookie.encode()), *headers],
             "client": ("testclient", 50000), "server": ("testserver", 80)}
    requested = False
    started: list[dict] = []
    body: list[bytes] = []
    sent_something = asyncio.Event()

    async def receive() -> dict:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        # Disconnect once the stream has sent its first chunk (the backlog), or after a moment if it has none.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(sent_something.wait(), 1.0)
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            started.append(message)
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))
            if body[-1]:
                sent_something.set()

    await app(scope, receive, send)
    start = started[0]
    return start["status"], {key.decode(): value.decode() for key, value in start["headers"]}, b"".join(body)
