"""Browser tests of device mode: a real `segue serve`, Debian's Chromium driven by Playwright.

`device_server` runs one Segue for the whole package with a known owner password and its public
URL (`SEGUE_PUBLIC_URL`) set to its own address, so the settings it serves point browsers back
at it. `browser` is Chromium; `site` serves a directory of test pages from another local origin
(`http://localhost:<port>`, while Segue is `http://127.0.0.1:<port>`), so every call a page makes
to Segue is cross-origin, as on a real website. `js_source` and `add_device_destination` set
things up through the CLI, as an operator would. Besides the built-in catalog, the server knows
`device-recorder` (tests/device/thirdparty/, a third-party package): its plugin pushes each call
it gets to `window.deviceRecorderCalls`; its settings hold a secret that must never reach a browser.

H2 and H3 append their own fixtures at the end of this file.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import urllib.error
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.app.conftest import OWNER, PASSWORD, log_in, wait_for  # noqa: F401 (re-exported for the tests here)
from tests.conftest import LiveServer, _clean_environment, chromium, mark_browser_tests

THIRD_PARTY = Path(__file__).parent / "thirdparty"  # the `device-recorder` test destination
RECORDER = "device-recorder"
NO_CHROMIUM = "device mode's browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium)"


def pytest_collection_modifyitems(items):
    """Every test here drives a browser or a live server."""
    mark_browser_tests(items, Path(__file__).parent, NO_CHROMIUM)


def _environment(data_dir: Path) -> dict[str, str]:
    """A clean environment whose catalog also holds the third-party `device-recorder` destination."""
    environ = _clean_environment(data_dir)
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(THIRD_PARTY), environ.get("PYTHONPATH")]))
    return environ


class DeviceServer(LiveServer):
    """`segue serve` with a known owner password and `SEGUE_PUBLIC_URL` set to its own URL; its
    catalog (and its CLI's) also holds the test destination `device-recorder`."""

    def environment(self) -> dict[str, str]:
        """The server's: a known owner and its own URL as the public one; the CLI's: the test catalog."""
        return {**_environment(self.data_dir), "SEGUE_ADMIN_USER": OWNER, "SEGUE_ADMIN_PASSWORD": PASSWORD,
                "SEGUE_PUBLIC_URL": self.url}

    def get(self, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
        """GET a path of this server: (status, headers with lowercase names, body); no exception on 4xx."""
        request = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, _lower(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, _lower(error.headers), error.read()


def _lower(headers) -> dict:
    return {name.lower(): value for name, value in headers.items()}


@pytest.fixture(scope="package")
def device_server(tmp_path_factory):
    with DeviceServer.running_in(tmp_path_factory.mktemp("segue-device")) as server:
        yield server


@pytest.fixture
def tab(browser):
    """A fresh, logged-out tab; an uncaught script exception on it fails the test."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"script errors on the page: {errors}"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


class StaticSite:
    """Serves files from a directory at `http://localhost:<port>/` (another origin than Segue's)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://localhost:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def write(self, name: str, text: str) -> str:
        """Write a file into the site; its URL."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return f"{self.url}/{name}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def site(tmp_path):
    """A local web server for test pages: `site.write("index.html", html)` returns its URL."""
    served = StaticSite(tmp_path / "site")
    served.root.mkdir(parents=True, exist_ok=True)
    yield served
    served.close()


def js_source(server: LiveServer, name: str) -> dict:
    """A new javascript (website) source, once the running server accepts its write key."""
    return server.create_source(name, type="javascript")


def add_device_destination(server: LiveServer, source: str, slug: str, settings: dict | None = None,
                           *, mode: str = "device", enable: bool = True) -> dict:
    """Connect catalog destination `slug` to `source` (name, slug or id) through the CLI; its view."""
    args = ["destinations", "create", slug, "--source", source, "--mode", mode, "--json"]
    if settings:
        args += ["--settings-json", json.dumps(settings)]
    if enable:
        args.append("--enable")
    return json.loads(server.cli(*args))


def set_destination_enabled(server: LiveServer, instance_id: str, enabled: bool) -> dict:
    """Enable or disable a destination instance through the CLI; its view."""
    return json.loads(server.cli("destinations", "enable" if enabled else "disable", instance_id, "--json"))


@pytest.fixture(scope="package")  # see tests/conftest.py chromium(): not a session-wide browser
def browser():
    with chromium() as browser:
        yield browser


from tests.device.library_support import relay, source  # noqa: E402,F401 (the library tests' fixtures)
