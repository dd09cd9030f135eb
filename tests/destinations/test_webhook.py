"""Webhook specifics: the signature, header and URL rules, batches, error bodies."""

from __future__ import annotations

import hashlib
import hmac

import orjson
import pytest

from segue.destinations import webhook
from segue.destinations.settings import InvalidSettings, validate_settings
from tests.destinations.events import maximal, minimal

SECRET = "whsec-0123456789"


def settings(**values):
    return validate_settings(webhook.Settings, {"url": "https://hooks.example.com/in", **values})


def test_signature_is_hmac_sha1_of_the_exact_body():
    (request,) = webhook.send(maximal("track"), settings(sharedSecret=SECRET))
    expected = hmac.new(SECRET.encode(), request.body, hashlib.sha1).hexdigest()
    assert request.headers["X-Signature"] == expected
    assert orjson.loads(request.body) == maximal("track")


def test_batch_signature_covers_the_array():
    events = [minimal("track"), maximal("identify")]
    (request,) = webhook.send_batch(events, settings(sharedSecret=SECRET))
    assert orjson.loads(request.body) == events
    assert request.headers["X-Signature"] == hmac.new(SECRET.encode(), request.body, hashlib.sha1).hexdigest()


def test_no_secret_no_signature_and_custom_headers():
    (request,) = webhook.send(minimal("page"), settings(method="PATCH", headers={"Authorization": "Bearer t"}))
    assert request.method == "PATCH" and "X-Signature" not in request.headers
    assert request.headers == {"Content-Type": "application/json", "Authorization": "Bearer t"}


@pytest.mark.parametrize("values", [
    {"url": "ftp://example.com/in"}, {"url": "/relative"}, {"url": "https://"}, {"method": "DELETE"},
    {"headers": {"X-Evil": "a\r\nInjected: 1"}}, {"headers": {" ": "v"}},
])
def test_invalid_settings_are_refused(values):
    with pytest.raises(InvalidSettings):
        settings(**values)


def test_url_is_kept_byte_for_byte():
    url = "https://hooks.example.com:8443/in/?a=1&b=%20"
    assert webhook.send(minimal("track"), settings(url=url))[0].url == url


def test_interpret_reads_the_partner_contract_message():
    assert webhook.interpret(400, b'{"message": "unknown type"}') == "unknown type"
    assert webhook.interpret(500, b"  upstream timeout \n") == "upstream timeout"
    assert webhook.interpret(500, b"") is None
