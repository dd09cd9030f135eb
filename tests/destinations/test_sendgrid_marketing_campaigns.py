"""SendGrid Marketing Campaigns specifics: contacts, custom fields, batch limits, error bodies."""

from __future__ import annotations

import orjson

from segue.destinations import sendgrid_marketing_campaigns as sendgrid
from segue.destinations.settings import validate_settings
from tests.destinations.events import maximal, minimal

SETTINGS = validate_settings(sendgrid.Settings, {"apiKey": "SG.key", "customFields": {"plan": "e1_T"}})


def contacts(requests):
    return [orjson.loads(request.body)["contacts"] for request in requests]


def test_only_identify_is_supported():
    assert sendgrid.DESTINATION.methods == ("identify",)


def test_identify_without_email_sends_nothing():
    assert sendgrid.identify(minimal("identify", known=True), SETTINGS) == []


def test_only_configured_custom_fields_are_sent():
    (request,) = sendgrid.identify(maximal("identify"), SETTINGS)
    (sent,) = contacts([request])[0]
    assert sent["custom_fields"] == {"e1_T": "pro"} and "logins" not in str(sent)


def test_batch_splits_at_30000_contacts():
    events = [{"type": "identify", "traits": {"email": f"p{i}@example.com"}} for i in range(30_001)]
    assert [len(group) for group in contacts(sendgrid.batch(events, SETTINGS))] == [30_000, 1]


def test_batch_splits_at_6_megabytes():
    big = "x" * 100_000
    events = [{"type": "identify", "traits": {"email": f"p{i}@example.com", "firstName": big}} for i in range(70)]
    requests = sendgrid.batch(events, SETTINGS)
    assert len(requests) == 2 and all(len(request.body) <= sendgrid.MAX_BYTES for request in requests)


def test_interpret_reads_field_errors():
    body = b'{"errors": [{"field": "contacts[0].email", "message": "invalid email"}, {"message": "bad list"}]}'
    assert sendgrid.interpret(400, body) == "contacts[0].email: invalid email; bad list"
    assert sendgrid.interpret(500, b"oops") is None
