"""classify: Segment's retry classes for every kind of status; Retry-After in both forms."""

from __future__ import annotations

import email.utils
import json
import time

import pytest

from segue.destinations.webhook import interpret as webhook_interpret
from segue.pipeline.delivery import Outcome, classify, parse_retry_after

DELIVERED = [200, 201, 202, 204, 299]
RETRIED = [408, 423, 429, 500, *range(502, 512), 598, 599]
FAILED = [100, 101, 300, 301, 302, 304, 400, 401, 403, 404, 405, 409, 410, 413, 422, 451, 499, 501, 512, 597, 600]


@pytest.mark.parametrize("status", DELIVERED)
def test_2xx_is_delivered(status):
    outcome = classify(status, {}, b"ok")
    assert (outcome.kind, outcome.status, outcome.message, outcome.response_body) == ("delivered", status, f"HTTP {status}", "ok")


@pytest.mark.parametrize("status", RETRIED)
def test_retryable_statuses_are_retried(status):
    assert classify(status, {}, b"").kind == "retry"


@pytest.mark.parametrize("status", FAILED)
def test_other_statuses_are_final(status):
    outcome = classify(status, {}, b"")
    assert (outcome.kind, outcome.message, outcome.retry_after) == ("failed", f"HTTP {status}", None)


def test_the_vendors_message_replaces_the_status_line():
    body = json.dumps({"message": "userId is required"}).encode()
    assert classify(400, {}, body, webhook_interpret).message == "userId is required"
    assert classify(503, {}, body, webhook_interpret).message == "userId is required"


def test_an_interpret_function_that_says_nothing_or_raises_falls_back_to_the_status():
    def broken(status, body):
        raise ValueError("bad body")

    assert classify(500, {}, b"x", lambda status, body: None).message == "HTTP 500"
    assert classify(500, {}, b"x", broken).message == "HTTP 500"


def test_interpret_is_not_asked_about_a_success():
    assert classify(200, {}, b'{"message": "fine"}', webhook_interpret).message == "HTTP 200"


def test_response_body_is_cut_at_2000_characters():
    assert classify(500, {}, "é".encode() * 5000).response_body == "é" * 2000


def test_retry_after_is_read_case_insensitively_and_only_for_retries():
    assert classify(429, {"retry-after": "12"}, b"").retry_after == 12.0
    assert classify(503, {"Retry-After": "3"}, b"").retry_after == 3.0
    assert classify(400, {"Retry-After": "3"}, b"").retry_after is None


def test_retry_after_in_seconds():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after("1.5") == 1.5


def test_retry_after_as_an_http_date():
    now = time.time()
    assert parse_retry_after(email.utils.formatdate(now + 90, usegmt=True), now) == pytest.approx(90, abs=1)
    assert parse_retry_after(email.utils.formatdate(now - 90, usegmt=True), now) == 0.0  # already past
    assert parse_retry_after(email.utils.formatdate(now + 30), now) == pytest.approx(30, abs=1)  # "-0000" zone


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "Mon, 99 Foo 2024 00:00:00 GMT"])
def test_unreadable_retry_after_is_ignored(value):
    assert parse_retry_after(value) is None


def test_outcome_json_is_camel_case():
    outcome = Outcome("retry", 429, "HTTP 429", 5.0, "slow down", 12.345)
    assert outcome.to_json() == {
        "kind": "retry", "status": 429, "message": "HTTP 429", "retryAfter": 5.0,
        "responseBody": "slow down", "durationMs": 12.3,
    }
