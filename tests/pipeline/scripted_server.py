"""A local destination server that answers from a script: the test decides each response.

`ScriptedServer.script(path, [500, 500, 200])` makes the next three calls to `path` answer
500, 500, then 200; afterwards `default` (200). A step may be a status, or a dict with
`status`, `headers`, `body` and `delay` (seconds to sleep first: a timeout). Every request
is kept in `received` with its arrival time, so tests check order, count and content.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict
    body: bytes
    at: float
    status: int

    def json(self):
        return orjson.loads(self.body)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        step = self.server.owner.next_step(self.path)
        time.sleep(step.get("delay", 0))
        self.server.owner.keep(Received(self.command, self.path, dict(self.headers), body, time.monotonic(), step["status"]))
        payload = step.get("body", b'{"ok": true}')
        self.send_response(step["status"])
        for name, value in {"Content-Type": "application/json", **step.get("headers", {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_PUT = do_PATCH = do_POST

    def log_message(self, *args) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default 5 drops connections when several workers connect at once


class ScriptedServer:
    """Start with `start()`, stop with `stop()`; `url` is its base URL."""

    def __init__(self, default: int = 200) -> None:
        self.default = default
        self.received: list[Received] = []
        self._scripts: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "ScriptedServer":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def script(self, path: str, steps: list) -> None:
        with self._lock:
            self._scripts[path].extend(step if isinstance(step, dict) else {"status": step} for step in steps)

    def next_step(self, path: str) -> dict:
        with self._lock:
            queue = self._scripts.get(path)
            return queue.popleft() if queue else {"status": self.default}

    def keep(self, request: Received) -> None:
        with self._lock:
            self.received.append(request)

    def bodies(self, path: str | None = None, status: int | None = 200) -> list:
        """JSON bodies received (at `path`, answered with `status`), in arrival order."""
        with self._lock:
            return [r.json() for r in self.received if path in (None, r.path) and status in (None, r.status)]
