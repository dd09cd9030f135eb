"""Discord specifics: templates, content limits, no pings, the secret webhook URL, errors."""

from __future__ import annotations

import orjson
import pytest

from segue.destinations import discord
from segue.destinations.settings import InvalidSettings, secret_names, validate_settings
from tests.destinations.events import minimal

HOOK = "https://discord.com/api/webhooks/1/abc"
SETTINGS = validate_settings(
    discord.Settings, {"webhookUrl": HOOK, "eventTemplates": {"Order Completed": "{{properties.note}}"}}
)


def _track(note: object) -> dict:
    return {**minimal("track"), "properties": {"note": note}}


def test_content_is_cut_to_2000_characters_and_empty_content_is_not_sent():
    (request,) = discord.track(_track("x" * 2500), SETTINGS)
    assert len(orjson.loads(request.body)["content"]) == discord.MAX_CONTENT
    assert discord.track(_track(" "), SETTINGS) == []


def test_events_without_template_send_nothing():
    assert discord.track({**minimal("track"), "event": "Other"}, SETTINGS) == []


def test_mentions_never_ping():
    (request,) = discord.track(_track("@everyone <@123>"), SETTINGS)
    assert orjson.loads(request.body)["allowed_mentions"] == {"parse": []}


def test_identify_needs_every_whitelisted_trait():
    settings = validate_settings(discord.Settings, {"webhookUrl": HOOK, "whitelistedTraits": ["email", "plan"]})
    event = {**minimal("identify", known=True), "traits": {"email": "a@example.com"}}
    assert discord.identify(event, settings) == []
    event["traits"]["plan"] = "pro"
    assert len(discord.identify(event, settings)) == 1


def test_webhook_url_is_a_secret_and_must_be_http():
    assert secret_names(discord.Settings) == frozenset({"webhookUrl"})
    with pytest.raises(InvalidSettings):
        validate_settings(discord.Settings, {"webhookUrl": "discord.com/api/webhooks/1/abc"})


def test_interpret_reads_discord_errors():
    assert discord.interpret(400, b'{"message": "Cannot send an empty message", "code": 50006}') == (
        "Cannot send an empty message (code 50006)")
    body = b'{"message": "You are being rate limited.", "retry_after": 0.64, "global": false}'
    assert discord.interpret(429, body) == "You are being rate limited.; retry after 0.64 s"
    assert discord.interpret(404, b"404: Not Found") == "404: Not Found"
