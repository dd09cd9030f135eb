"""Enrichment and the clock-skew formula (spec 1.8, vectors 1, 2 and 7)."""

import pytest

from segue.errors import InvalidMessage
from segue.spec.enrich import enrich, make_envelope, merge_envelope
from segue.spec.timestamps import format_ms, parse_ms

RECEIVED = "2015-12-10T04:08:31.909Z"


def envelope(body=None, batch=False, ip=None, fill_ip=True):
    return make_envelope(body or {}, parse_ms(RECEIVED, "receivedAt"), ip, batch=batch, fill_ip=fill_ip)


def test_vector_1_timestamp_without_sent_at_is_kept_as_original():
    message = {"type": "track", "userId": "019mr8mf4r", "timestamp": "2012-12-02T00:30:12.984Z"}
    enriched = enrich(message, envelope(), new_id=lambda: "generated")
    assert enriched["messageId"] == "generated"
    assert enriched["originalTimestamp"] == enriched["timestamp"] == "2012-12-02T00:30:12.984Z"
    assert enriched["receivedAt"] == RECEIVED
    assert "sentAt" not in enriched


def test_vector_2_clock_skew_is_corrected():
    message = {
        "type": "track", "userId": "u", "event": "e",
        "originalTimestamp": "2015-12-10T04:08:31.577Z", "sentAt": "2015-12-10T04:08:31.581Z",
    }
    enriched = enrich(message, envelope())
    assert enriched["timestamp"] == "2015-12-10T04:08:31.905Z"
    assert enriched["originalTimestamp"] == "2015-12-10T04:08:31.577Z"
    assert enriched["sentAt"] == "2015-12-10T04:08:31.581Z"


def test_sent_at_comes_from_the_batch_envelope():
    body = {"sentAt": "2015-12-10T04:08:31.581Z"}
    message = {"type": "track", "userId": "u", "event": "e", "timestamp": "2015-12-10T04:08:31.577Z"}
    enriched = enrich(message, envelope(body, batch=True))
    assert enriched["timestamp"] == "2015-12-10T04:08:31.905Z"
    assert enriched["sentAt"] == "2015-12-10T04:08:31.581Z"


def test_without_any_time_the_timestamp_is_received_at():
    enriched = enrich({"type": "identify", "userId": "u"}, envelope())
    assert enriched["timestamp"] == RECEIVED
    assert "originalTimestamp" not in enriched


def test_given_message_id_is_kept_and_client_fields_stripped():
    message = {"type": "identify", "userId": 5, "messageId": "m1", "writeKey": "k", "_metadata": {"bundled": []}}
    enriched = enrich(message, envelope())
    assert enriched["messageId"] == "m1"
    assert enriched["userId"] == "5"
    assert "writeKey" not in enriched and "_metadata" not in enriched


def test_vector_7_envelope_context_and_integrations_merge_into_items():
    body = {"context": {"device": {"type": "phone", "name": "Apple iPhone 6"}}, "integrations": {"All": False}}
    env = envelope(body, batch=True)
    item = {"type": "track", "userId": "u", "event": "Song Played", "context": {"ip": "1.2.3.4"},
            "integrations": {"Mixpanel": True}}
    merge_envelope(item, env)
    assert item["context"] == {"device": {"type": "phone", "name": "Apple iPhone 6"}, "ip": "1.2.3.4"}
    assert item["integrations"] == {"All": False, "Mixpanel": True}


def test_single_message_bodies_do_not_merge_their_own_context_twice():
    env = envelope({"context": {"a": 1}}, batch=False)
    assert env.context is None


def test_client_ip_is_filled_only_when_absent():
    assert enrich({"type": "identify", "userId": "u"}, envelope(ip="10.0.0.1"))["context"] == {"ip": "10.0.0.1"}
    kept = enrich({"type": "identify", "userId": "u", "context": {"ip": "24.5.68.47"}}, envelope(ip="10.0.0.1"))
    assert kept["context"]["ip"] == "24.5.68.47"


def test_server_side_callers_opt_in_to_the_connection_ip_with_context_direct():
    plain = enrich({"type": "identify", "userId": "u"}, envelope(ip="10.0.0.1", fill_ip=False))
    assert "context" not in plain
    direct = enrich({"type": "identify", "userId": "u", "context": {"direct": True}}, envelope(ip="10.0.0.1", fill_ip=False))
    assert direct["context"]["ip"] == "10.0.0.1"


def test_bad_timestamp_is_a_validation_error():
    with pytest.raises(InvalidMessage) as raised:
        enrich({"type": "identify", "userId": "u", "timestamp": "yesterday"}, envelope())
    assert raised.value.code == "invalid_timestamp"


def test_absurd_skew_falls_back_to_the_original_time():
    message = {"type": "identify", "userId": "u", "timestamp": "0001-01-01T00:00:00Z", "sentAt": "9999-01-01T00:00:00Z"}
    assert enrich(message, envelope())["timestamp"] == "0001-01-01T00:00:00Z"


def test_format_round_trips():
    for value in ("1970-01-01T00:00:00.000Z", "2012-12-02T00:30:12.984Z", "9999-12-31T23:59:59.999Z"):
        assert format_ms(parse_ms(value, "t")) == value
    assert format_ms(parse_ms("2015-12-10T06:08:31.905+02:00", "t")) == "2015-12-10T04:08:31.905Z"
