"""Help Scout specifics: field limits, addresses, what is not sent, vnd.error bodies."""

from __future__ import annotations

import orjson

from segue.destinations import help_scout
from segue.destinations.settings import validate_settings
from tests.destinations.events import minimal

SETTINGS = validate_settings(help_scout.Settings, {"accessToken": "t"})


def test_nothing_to_recognise_sends_nothing():
    assert help_scout.identify(minimal("identify", known=True), SETTINGS) == []


def test_fields_are_clipped_to_documented_lengths():
    event = {**minimal("identify"), "traits": {"firstName": "A" * 50, "title": "T" * 70, "avatar": "u" * 250}}
    body = help_scout.customer(event)
    assert len(body["firstName"]) == 40 and len(body["jobTitle"]) == 60 and len(body["photoUrl"]) == 200


def test_only_known_genders_are_sent():
    assert "gender" not in help_scout.customer({"type": "identify", "traits": {"gender": "other"}})
    assert help_scout.customer({"type": "identify", "traits": {"gender": "FEMALE"}})["gender"] == "Female"


def test_email_from_context_traits_on_identify():
    event = {**minimal("identify"), "context": {"traits": {"email": "c@x.io"}}}
    (request,) = help_scout.identify(event, SETTINGS)
    assert orjson.loads(request.body)["emails"] == [{"type": "work", "value": "c@x.io"}]


def test_interpret_reads_vnd_error():
    body = (b'{"logRef": "x", "message": "Bad request", "_embedded": {"errors": '
            b'[{"path": "emails[0].value", "message": "must be a well-formed email address", "source": "JSON"}]}}')
    assert help_scout.interpret(400, body) == "Bad request; emails[0].value: must be a well-formed email address"
    assert help_scout.interpret(401, b"Unauthorized") == "Unauthorized"
