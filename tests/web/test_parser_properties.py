"""Property: no request body makes ingest raise anything but a clean validation error."""

import asyncio

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segue.config import Settings
from segue.errors import InvalidMessage, Unauthorized
from segue.log.memory import MemoryLog
from segue.pipeline.ingest import Ingestor
from segue.pipeline.sources import SourceDirectory
from tests.web.conftest import SOURCES, MemorySources

FIELDS = [
    "type", "userId", "anonymousId", "event", "properties", "traits", "context", "integrations", "messageId",
    "timestamp", "originalTimestamp", "sentAt", "groupId", "previousId", "name", "writeKey", "batch", "_metadata",
]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1), st.floats(allow_nan=False), st.text(max_size=30),
    st.sampled_from(["track", "identify", "batch", "abc123", "webkey", "2015-12-10T04:08:31.577Z", "", "Z"]),
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), children, max_size=6),
    max_leaves=25,
)
messages = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=10)
bodies = st.one_of(
    st.binary(max_size=200),
    st.sampled_from([b'{"userId": 1e999, "event": "x"}', b'{"userId": 123456789012345678901234567890}', b"\xff\xfe"]),
    json_values.map(orjson.dumps),
    messages.map(orjson.dumps),
    st.lists(messages, max_size=5).map(lambda batch: orjson.dumps({"batch": batch, "writeKey": "abc123"})),
)
kinds = st.sampled_from(["track", "identify", "page", "screen", "group", "alias", "batch"])
authorizations = st.one_of(st.none(), st.sampled_from(["Basic YWJjMTIzOg==", "Basic ???", "Bearer x", "Basic"]),
                           st.text(max_size=20))


def make_ingestor():
    directory = SourceDirectory(MemorySources(*SOURCES))
    directory.refresh_now()
    settings = Settings.load(environ={})
    return Ingestor(settings, MemoryLog(), directory)


LOOP = asyncio.new_event_loop()
INGESTOR = make_ingestor()


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=kinds, body=bodies, authorization=authorizations)
def test_ingest_raises_only_validation_errors(kind, body, authorization):
    try:
        result = LOOP.run_until_complete(INGESTOR.ingest(kind, body, authorization, "127.0.0.1"))
    except (InvalidMessage, Unauthorized) as error:
        assert error.status in (400, 401) and error.code and error.message
        assert orjson.dumps(error.to_json())
    else:
        sent = orjson.loads(body)
        count = len(sent["batch"]) if kind == "batch" else 1
        assert result.stored + result.duplicates + len(result.rejected) == count
