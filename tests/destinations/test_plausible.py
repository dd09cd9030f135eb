"""Plausible specifics: URLs, props limits, headers, unsupported calls, error bodies."""

from __future__ import annotations

import orjson
import pytest

from segue.destinations import plausible
from segue.destinations.settings import validate_settings
from segue.errors import InvalidMessage
from tests.destinations.events import maximal, minimal

SETTINGS = validate_settings(plausible.Settings, {"domain": "example.com"})


def sent(event):
    (request,) = plausible.translate(event, SETTINGS)
    return request.headers, orjson.loads(request.body)


def test_url_is_built_from_the_path_when_there_is_no_url():
    _, body = sent({**minimal("page"), "properties": {"path": "/pricing"}})
    assert body["url"] == "https://example.com/pricing"


def test_a_track_without_any_page_gets_an_app_url():
    _, body = sent(minimal("track"))
    assert body["url"] == "app://localhost/"


def test_headers_carry_the_visitors_user_agent_and_ip():
    headers, _ = sent(maximal("track"))
    assert headers["User-Agent"].startswith("Mozilla/5.0 (iPhone") and headers["X-Forwarded-For"] == "203.0.113.7"


def test_props_keep_30_scalars_with_values_cut_to_2000_chars():
    properties = {f"p{i}": "v" * 3000 for i in range(40)}
    kept = plausible.props(properties)
    assert len(kept) == 30 and all(len(value) == 2000 for value in kept.values())


def test_event_names_are_cut_to_120_chars():
    _, body = sent({**minimal("track"), "event": "e" * 200})
    assert body["name"] == "e" * 120


@pytest.mark.parametrize("event", [{**minimal("track"), "event": ""}, minimal("identify", known=True),
                                   minimal("group"), minimal("alias")])
def test_untranslatable_events_raise_invalid_message(event):
    with pytest.raises(InvalidMessage):
        plausible.translate(event, SETTINGS)


def test_interpret_reads_plausible_errors():
    assert plausible.interpret(400, b'{"errors": {"url": ["is required"]}}') == "url: is required"
    assert plausible.interpret(400, b'{"error": "Invalid domain"}') == "Invalid domain"
    assert plausible.interpret(400, b"{}") is None
    assert plausible.interpret(502, b"<html>Bad Gateway</html>") is None
