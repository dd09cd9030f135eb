"""Browser tests of the app: a real `segue serve`, Debian's Chromium driven by Playwright.

`app_server` runs one server for the whole package with a known owner password;
`page` is a fresh browser tab already logged in; `hook` is a local HTTP server standing in for
a webhook destination. Screenshots go to tests/app/artifacts/.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import LiveServer, chromium, mark_browser_tests

ARTIFACTS = Path(__file__).parent / "artifacts"
OWNER, PASSWORD = "admin", "app-test-password-1"
WIDE, NARROW = {"width": 1280, "height": 900}, {"width": 390, "height": 844}

NO_CHROMIUM = "the app's browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium)"


def pytest_collection_modifyitems(items):
    """Every test here drives a browser."""
    mark_browser_tests(items, Path(__file__).parent, NO_CHROMIUM)


class AppServer(LiveServer):
    """`segue serve` whose first owner has a known password."""

    def environment(self) -> dict[str, str]:
        return {**super().environment(), "SEGUE_ADMIN_USER": OWNER, "SEGUE_ADMIN_PASSWORD": PASSWORD}


@pytest.fixture(scope="package")
def app_server(tmp_path_factory):
    with AppServer.running_in(tmp_path_factory.mktemp("segue-app")) as server:
        yield server


@pytest.fixture
def page(browser, app_server):
    """A logged-in tab, 1280 px wide; a page error (uncaught script exception) fails the test."""
    context = browser.new_context(viewport=WIDE, base_url=app_server.url)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    log_in(tab)
    yield tab
    context.close()
    assert not errors, f"script errors on the page: {errors}"


def log_in(tab, username: str = OWNER, password: str = PASSWORD) -> None:
    tab.goto("/login")
    tab.get_by_label("User name").fill(username)
    tab.get_by_label("Password").fill(password)
    tab.get_by_role("button", name="Log in").click()
    tab.wait_for_url(lambda url: "/login" not in url)


def screenshot(tab, name: str) -> None:
    """Save the page as it looks now, wide and narrow, to tests/app/artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    size = tab.viewport_size
    for label, viewport in (("1280", WIDE), ("390", NARROW)):
        tab.set_viewport_size(viewport)
        tab.screenshot(path=str(ARTIFACTS / f"{name}-{label}.png"), full_page=True)
    tab.set_viewport_size(size)


def add_source(tab, name: str, type_label: str = "Python") -> str:
    """Add a source through the app; its id."""
    tab.goto("/sources/new")
    tab.get_by_label(type_label, exact=True).check()
    tab.get_by_label("Name").fill(name)
    tab.get_by_role("button", name="Add source").click()
    tab.wait_for_url("**/sources/src_*")
    return tab.url.rsplit("/", 1)[1]


def write_key(tab) -> str:
    return tab.locator("#write-key").input_value()


def send_track(server, key: str, body: dict) -> int:
    """POST one track call to the Tracking API, as a client would; the status. A new source's
    key reaches the running server within a second: until then (401) it is tried again."""
    deadline = time.monotonic() + 10
    while True:
        try:
            return _post_track(server, key, body)
        except urllib.error.HTTPError as error:
            if error.code != 401 or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _post_track(server, key: str, body: dict) -> int:
    request = urllib.request.Request(
        f"{server.url}/v1/track", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": "Basic " + _basic(key)},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def _basic(key: str) -> str:
    return base64.b64encode(f"{key}:".encode()).decode()


def wait_for(predicate, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


class _Recorder(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (the http.server naming)
        length = int(self.headers.get("Content-Length") or 0)
        self.server.bodies.append(json.loads(self.rfile.read(length) or b"null"))
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok":true}' if self.server.status < 400 else b'{"error":"<i>refused</i> by the test"}')

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def hook():
    """A local webhook receiver: `.url`, `.bodies` (the JSON bodies it was sent) and `.status`
    (what it answers, 200 unless a test changes it)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.bodies, server.status = [], 200
    server.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="package")  # see tests/conftest.py chromium(): not a session-wide browser
def browser():
    with chromium() as browser:
        yield browser
