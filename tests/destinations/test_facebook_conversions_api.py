"""Facebook Conversions API specifics: event names, unhashed ids, batching, Graph API errors."""

from __future__ import annotations

import orjson
import pytest

from segue.destinations import facebook_conversions_api as facebook
from segue.destinations.settings import validate_settings
from segue.errors import InvalidMessage
from tests.destinations.events import maximal, minimal

SETTINGS = validate_settings(facebook.Settings, {"pixelId": "123", "accessToken": "to&ken"})


def sent(requests):
    (request,) = requests
    return orjson.loads(request.body)["data"]


@pytest.mark.parametrize(("name", "standard"), [
    ("Order Completed", "Purchase"), ("Product Added", "AddToCart"), ("Product Viewed", "ViewContent"),
    ("Checkout Started", "InitiateCheckout"), ("Products Searched", "Search"), ("Signed Up", "CompleteRegistration"),
    ("Lesson Finished", "Lesson Finished"),
])
def test_track_names_become_standard_or_custom_events(name, standard):
    (event,) = sent(facebook.translate({**minimal("track"), "event": name}, SETTINGS))
    assert event["event_name"] == standard and event["event_id"] == minimal("track")["messageId"]


def test_network_and_cookie_ids_are_not_hashed():
    event = maximal("page")
    cookies = {"fbc": "fb.1.1554763741205.AbCd", "fbp": "fb.1.1558571054389.1098115397"}
    event["integrations"]["Facebook Conversions API"] = cookies
    (sent_event,) = sent(facebook.translate(event, SETTINGS))
    user_data = sent_event["user_data"]
    assert user_data["client_ip_address"] == event["context"]["ip"]
    assert user_data["client_user_agent"] == event["context"]["userAgent"]
    assert {"fbc": user_data["fbc"], "fbp": user_data["fbp"]} == cookies
    assert sent_event["event_name"] == "PageView" and sent_event["event_time"] == 1709647629


def test_access_token_is_url_encoded():
    (request,) = facebook.translate(minimal("page"), SETTINGS)
    assert request.url == "https://graph.facebook.com/v26.0/123/events?access_token=to%26ken"


@pytest.mark.parametrize("event", [{**minimal("track"), "event": ""}, {**minimal("track"), "timestamp": None}])
def test_untranslatable_events_raise_invalid_message(event):
    with pytest.raises(InvalidMessage):
        facebook.translate(event, SETTINGS)


def test_batches_are_split_at_1000_events():
    events = [{**minimal("track"), "messageId": f"m-{index}"} for index in range(2500)]
    requests = facebook.translate_batch(events, SETTINGS)
    assert [len(orjson.loads(request.body)["data"]) for request in requests] == [1000, 1000, 500]
    assert orjson.loads(requests[2].body)["data"][-1]["event_id"] == "m-2499"


def test_interpret_reads_graph_api_errors():
    body = (b'{"error": {"message": "Invalid parameter", "type": "OAuthException", "code": 100, '
            b'"error_subcode": 2804003, "error_user_title": "Event Timestamp Too Old", '
            b'"error_user_msg": "The timestamp for this event is too far in the past.", "fbtrace_id": "A1b2"}}')
    assert facebook.interpret(400, body) == (
        "Invalid parameter (code 100, error_subcode 2804003) The timestamp for this event is too far in the past.")
    assert facebook.interpret(401, b'{"error": {"message": "Invalid OAuth access token.", "code": 190}}') == (
        "Invalid OAuth access token. (code 190)")
    assert facebook.interpret(502, b"Bad Gateway") == "Bad Gateway"
    assert facebook.interpret(400, b'{"events_received": 1}') is None
