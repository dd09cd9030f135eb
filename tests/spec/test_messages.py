"""Validation rules per method (spec 1.4, 1.7, vector 8)."""

import pytest

from segue.errors import InvalidMessage
from segue.spec.messages import ROUTE_TYPES, validate


def msg(**fields):
    return {"type": "track", "userId": "u1", "event": "Signed Up", **fields}


@pytest.mark.parametrize(
    "message, code",
    [
        ({"type": "track", "userId": "u1"}, "missing_event"),
        (msg(event=""), "missing_event"),
        (msg(event=5), "missing_event"),
        ({"type": "track", "event": "x"}, "no_user_anon_id"),
        (msg(userId="", anonymousId=None), "no_user_anon_id"),
        (msg(userId=True), "no_user_anon_id"),
        (msg(anonymousId=["a"]), "invalid_field"),
        ({"type": "group", "userId": "u1"}, "missing_group_id"),
        ({"type": "alias", "anonymousId": "a", "previousId": "p"}, "missing_user_id"),
        ({"type": "alias", "userId": "u"}, "missing_previous_id"),
        ({"type": "bogus", "userId": "u"}, "invalid_type"),
        ({"userId": "u"}, "invalid_type"),
        (msg(properties=[1, 2]), "invalid_field"),
        (msg(context="ctx"), "invalid_field"),
        (msg(messageId="x" * 100), "invalid_message_id"),
        (msg(messageId=12), "invalid_message_id"),
        ({"type": "page", "userId": "u", "name": 3}, "invalid_field"),
        ("not an object", "invalid_message"),
    ],
)
def test_invalid_messages_are_rejected_with_their_code(message, code):
    with pytest.raises(InvalidMessage) as raised:
        validate(message)
    assert raised.value.code == code


@pytest.mark.parametrize(
    "message",
    [
        msg(),
        msg(userId=None, anonymousId="anon"),
        msg(userId=42),
        msg(messageId="x" * 99),
        {"type": "identify", "anonymousId": "a", "traits": {"email": "a@b.c"}},
        {"type": "page", "userId": "u"},
        {"type": "screen", "userId": "u", "name": "Home"},
        {"type": "group", "userId": "u", "groupId": 7},
        {"type": "alias", "userId": "u", "previousId": "p"},
    ],
)
def test_valid_messages_pass(message):
    validate(message)


def test_every_short_route_maps_to_its_method():
    assert {k: ROUTE_TYPES[k] for k in "tipsgab"} == {
        "t": "track", "i": "identify", "p": "page", "s": "screen", "g": "group", "a": "alias", "b": "batch",
    }
    assert ROUTE_TYPES["import"] == ROUTE_TYPES["batch"] == "batch"
