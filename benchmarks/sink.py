"""`python -m benchmarks.sink --port P`: a destination that counts what it receives.

A raw ASGI app under uvicorn (the same stack as Segue) answering 200 to every POST. It counts
events (a JSON array counts each item) and, for events carrying `properties.sentAt` (epoch
seconds, set by the latency benchmark), the delay from sending to arrival.
`GET /stats` answers `{"events": n, "latencies": [seconds, ...]}`; `GET /healthz` is 200.
"""

from __future__ import annotations

import argparse
import time

import orjson
import uvicorn

from segue.server import UVICORN_OPTIONS

events = 0
latencies: list[float] = []


async def app(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    if scope["method"] == "POST":
        _count(body)
        await _answer(send, b'{"ok":true}')
    elif scope["path"] == "/stats":
        await _answer(send, orjson.dumps({"events": events, "latencies": latencies}))
    else:
        await _answer(send, b"{}")


def _count(body: bytes) -> None:
    global events
    arrived = time.time()
    parsed = orjson.loads(body)
    for event in parsed if isinstance(parsed, list) else [parsed]:
        events += 1
        sent_at = (event.get("properties") or {}).get("sentAt")
        if sent_at:
            latencies.append(arrived - sent_at)


async def _answer(send, payload: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", backlog=2048, **UVICORN_OPTIONS)


if __name__ == "__main__":
    main()
