"""Amazon S3 specifics: object keys from receivedAt and messageId, NDJSON bodies, credentials in the URL."""

from __future__ import annotations

import orjson
import pytest

from segue.destinations import amazon_s3
from segue.destinations.settings import InvalidSettings, validate_settings
from segue.errors import InvalidMessage
from tests.destinations.events import maximal, minimal

SETTINGS = validate_settings(amazon_s3.Settings, {
    "bucket": "archive", "accessKeyId": "AKID", "secretAccessKey": "se/cr+et", "prefix": "raw",
})


def test_the_key_comes_from_the_first_received_at_hour_and_is_deterministic():
    events = [maximal("track"), {**maximal("page"), "receivedAt": "2025-12-31T23:59:59Z"}]
    key = amazon_s3.object_key(events, SETTINGS)
    assert key.startswith("raw/2024/03/05/14/") and key.endswith("-2.ndjson")
    assert key == amazon_s3.object_key([dict(event) for event in events], SETTINGS)
    assert key != amazon_s3.object_key(events[:1], SETTINGS)
    assert key != amazon_s3.object_key([{**events[0], "messageId": "other"}, events[1]], SETTINGS)


def test_the_body_is_one_json_line_per_event():
    events = [maximal("track"), minimal("identify")]
    (request,) = amazon_s3.put_events(events, SETTINGS)
    assert [orjson.loads(line) for line in request.body.splitlines()] == events
    assert request.body.endswith(b"\n") and request.method == "PUT"


def test_credentials_are_percent_encoded_and_the_endpoint_is_optional():
    (request,) = amazon_s3.put_event(minimal("track"), SETTINGS)
    assert request.url.startswith("s3://AKID:se%2Fcr%2Bet@archive/raw/") and request.url.endswith("?region=us-east-1")


def test_without_received_at_the_timestamp_is_used_and_without_either_the_event_is_refused():
    event = {key: value for key, value in minimal("track").items() if key != "receivedAt"}
    assert "/2024/03/05/14/" in amazon_s3.put_event(event, SETTINGS)[0].url
    with pytest.raises(InvalidMessage):
        amazon_s3.put_event({key: value for key, value in event.items() if key != "timestamp"}, SETTINGS)


def test_the_endpoint_must_be_an_http_url():
    with pytest.raises(InvalidSettings):
        validate_settings(amazon_s3.Settings, {
            "bucket": "b-1", "accessKeyId": "a", "secretAccessKey": "s", "endpoint": "minio:9000",
        })
