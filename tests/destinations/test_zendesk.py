"""Zendesk specifics: user matching, profile identifiers, the several error body shapes."""

from __future__ import annotations

import orjson
import pytest

from segue.destinations import zendesk
from segue.destinations.settings import InvalidSettings, validate_settings
from segue.errors import InvalidMessage
from tests.destinations.events import minimal

SETTINGS = validate_settings(zendesk.Settings, {"subdomain": "acme", "email": "a@acme.example", "apiToken": "t"})


def test_subdomain_must_be_a_bare_subdomain():
    with pytest.raises(InvalidSettings):
        validate_settings(zendesk.Settings, {"subdomain": "acme.zendesk.com/x", "email": "a", "apiToken": "t"})


def test_anonymous_users_without_email_send_nothing():
    assert zendesk.identify(minimal("identify"), SETTINGS) == []
    assert zendesk.track(minimal("track"), SETTINGS) == []


def test_identify_name_falls_back_to_email_then_user_id():
    (request,) = zendesk.identify(minimal("identify", known=True), SETTINGS)
    assert orjson.loads(request.body)["user"] == {"name": "user-1234", "external_id": "user-1234"}


def test_group_without_known_user_only_upserts_the_organization():
    (request,) = zendesk.group(minimal("group"), SETTINGS)
    assert orjson.loads(request.body) == {"organization": {"external_id": "grp-42", "name": "grp-42"}}
    with pytest.raises(InvalidMessage):
        zendesk.group({**minimal("group"), "groupId": None}, SETTINGS)


def test_identifiers_are_the_standard_ones():
    event = {**minimal("track", known=True), "context": {"traits": {"email": "e@x.io", "phone": "+331"}}}
    assert [item["type"] for item in zendesk.identifiers(event)] == ["external_id", "email", "phone_number"]


def test_interpret_reads_every_documented_error_shape():
    invalid = {"error": "RecordInvalid", "description": "Record validation errors",
               "details": {"email": [{"description": "Email is invalid", "error": "InvalidFormat"}]}}
    assert zendesk.interpret(422, orjson.dumps(invalid)) == (
        "RecordInvalid; Record validation errors; email: Email is invalid")
    assert zendesk.interpret(404, b'{"error": {"title": "No help desk", "message": "There is none"}}') == (
        "No help desk - There is none")
    assert zendesk.interpret(400, b'{"errors": [{"code": "BadRequest", "title": "Invalid profile"}]}') == (
        "BadRequest - Invalid profile")
    assert zendesk.interpret(401, b"Couldn't authenticate you") == "Couldn't authenticate you"
