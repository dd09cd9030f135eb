"""NATS specifics: subject templates (shared by the broker destinations), JetStream dedup header."""

from __future__ import annotations

import pytest

from segue.destinations import nats
from segue.destinations.settings import InvalidSettings, validate_settings
from tests.destinations.events import maximal, minimal


def test_template_values_cannot_add_tokens_or_wildcards():
    event = {**minimal("track"), "event": "Order.Completed > *#+/ été"}
    assert nats.fill_template("segue.{type}.{event}", event) == "segue.track.Order_Completed_________t_"
    assert nats.fill_template("a.{missing}.{context.library.name}", maximal("track")) == "a._.analytics-ios"


@pytest.mark.parametrize("template", ["segue.*", "segue.>", "segue..x", ".segue", "seg ue", ""])
def test_subject_templates_must_be_valid_subjects(template):
    with pytest.raises(InvalidSettings):
        validate_settings(nats.Settings, {"subjectTemplate": template})


def test_nats_jetstream_sets_the_dedup_header_and_core_does_not():
    core = validate_settings(nats.Settings, {})
    jetstream = validate_settings(nats.Settings, {"jetstream": True, "username": "u", "password": "p w"})
    assert "Nats-Msg-Id" not in nats.publish(minimal("track"), core)[0].headers
    (request,) = nats.publish(minimal("track"), jetstream)
    assert request.headers["Nats-Msg-Id"] == minimal("track")["messageId"]
    assert request.url == "nats://u:p%20w@127.0.0.1:4222/segue.track?jetstream=1"
