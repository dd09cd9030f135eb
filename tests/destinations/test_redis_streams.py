"""Redis Streams specifics: stream entries, MAXLEN, credentials outside the URL."""

from __future__ import annotations

import pytest

from segue.destinations import redis_streams
from segue.destinations.settings import InvalidSettings, validate_settings
from tests.destinations.events import maximal


def test_credentials_belong_in_their_own_settings_not_the_url():
    with pytest.raises(InvalidSettings):
        validate_settings(redis_streams.Settings, {"redisUrl": "redis://:pw@localhost:6379/0"})


def test_redis_stream_entries_carry_ids_as_fields():
    settings = validate_settings(redis_streams.Settings, {"maxLength": 5})
    (request,) = redis_streams.publish(maximal("screen"), settings)
    assert request.headers == {"messageId": maximal("screen")["messageId"], "type": "screen"}
    assert request.url == "redis://127.0.0.1:6379/0?stream=segue%3Aevents&maxlen=5"
