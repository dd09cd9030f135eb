"""Redis Streams: every event appended to a stream with XADD.

The request is `PUBLISH redis[s]://[user:password@]host:port/<db>?stream=<name>[&maxlen=<n>]`.
The transport (`segue/pipeline/transports/redis.py`) adds one entry whose field `event` is the
body (the event as JSON) and whose other fields are the request headers: `messageId` and
`type`, so consumers can filter without parsing. With `maxlen` the stream is trimmed with
`MAXLEN ~ n` (approximate trimming, Redis's cheap form).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, SecretStr

from segue.destinations._streams import broker_url, broker_url_type, fill_template
from segue.destinations.common import compact, encode_json, method_presets, text
from segue.destinations.contract import METHODS, Destination, DestinationSettings, Request


class Settings(DestinationSettings):
    redis_url: broker_url_type("redis", "rediss") = Field(  # type: ignore[valid-type]
        "redis://127.0.0.1:6379/0", title="Redis URL",
        description="`redis://host:port/db` (`rediss://` for TLS), without the password.",
    )
    username: str | None = Field(None, description="ACL user name (Redis 6+); empty for the default user.")
    password: SecretStr | None = Field(None, description="The password (AUTH) of the user.")
    stream_template: str = Field(
        "segue:events", min_length=1,
        description="Stream key per event; `{field}` takes an event field (`segue:{type}`).",
    )
    max_length: int | None = Field(
        None, ge=1, title="Max Stream Length", description="Trim the stream to about this many entries (MAXLEN ~)."
    )


def _url(stream: str, settings: Settings) -> str:
    path = urlsplit(settings.redis_url).path or "/0"
    query = {"stream": stream, "maxlen": settings.max_length}
    return broker_url(settings.redis_url, settings.username, settings.password, path, query)


def publish(event: dict, settings: Settings) -> list[Request]:
    """Any method: one stream entry `{event: <JSON>, messageId, type}`."""
    fields = compact({"messageId": text(event, "messageId"), "type": text(event, "type")})
    stream = fill_template(settings.stream_template, event)
    return [Request("PUBLISH", _url(stream, settings), fields, encode_json(event))]


DESTINATION = Destination(
    slug="redis-streams",
    name="Redis Streams",
    categories=("Raw Data",),
    description=(
        "Append every event to a Redis stream with XADD: the event as JSON in the `event` field, "
        "its messageId and type beside it. Consumer groups can then read the events in order; "
        "an optional approximate MAXLEN keeps the stream bounded."
    ),
    docs_url="https://redis.io/docs/latest/commands/xadd/",
    settings=Settings,
    translations={method: publish for method in METHODS},
    replay=True,
    presets=method_presets(METHODS),
    rate_limit=0.0,  # a self-hosted server: no vendor limit
)
