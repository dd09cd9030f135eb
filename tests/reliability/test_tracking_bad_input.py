"""Bad input against the whole ASGI app's Tracking API: random bodies, content types, gzip or
not, deep or huge JSON, invalid UTF-8 and random headers. Never a 5xx; every refusal is the one
error body `{"success": false, "code", "message"}`. (tests/web/test_parser_properties.py checks
the parser alone.)"""

from __future__ import annotations

import base64
import gzip

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segue.control import OPERATOR
from tests.web.test_parser_properties import json_values, messages

PATHS = ["/v1/track", "/v1/identify", "/v1/page", "/v1/screen", "/v1/group", "/v1/alias", "/v1/batch", "/v1/import",
         "/v1/t", "/v1/b", "/v1/p"]
CONTENT_TYPES = [None, "application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                 "application/json; charset=latin-1", "", "*/*", "application/json;;;"]
deep = st.integers(1, 5000).map(lambda depth: b"[" * depth + b"]" * depth)
huge = st.integers(500_000, 1_200_000).map(lambda size: orjson.dumps({"event": "x", "userId": "u", "properties": {"p": "a" * size}}))
bodies = st.one_of(
    st.binary(max_size=300),
    st.sampled_from([b"", b"\xff\xfe\xfd", b'{"event": "\xed\xa0\x80"}', b'{"userId": "u", "event": "\xc3\x28"}',
                     b'{"a":' * 100, b"null", b"[]", b'"text"', b"1e999999", b'{"batch": {}}']),
    json_values.map(orjson.dumps),
    messages.map(orjson.dumps),
    st.lists(messages, max_size=5).map(lambda batch: orjson.dumps({"batch": batch})),
    deep,
    huge,
)
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
extra_headers = st.dictionaries(
    st.sampled_from(["content-encoding", "content-length", "x-forwarded-for", "user-agent", "origin", "accept",
                     "transfer-encoding", "x-segue-anything"]),
    header_text, max_size=3)


@pytest.fixture(scope="module")
def write_key(segue) -> str:
    return segue.plane.create_source(OPERATOR, "Fuzzed", "python")["writeKeys"][0]


def authorization(choice: str, write_key: str) -> str | None:
    return {"good": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode(), "none": None,
            "bad": "Basic !!!", "bearer": f"Bearer {write_key}"}[choice]


def assert_one_error_body(response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:500])
    if response.status_code >= 400:
        body = response.json()
        assert body["success"] is False and isinstance(body["code"], str) and isinstance(body["message"], str), body


@settings(max_examples=250, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])
@given(path=st.sampled_from(PATHS), body=bodies, content_type=st.sampled_from(CONTENT_TYPES), gzipped=st.booleans(),
       auth=st.sampled_from(["good", "good", "none", "bad", "bearer"]), headers=extra_headers)
def test_the_tracking_api_never_fails_with_a_5xx(segue, write_key, path, body, content_type, gzipped, auth, headers):
    sent_headers = {key: value for key, value in headers.items() if key not in ("content-length", "transfer-encoding")}
    if gzipped:
        body, sent_headers["content-encoding"] = gzip.compress(body), "gzip"
    if content_type is not None:
        sent_headers["content-type"] = content_type
    if (value := authorization(auth, write_key)) is not None:
        sent_headers["authorization"] = value
    assert_one_error_body(segue.client().post(path, content=body, headers=sent_headers))


@pytest.mark.parametrize("body", [b"\x1f\x8b\x08\x00broken", gzip.compress(b"\xff" * 10), gzip.compress(b"{" * 100_000)])
def test_broken_or_hostile_gzip_is_a_clean_400(segue, write_key, body):
    headers = {"content-encoding": "gzip", "authorization": authorization("good", write_key)}
    response = segue.client().post("/v1/track", content=body, headers=headers)
    assert_one_error_body(response)
    assert response.status_code in (400, 413)


def test_a_gzip_bomb_is_refused_without_inflating_it_all(segue, write_key):
    bomb = gzip.compress(b'{"event": "x", "userId": "u", "properties": {"p": "' + b"a" * 50_000_000 + b'"}}')
    headers = {"content-encoding": "gzip", "authorization": authorization("good", write_key)}
    response = segue.client().post("/v1/track", content=bomb, headers=headers)
    assert_one_error_body(response)
    assert response.status_code in (400, 413)
