"""mask_exchange: secrets and credentials never reach a sample."""

from __future__ import annotations

import json

from segue.destinations.common import basic_auth
from segue.pipeline.delivery import mask_exchange, redactor

SECRET = "sk_live_9f8e7d6c"
ODD_SECRET = 'pa ss/w"rd'


def exchange() -> dict:
    return {
        "request": {
            "method": "POST",
            "url": f"https://api.example.com/track?api_key={SECRET}&token=pa%20ss%2Fw%22rd",
            "headers": {"Authorization": basic_auth(SECRET), "X-Api-Key": SECRET, "Content-Type": "application/json"},
            "body": json.dumps({"api_key": SECRET, "password": ODD_SECRET, "event": "Signed Up"}),
        },
        "response": {"status": 401, "headers": {"www-authenticate": "Bearer realm=x"}, "body": f"bad key {SECRET}"},
        "error": None,
        "durationMs": 12.5,
    }


def flat(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def test_every_secret_is_masked_in_url_headers_and_bodies():
    masked = mask_exchange(exchange(), [SECRET, ODD_SECRET])
    assert SECRET not in flat(masked)
    assert "pa%20ss" not in masked["request"]["url"]
    assert "w\\\"rd" not in masked["request"]["body"]
    assert masked["request"]["url"] == "https://api.example.com/track?api_key=••••&token=••••"
    assert masked["request"]["headers"]["X-Api-Key"] == "••••"
    assert json.loads(masked["request"]["body"]) == {"api_key": "••••", "password": "••••", "event": "Signed Up"}
    assert masked["response"]["body"] == "bad key ••••"


def test_authorization_headers_are_masked_whatever_the_scheme():
    headers = {"Authorization": "Basic dXNlcjpwYXNz", "authorization": "Token abc", "Proxy-Authorization": "xyz"}
    masked = mask_exchange({"request": {"headers": headers}}, [])
    assert masked["request"]["headers"] == {"Authorization": "Basic ••••", "authorization": "Token ••••", "Proxy-Authorization": "••••"}


def test_credentials_in_text_and_url_passwords_are_masked():
    redact = redactor([])
    assert redact("sent Bearer eyJhbGciOi.J9x-y_z with it") == "sent Bearer •••• with it"
    assert redact("https://user:hunter2@db.example.com/x") == "https://user:••••@db.example.com/x"


def test_a_longer_secret_is_masked_whole_even_when_a_shorter_one_is_inside_it():
    assert redactor(["abc", "xxabcxx"])("key xxabcxx and abc") == "key •••• and ••••"


def test_other_values_are_kept_and_the_input_is_not_changed():
    original = exchange()
    masked = mask_exchange(original, [SECRET, ""])
    assert original == exchange()
    assert masked["request"]["headers"]["Content-Type"] == "application/json"
    assert masked["response"]["status"] == 401 and masked["durationMs"] == 12.5 and masked["error"] is None
