"""Segment's message rules: which routes exist, which fields each method requires.

`validate` checks one message (already typed by its route or batch item) and raises
InvalidMessage with a stable code; it never raises anything else, whatever the input.
"""

from __future__ import annotations

from typing import Any

from segue.errors import InvalidMessage

METHODS = frozenset({"identify", "track", "page", "screen", "group", "alias"})
BATCH = "batch"

# Route name (long or analytics.js short form) -> message type, or "batch".
ROUTE_TYPES: dict[str, str] = {
    **{method: method for method in METHODS},
    **{method[0]: method for method in METHODS if method != "screen"},
    "s": "screen",
    "batch": BATCH,
    "import": BATCH,
    "b": BATCH,
}

MAX_MESSAGE_ID_LENGTH = 100
_OBJECT_FIELDS = ("properties", "traits", "context", "integrations")
_ID_TYPES = (str, int)


def validate(message: Any) -> None:
    """Raise InvalidMessage if `message` breaks a rule of its method (spec 1.4, 1.7).

    Runs once per ingested event, so it favours `type(x) is` checks and few calls.
    """
    if type(message) is not dict:
        raise InvalidMessage("each message must be a JSON object", code="invalid_message")
    method = message.get("type")
    rule = _METHOD_RULES.get(method) if type(method) is str else None
    if rule is None:
        raise InvalidMessage(f"type must be one of {sorted(METHODS)}", code="invalid_type")
    _validate_identity(message.get("userId"), message.get("anonymousId"))
    for field in _OBJECT_FIELDS:
        value = message.get(field)
        if value is not None and type(value) is not dict:
            raise InvalidMessage(f"{field} must be an object", code="invalid_field")
    message_id = message.get("messageId")
    if message_id is not None:
        _validate_message_id(message_id)
    rule(message)


def _validate_identity(user_id: Any, anonymous_id: Any) -> None:
    if type(user_id) is str and user_id:
        if anonymous_id is None or type(anonymous_id) is str:
            return  # the common case, decided without further calls
    if not (_present_id(user_id) or _present_id(anonymous_id)):
        raise InvalidMessage("userId or anonymousId is required", code="no_user_anon_id")
    for field, value in (("userId", user_id), ("anonymousId", anonymous_id)):
        if value is not None and not _is_id(value):
            raise InvalidMessage(f"{field} must be a string", code="invalid_field")


def _validate_message_id(message_id: Any) -> None:
    if type(message_id) is not str or not message_id:
        raise InvalidMessage("messageId must be a non-empty string", code="invalid_message_id")
    if len(message_id) >= MAX_MESSAGE_ID_LENGTH:
        raise InvalidMessage(
            f"messageId must be shorter than {MAX_MESSAGE_ID_LENGTH} characters", code="invalid_message_id"
        )


def _is_id(value: Any) -> bool:
    """Ids are strings; numbers are accepted (and stored as strings), booleans are not."""
    return isinstance(value, _ID_TYPES) and not isinstance(value, bool)


def _present_id(value: Any) -> bool:
    return _is_id(value) and value != ""


def _require_id(message: dict, field: str, code: str) -> None:
    if not _present_id(message.get(field)):
        raise InvalidMessage(f"{message['type']} requires {field}", code=code)


def _check_name(message: dict) -> None:
    name = message.get("name")
    if name is not None and not isinstance(name, str):
        raise InvalidMessage("name must be a string", code="invalid_field")


def _check_track(message: dict) -> None:
    event = message.get("event")
    if type(event) is not str or not event:
        raise InvalidMessage("track requires event (a non-empty string)", code="missing_event")


def _check_group(message: dict) -> None:
    _require_id(message, "groupId", "missing_group_id")


def _check_alias(message: dict) -> None:
    _require_id(message, "userId", "missing_user_id")
    _require_id(message, "previousId", "missing_previous_id")


_METHOD_RULES = {
    "identify": lambda message: None,
    "track": _check_track,
    "page": _check_name,
    "screen": _check_name,
    "group": _check_group,
    "alias": _check_alias,
}
