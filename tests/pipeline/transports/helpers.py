"""Destination settings and events shared by the transport tests."""

from __future__ import annotations

from segue.destinations.registry import load_catalog
from segue.destinations.settings import validate_settings
from tests.destinations.events import maximal, minimal

EVENTS = [maximal("track"), maximal("identify"), minimal("page"), maximal("group")]


def translate(slug: str, settings: dict, events: list[dict] = EVENTS) -> list:
    """The requests the destination makes for `events`, in order."""
    destination = load_catalog().get(slug)
    validated = validate_settings(destination.settings, settings)
    return [request for event in events for request in destination.translations[event["type"]](event, validated)]


def with_ids(events: list[dict], prefix: str) -> list[dict]:
    """Copies with fresh messageIds, so a test's messages are its own (JetStream dedups on them)."""
    return [{**event, "messageId": f"{prefix}-{number}"} for number, event in enumerate(events)]
