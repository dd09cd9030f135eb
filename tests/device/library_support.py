"""What the browser library's tests share: the relay in front of Segue, the test pages, and
readers of what Segue stored (tests/device/test_library*.py).

Test pages (tests/device/pages/) are served from `site` (another origin than Segue), with the
library file loaded as it is. The settings' apiHost points at `relay`, a local HTTP server that
forwards to Segue and records each request (and can answer 503 instead, to test retries).
Assertions read what Segue stored, field by field, from `segue events list --json`.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.device.conftest import js_source, wait_for

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "segue" / "web" / "browser" / "analytics.js"
PAGES = Path(__file__).parent / "pages"
MESSAGE_ID = re.compile(r"^ajs-next-\d{13}-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
NEVER = 600_000  # a batch timeout no test waits for


# ----------------------------------------------------------------------------- the relay

class _RelayHandler(BaseHTTPRequestHandler):
    def do_OPTIONS(self) -> None:  # noqa: N802 (http.server naming)
        self.server.record("OPTIONS", self.path, self.headers, None, 204)
        self._answer(204, b"")

    def do_POST(self) -> None:  # noqa: N802
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.server.failures_left > 0:
            self.server.failures_left -= 1
            status, body = self.server.failure_status, b'{"success":false}'
        else:
            status, body = self.server.forward(self.path, raw)
        self.server.record("POST", self.path, self.headers, json.loads(raw or b"null"), status)
        self._answer(status, body)

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class Relay(ThreadingHTTPServer):
    """Forwards POSTs to Segue and records them as dicts: method, path, headers, body, status.
    `fail(n, status)` makes it answer the next n POSTs itself with `status`."""

    def __init__(self, target: str) -> None:
        super().__init__(("127.0.0.1", 0), _RelayHandler)
        self.target = target
        self.requests: list[dict] = []
        self.failures_left, self.failure_status = 0, 503
        self.lock = threading.Lock()
        self.api_host = f"127.0.0.1:{self.server_address[1]}/v1"

    def fail(self, times: int, status: int = 503) -> None:
        self.failures_left, self.failure_status = times, status

    def record(self, method: str, path: str, headers, body, status: int) -> None:
        with self.lock:
            self.requests.append({"method": method, "path": path, "headers": {k.lower(): v for k, v in headers.items()},
                                  "body": body, "status": status})

    def forward(self, path: str, raw: bytes) -> tuple[int, bytes]:
        request = urllib.request.Request(self.target + path, data=raw, method="POST",
                                         headers={"Content-Type": "text/plain"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def posts(self) -> list[dict]:
        with self.lock:
            return [request for request in self.requests if request["method"] == "POST"]

    def accepted(self) -> list[dict]:
        """Every message Segue accepted through the relay, in the order of the requests."""
        messages = []
        for request in self.posts():
            if request["status"] == 200:
                body = request["body"]
                messages.extend(body["batch"] if "batch" in body else [body])
        return messages


@pytest.fixture
def relay(device_server):
    server = Relay(device_server.url)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


# ------------------------------------------------------------------------ pages and events

@pytest.fixture
def source(device_server):
    return js_source(device_server, f"website-{next(counter)}")


counter = iter(range(1_000_000))  # unique source names


def settings_for(key: str, relay: Relay, remote_plugins: list | None = None, **segment) -> dict:
    """CDN settings as Segue serves them, with apiHost pointing at the relay."""
    return {
        "integrations": {"Segment.io": {"apiKey": key, "apiHost": relay.api_host, "protocol": "http",
                                        "unbundledIntegrations": [], "addBundledMetadata": True,
                                        "maybeBundledConfigIds": {}, **segment}},
        "plan": {"track": {"__default": {"enabled": True, "integrations": {}}}},
        "remotePlugins": remote_plugins or [],
    }


def batching(size: int, timeout: int) -> dict:
    return {"deliveryStrategy": {"strategy": "batching", "config": {"size": size, "timeout": timeout}}}


def publish(site, page: str, settings: dict, script: str = "", name: str = "index.html", **fields) -> str:
    """Write test page `page` (with the library and test plugins) into the site; its URL."""
    for file in ("test-plugins.js", "remote-plugin.js"):
        site.write(file, (PAGES / file).read_text())
    site.write("analytics.js", LIBRARY.read_text())
    html = (PAGES / page).read_text().replace("{{SETTINGS}}", _inline(settings)).replace("{{SCRIPT}}", script)
    for field, value in fields.items():
        html = html.replace("{{" + field.upper() + "}}", _inline(value))
    return site.write(name, html)


def _inline(value) -> str:
    return json.dumps(value).replace("</", "<\\/")


def load_script(key: str, calls: str = "", options: dict | None = None) -> str:
    return f"analytics.load({json.dumps(key)}, {json.dumps(options or {})});\n{calls}"


def stored(server, source: dict, count: int, relay: Relay) -> list[dict]:
    """The source's messages in Segue's log, once the relay saw `count` of them accepted."""
    wait_for(lambda: len(relay.accepted()) >= count, what=f"{count} messages accepted by Segue")
    return server.events(source["id"])


def by_type(events: list[dict]) -> dict[str, dict]:
    return {event["type"]: event for event in events}


def assert_browser_fields(event: dict, tab) -> None:
    """The fields analytics.js gives every message (but a messageId the call chose)."""
    assert MESSAGE_ID.match(event["messageId"]) or event["messageId"].endswith("-fixed"), event["messageId"]
    assert ISO_TIME.match(event["originalTimestamp"]) and ISO_TIME.match(event["sentAt"])
    assert event["context"]["library"] == {"name": "analytics.js", "version": "segue-0.1.0"}
    assert event["context"]["userAgent"] == tab.evaluate("navigator.userAgent")
    assert event["context"]["locale"] == tab.evaluate("navigator.language")
    assert event["context"]["timezone"] == tab.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
    assert UUID.match(event["anonymousId"])
    assert "writeKey" not in event
