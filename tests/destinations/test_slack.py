"""Slack specifics: templates, display names, escaping, the secret webhook URL."""

from __future__ import annotations

import pytest

from segue.destinations import slack
from segue.destinations.settings import InvalidSettings, secret_names, validate_settings
from tests.destinations.events import minimal

HOOK = "https://hooks.slack.com/services/T0/B0/X"


def test_render_paths_missing_values_and_non_strings():
    values = {"properties": {"plan": "pro", "seats": 3, "ok": True, "tags": ["a", "b"]}}
    template = "{{ properties.plan }}/{{properties.seats}}/{{properties.ok}}/{{properties.tags}}/{{properties.nope}}."
    assert slack.render(template, values) == 'pro/3/true/["a","b"]/.'


@pytest.mark.parametrize("fields, name", [
    ({"context": {"traits": {"name": "Ada"}}}, "Ada"),
    ({"context": {"traits": {"firstName": "Ada", "lastName": "King"}}}, "Ada King"),
    ({"context": {"traits": {"username": "ada"}}}, "ada"),
    ({"properties": {"email": "p@example.com"}, "context": {"traits": {"email": "t@example.com"}}}, "p@example.com"),
    ({"context": {"traits": {"email": "t@example.com"}}}, "t@example.com"),
    ({"userId": "u-1"}, "User u-1"),
    ({}, "Anonymous user anon-5678"),
])
def test_display_name_order(fields, name):
    assert slack.display_name({**minimal("track"), **fields}) == name


def test_identify_needs_every_whitelisted_trait():
    settings = validate_settings(slack.Settings, {"webhookUrl": HOOK, "whitelistedTraits": ["email", "plan"]})
    event = {**minimal("identify", known=True), "traits": {"email": "a@example.com"}}
    assert slack.identify(event, settings) == []
    event["traits"]["plan"] = "pro"
    assert len(slack.identify(event, settings)) == 1


def test_webhook_url_is_a_secret_and_must_be_http():
    assert secret_names(slack.Settings) == frozenset({"webhookUrl"})
    with pytest.raises(InvalidSettings):
        validate_settings(slack.Settings, {"webhookUrl": "hooks.slack.com/services/x"})


def test_interpret_returns_slack_plain_text_errors():
    assert slack.interpret(404, b"channel_not_found") == "channel_not_found"
