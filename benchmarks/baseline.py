"""The baseline: a no-op Tracking API that parses the JSON body and answers 200.

It runs under the same uvicorn settings as `segue serve` (uvloop, httptools, one worker,
access log off), so segue/baseline is the share of the server's time spent on Segue's own work:
validation, enrichment, dedup and the durable write.

Run it alone: python -m benchmarks.baseline --port 8099
"""

from __future__ import annotations

import argparse
from typing import Callable

import orjson
import uvicorn

from segue.server import UVICORN_OPTIONS

SUCCESS = b'{"success":true}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(SUCCESS)).encode())]


async def app(scope: dict, receive: Callable, send: Callable) -> None:
    """Read the body, parse it when there is one, answer `{"success":true}`."""
    if scope["type"] != "http":
        return
    body = await _read_body(receive)
    if body:
        orjson.loads(body)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": SUCCESS})


async def _read_body(receive: Callable) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    args = parser.parse_args()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        lifespan="off",
        log_level="warning",
        **UVICORN_OPTIONS,
    )


if __name__ == "__main__":
    main()
