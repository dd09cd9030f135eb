"""Pipedrive specifics: auth choice, names, error bodies."""

from __future__ import annotations

import pytest

from segue.destinations.pipedrive import Settings, identify, interpret, track
from segue.errors import InvalidMessage


def test_oauth_token_wins_over_the_api_token():
    settings = Settings(access_token="oauth", api_token="api", api_domain="https://acme.pipedrive.com")
    (request,) = identify({"type": "identify", "traits": {"email": "a@b.c"}}, settings)
    assert request.headers["Authorization"] == "Bearer oauth" and "x-api-token" not in request.headers
    assert request.url == "https://acme.pipedrive.com/api/v2/persons"


def test_identify_without_name_or_email_sends_nothing():
    assert identify({"type": "identify", "userId": "u", "traits": {"plan": "pro"}}, Settings(api_token="t")) == []


def test_not_connected():
    with pytest.raises(InvalidMessage, match="log in to Pipedrive") as raised:
        track({"type": "track", "event": "X"}, Settings())
    assert raised.value.code == "not_connected"


def test_interpret_reads_pipedrive_errors():
    assert interpret(400, b'{"success":false,"error":"Name must be given.","error_info":"Please check the docs"}') == (
        "Name must be given. (Please check the docs)"
    )
    assert interpret(401, b'{"success":false,"error":"unauthorized access"}') == "unauthorized access"
