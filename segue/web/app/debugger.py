"""The source debugger: events streaming in as they arrive, as server-sent events.

No hook in ingest is needed: the event log already answers `newest(limit, source_id)`, and
offsets only grow, so the stream polls it twice a second and sends what is past the last
offset it sent. The browser renders each event as text (never as HTML).
"""

from __future__ import annotations

import asyncio
from typing import AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import StreamingResponse

from segue.log.protocol import EventLog, Record
from segue.web.app.render import plane

EVENT_TYPES = ("track", "identify", "page", "screen", "group", "alias")
POLL_SECONDS = 0.5
BACKLOG = 20  # events already received, shown when the debugger opens
PER_POLL = 200
HEARTBEAT_POLLS = 30


async def stream(request: Request) -> StreamingResponse:
    source = plane(request).get_source(request.path_params["source_id"])
    events = _events(request, request.app.state.log, source["id"])
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)


async def _events(request: Request, log: EventLog, source_id: str) -> AsyncIterator[bytes]:
    last = 0
    for record in await log.newest(BACKLOG, source_id):
        last = record.offset
        yield sse(record)
    quiet = 0
    while not await request.is_disconnected():
        await asyncio.sleep(POLL_SECONDS)
        fresh = [record for record in await log.newest(PER_POLL, source_id) if record.offset > last]
        for record in fresh:
            last = record.offset
            yield sse(record)
        quiet = 0 if fresh else quiet + 1
        if quiet >= HEARTBEAT_POLLS:
            quiet = 0
            yield b": still here\n\n"


def sse(record: Record) -> bytes:
    """One server-sent event: the stored message (JSON on one line) with its log offset as id."""
    message = orjson.loads(record.payload)
    data = orjson.dumps({"offset": record.offset, "receivedAtMs": record.received_at_ms, "message": message})
    return b"id: %d\nevent: message\ndata: %s\n\n" % (record.offset, data)
