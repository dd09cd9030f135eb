"""A small HTTP server for the Sender tests, run by uvicorn on a thread of its own.

Every path answers as its query string says: `status`, `body`, `type` (content type),
`retry_after`, `sleep` (seconds before answering). It counts requests in flight.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

HOST = "127.0.0.1"


class Recorder:
    """What the server saw: requests in flight (now and at most), and each request received."""

    def __init__(self) -> None:
        self.active = 0
        self.peak = 0
        self.received: list[dict] = []

    def reset(self) -> None:
        self.__init__()


def make_app(recorder: Recorder) -> Starlette:
    async def answer(request: Request) -> Response:
        query = request.query_params
        recorder.active += 1
        recorder.peak = max(recorder.peak, recorder.active)
        try:
            body = await request.body()
            recorder.received.append({"method": request.method, "path": request.url.path, "headers": dict(request.headers),
                                      "body": body, "at": time.monotonic()})
            await asyncio.sleep(float(query.get("sleep", 0)))
            headers = {"Retry-After": query["retry_after"]} if "retry_after" in query else {}
            content = query.get("body", "") * int(query.get("repeat", 1))
            return Response(content, status_code=int(query.get("status", 200)), headers=headers,
                            media_type=query.get("type", "text/plain"))
        finally:
            recorder.active -= 1

    return Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST", "PUT", "DELETE"])])


class ServerThread:
    """uvicorn serving `make_app` on a free port until `stop()`."""

    def __init__(self) -> None:
        self.recorder = Recorder()
        self.socket = socket.socket()
        self.socket.bind((HOST, 0))
        self.url = f"http://{HOST}:{self.socket.getsockname()[1]}"
        config = uvicorn.Config(make_app(self.recorder), log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.server.started, "the test HTTP server did not start"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.socket.close()


def closed_port_url() -> str:
    """A URL on a port nothing listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port = sock.getsockname()[1]
    return f"http://{HOST}:{port}/"
