"""Amazon S3: events stored as newline-delimited JSON objects, one object per batch.

The request is `PUT s3://<accessKeyId>:<secretAccessKey>@<bucket>/<key>?region=<r>[&endpoint=<url>]`
(credentials percent-encoded); the transport (`segue/pipeline/transports/s3.py`) calls
PutObject with them. The key is `<prefix>/<yyyy>/<mm>/<dd>/<hh>/<name>.ndjson`: the hour comes
from the first event's `receivedAt` (UTC), the name from a hash of its messageId and the event
count, so a retried batch overwrites the same object instead of adding a copy. `endpoint` names
an S3-compatible service (MinIO, moto); without it the transport uses AWS for the region.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from pydantic import Field, SecretStr

from segue.destinations.common import encode_json, method_presets, stable_hash, text
from segue.destinations.contract import METHODS, Destination, DestinationSettings, Request
from segue.destinations.settings import HttpUrlText
from segue.errors import InvalidMessage
from segue.spec.timestamps import parse_ms

# S3 has no per-object event limit (objects up to 5 GB); 1,000 events keeps objects a few MB.
BATCH_SIZE = 1000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Settings(DestinationSettings):
    bucket: str = Field(min_length=3, max_length=63, description="The bucket the objects are written to.")
    region: str = Field("us-east-1", description="The bucket's AWS region.")
    prefix: str = Field("segue", description="Key prefix (folder) of the objects; empty for the bucket's root.")
    access_key_id: str = Field(title="Access Key ID", description="Of an IAM user allowed s3:PutObject on the bucket.")
    secret_access_key: SecretStr = Field(description="The secret of that access key.")
    endpoint: HttpUrlText | None = Field(
        None, description="An S3-compatible endpoint (MinIO, moto...), e.g. http://localhost:9000; empty for AWS."
    )


def _hour_folder(event: dict) -> str:
    """`yyyy/mm/dd/hh` of the event's receivedAt (its timestamp when receivedAt is absent)."""
    value = event.get("receivedAt") or event.get("timestamp")
    if value is None:
        raise InvalidMessage("an S3 object key needs the event's receivedAt", code="missing_field")
    moment = EPOCH + timedelta(milliseconds=parse_ms(value, "receivedAt"))
    return moment.strftime("%Y/%m/%d/%H")


def object_key(events: list[dict], settings: Settings) -> str:
    """The object's key: prefix, the first event's hour, a name from its messageId and the count."""
    first = events[0]
    name = stable_hash(f"{text(first, 'messageId') or ''}:{len(events)}", 24)
    prefix = settings.prefix.strip("/")
    return "/".join(part for part in (prefix, _hour_folder(first), f"{name}-{len(events)}.ndjson") if part)


def _url(key: str, settings: Settings) -> str:
    secret = settings.secret_access_key.get_secret_value()
    credentials = f"{quote(settings.access_key_id, safe='')}:{quote(secret, safe='')}"
    query = f"region={quote(settings.region, safe='')}"
    if settings.endpoint:
        query += f"&endpoint={quote(settings.endpoint, safe='')}"
    return f"s3://{credentials}@{settings.bucket}/{quote(key, safe='/')}?{query}"


def put_events(events: list, settings: Settings) -> list[Request]:
    """One PUT of an NDJSON object holding `events` (none for no events)."""
    if not events:
        return []
    body = b"".join(encode_json(event) + b"\n" for event in events)
    return [Request("PUT", _url(object_key(events, settings), settings), {}, body)]


def put_event(event: dict, settings: Settings) -> list[Request]:
    """Any method, one event: a one-line object."""
    return put_events([event], settings)


DESTINATION = Destination(
    slug="amazon-s3",
    name="Amazon S3",
    categories=("Raw Data",),
    description=(
        "Archive the raw events in your own S3 bucket (or any S3-compatible store) as "
        "newline-delimited JSON files, one per batch, in hourly folders by arrival time, "
        "ready for Athena, Spark or a data lake to read."
    ),
    docs_url="https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html",
    settings=Settings,
    translations={method: put_event for method in METHODS},
    replay=True,
    presets=method_presets(METHODS),
    batch=put_events,
    batch_size=BATCH_SIZE,
    rate_limit=3500.0,  # S3 documents 3,500 PUT requests per second per partitioned prefix
)
