"""PostHog specifics: uuids, hosts, identify merging, events that send nothing, error bodies."""

from __future__ import annotations

import uuid

import orjson
import pytest

from segue.destinations import posthog
from segue.destinations.settings import InvalidSettings, validate_settings
from segue.errors import InvalidMessage
from tests.destinations.events import minimal

SETTINGS = validate_settings(posthog.Settings, {"apiKey": "phc_test"})


def body(requests):
    (request,) = requests
    return orjson.loads(request.body)


def test_uuid_message_ids_are_kept_and_others_derived_stably():
    kept = "5F0ADEFF-6668-4427-8D02-57D803A2B841"
    assert posthog.event_uuid(kept) == kept.lower()
    derived = posthog.event_uuid("msg-1")
    assert derived == posthog.event_uuid("msg-1") != posthog.event_uuid("msg-2")
    assert uuid.UUID(derived).version == 5


def test_self_hosted_host_wins_over_region():
    settings = validate_settings(posthog.Settings, {"apiKey": "k", "region": "EU", "host": "https://ph.example.com"})
    (request,) = posthog.translate(minimal("track"), settings)
    assert request.url == "https://ph.example.com/i/v0/e/"


def test_host_must_be_a_url():
    with pytest.raises(InvalidSettings):
        validate_settings(posthog.Settings, {"apiKey": "k", "host": "not a url"})


def test_identify_without_traits_or_anonymous_id_sends_nothing():
    assert posthog.translate(minimal("identify", known=True), SETTINGS) == []


def test_identify_of_an_anonymous_user_sets_properties_without_merging():
    sent = body(posthog.translate({**minimal("identify"), "traits": {"plan": "pro"}}, SETTINGS))
    assert sent["distinct_id"] == "anon-5678" and "$anon_distinct_id" not in sent["properties"]


@pytest.mark.parametrize("event", [{**minimal("track"), "event": ""}, {**minimal("group"), "groupId": None},
                                   {**minimal("alias"), "userId": None}, {**minimal("page"), "anonymousId": None}])
def test_untranslatable_events_raise_invalid_message(event):
    with pytest.raises(InvalidMessage):
        posthog.translate(event, SETTINGS)


def test_batch_skips_events_with_nothing_to_send():
    events = [minimal("identify", known=True), minimal("track")]
    assert len(orjson.loads(posthog.translate_batch(events, SETTINGS)[0].body)["batch"]) == 1
    assert posthog.translate_batch([minimal("identify", known=True)], SETTINGS) == []


def test_interpret_reads_posthog_errors():
    invalid_key = (b'{"type": "authentication_error", "code": "invalid_api_key", "detail": "Project API key invalid. '
                   b'You can find your project API key in PostHog project settings.", "attr": null}')
    assert posthog.interpret(401, invalid_key).startswith("invalid_api_key: Project API key invalid.")
    assert posthog.interpret(400, b'{"error": "bad batch"}') == "bad batch"
    assert posthog.interpret(502, b"Bad Gateway") is None
