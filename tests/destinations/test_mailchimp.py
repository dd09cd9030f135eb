"""Mailchimp specifics: subscriber hash, data center, merge fields, event names, error bodies."""

from __future__ import annotations

import orjson
import pytest
from pydantic import ValidationError

from segue.destinations import mailchimp
from segue.destinations.settings import validate_settings
from segue.errors import ConfigError, InvalidMessage
from tests.destinations.events import minimal

SETTINGS = validate_settings(mailchimp.Settings, {"apiKey": "abc-us21", "listId": "list1"})


def test_the_subscriber_hash_is_the_md5_of_the_lowercased_email():
    assert mailchimp.subscriber_hash(" Urist.McVankab@FreddiesJokes.com ") == "62eeb292278cc15f5817cb78f7790b08"


def test_the_data_center_comes_from_the_key_suffix():
    event = {**minimal("identify"), "traits": {"email": "a@example.com"}}
    assert mailchimp.identify(event, SETTINGS)[0].url.startswith("https://us21.api.mailchimp.com/3.0/lists/list1/")


def test_a_key_without_data_center_is_refused():
    with pytest.raises((ValidationError, ConfigError)):
        validate_settings(mailchimp.Settings, {"apiKey": "abc", "listId": "list1"})


def test_events_without_an_email_send_nothing():
    assert mailchimp.track(minimal("track", known=True), SETTINGS) == []
    assert mailchimp.identify(minimal("identify", known=True), SETTINGS) == []


def test_event_names_follow_mailchimp_rules():
    assert mailchimp.event_name("Order Completed (v2) & more, much more text") == "Order_Completed_v2_more_much_m"
    with pytest.raises(InvalidMessage):
        mailchimp.event_name("!")


def test_merge_fields_keep_valid_tags_and_complete_addresses_only():
    fields = mailchimp.merge_fields({"firstName": "A", "plan": "pro", "much_too_long": 1, "address": {"city": "Lyon"}})
    assert fields == {"FNAME": "A", "PLAN": "pro"}


def test_track_sends_properties_as_strings():
    event = {**minimal("track", known=True), "context": {"traits": {"email": "a@example.com"}}, "properties": {"n": 1, "o": {"a": 1}}}
    (request,) = mailchimp.track(event, SETTINGS)
    assert orjson.loads(request.body)["properties"] == {"n": "1", "o": '{"a": 1}'}


def test_interpret_reads_problem_details():
    body = b'{"type": "https://mailchimp.com/developer/marketing/docs/errors/", "title": "Invalid Resource", "status": 400, "detail": "The resource submitted could not be validated.", "errors": [{"field": "email_address", "message": "This value should be a valid email."}]}'
    assert mailchimp.interpret(400, body) == (
        "Invalid Resource: The resource submitted could not be validated.; email_address: This value should be a valid email."
    )
    assert mailchimp.interpret(404, b'{"title": "Resource Not Found"}') == "Resource Not Found"
    assert mailchimp.interpret(500, b"") is None
