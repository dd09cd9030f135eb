"""Segment HTTP Forwarding: events re-sent to Segment's HTTP Tracking API, or to another Segue.

Auth is HTTP Basic with the write key as user name and an empty password. Each event goes to
`<host>/v1/<method>`; batches go to `<host>/v1/batch` as `{"batch": [...]}`. The Tracking API
takes at most 32 KB per event and 500 KB per batch request (and 2,500 events per batch), so
batches are split by encoded size and an event above 32 KB is refused here.

Events go as stored, minus three fields the receiving API would misread: `writeKey` (a body
key would override the Basic auth), `_metadata` (Analytics.js bookkeeping) and `sentAt`
(the stored `timestamp` is already skew-corrected; with `sentAt` the receiver would correct it
again against its own clock).
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from segue.destinations.common import (
    JSON_HEADERS,
    basic_auth,
    encode_json,
    error_text,
    json_or_none,
    method_presets,
)
from segue.destinations.contract import METHODS, Destination, DestinationSettings, Request
from segue.destinations.settings import HttpUrlText
from segue.errors import InvalidMessage

MAX_EVENT_BYTES = 32 * 1024  # analytics-python's MAX_MSG_SIZE (32 << 10)
MAX_BATCH_BYTES = 500_000  # "500 KB" read as the smaller decimal figure
ENVELOPE_BYTES = len(b'{"batch":[]}')
BATCH_SIZE = 2500  # events per batch request; beyond that Segment drops the events
DROPPED_FIELDS = ("writeKey", "_metadata", "sentAt")


class Settings(DestinationSettings):
    host: HttpUrlText = Field(
        "https://api.segment.io", title="API Host",
        description="Segment's Tracking API (EU: https://events.eu1.segmentapis.com) or another Segue's URL.",
    )
    write_key: SecretStr = Field(title="Write Key", description="The write key of the source that receives the events.")


def _headers(settings: Settings) -> dict:
    return {**JSON_HEADERS, "Authorization": basic_auth(settings.write_key.get_secret_value())}


def encoded_event(event: dict) -> bytes:
    """The event as it is forwarded; InvalidMessage when it is above the 32 KB limit."""
    body = encode_json({key: value for key, value in event.items() if key not in DROPPED_FIELDS})
    if len(body) > MAX_EVENT_BYTES:
        raise InvalidMessage(
            f"the event is {len(body)} bytes; Segment's Tracking API takes at most {MAX_EVENT_BYTES}", code="too_large"
        )
    return body


def forward(event: dict, settings: Settings) -> list[Request]:
    """Any method: the event POSTed to `/v1/<type>`."""
    body = encoded_event(event)
    return [Request("POST", f"{settings.host.rstrip('/')}/v1/{event['type']}", _headers(settings), body)]


def size_chunks(bodies: list[bytes]) -> list[list[bytes]]:
    """Consecutive groups of encoded events, each fitting a 500 KB batch request."""
    chunks: list[list[bytes]] = []
    size = MAX_BATCH_BYTES
    for body in bodies:
        if size + len(body) + 1 > MAX_BATCH_BYTES or len(chunks[-1]) >= BATCH_SIZE:
            chunks.append([])
            size = ENVELOPE_BYTES - 1
        chunks[-1].append(body)
        size += len(body) + 1
    return chunks


def forward_batch(events: list, settings: Settings) -> list[Request]:
    """Many events: `/v1/batch` requests, split to stay within the size limits."""
    url = f"{settings.host.rstrip('/')}/v1/batch"
    return [
        Request("POST", url, _headers(settings), b'{"batch":[' + b",".join(chunk) + b"]}")
        for chunk in size_chunks([encoded_event(event) for event in events])
    ]


def interpret(status: int, body: bytes) -> str | None:
    """Segue's `{"code", "message"}` (also what Segment's clients read), else the text body."""
    parsed = json_or_none(body)
    if isinstance(parsed, dict) and isinstance(parsed.get("message"), str):
        code = parsed.get("code")
        return f"{code}: {parsed['message']}" if isinstance(code, str) else parsed["message"]
    return None if parsed is not None else error_text(body)


DESTINATION = Destination(
    slug="segment-forwarding",
    name="Segment HTTP Forwarding",
    categories=("Raw Data",),
    description=(
        "Forward the events, as received, to a Segment source through Segment's HTTP Tracking "
        "API, or to a source of another Segue. Useful while moving between the two, or to feed "
        "a second workspace. Batches respect the API's 500 KB and 32 KB-per-event limits."
    ),
    docs_url="https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/",
    settings=Settings,
    translations={method: forward for method in METHODS},
    replay=True,
    presets=method_presets(METHODS),
    batch=forward_batch,
    batch_size=BATCH_SIZE,
    interpret=interpret,
    rate_limit=1000.0,  # Segment recommends at most 1,000 requests per second per workspace
)
