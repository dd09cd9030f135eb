"""Helpers shared by the customer-success, chat and messaging destinations (Intercom, Twilio...).

Message templates (`{{properties.plan}}`), reserved traits read under both spellings, dates
given as ISO-8601 text or Unix seconds, and flat attribute maps for APIs that refuse nesting.
"""

from __future__ import annotations

import datetime
import re
from typing import Any, Mapping

from segue.destinations.common import dig, encode_json, obj, text, trait
from segue.errors import InvalidMessage

PLACEHOLDER = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
PHONE_SEPARATORS = re.compile(r"[\s().\-]")


def _show(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else encode_json(value).decode()


def render(template: str, values: Mapping) -> str:
    """`{{a.b}}` replaced by the value at that path (JSON for non-strings, "" when missing)."""
    return PLACEHOLDER.sub(lambda match: _show(dig(values, match.group(1))), template)


def unix_seconds(value: Any) -> int | None:
    """Unix seconds of a date given as ISO-8601 text or as a number of seconds, else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)).timestamp())


def is_scalar(value: Any) -> bool:
    """A string, number or boolean: what flat attribute maps accept."""
    return isinstance(value, (str, int, float, bool))


def scalars(mapping: Mapping, skip: tuple[str, ...] = ()) -> dict:
    """The entries whose value is a scalar, without the keys in `skip`."""
    return {key: value for key, value in mapping.items() if key not in skip and is_scalar(value)}


def user_traits(event: Mapping) -> dict:
    """identify/group traits over the user traits a client copied into `context.traits`."""
    own = obj(event, "traits") if event.get("type") == "identify" else {}
    return {**obj(event, "context.traits"), **own}


def full_name(traits: Mapping) -> str | None:
    """`name`, else first and last name joined, else None."""
    name = traits.get("name")
    if isinstance(name, str) and name:
        return name
    parts = [trait(traits, "firstName", "first_name"), trait(traits, "lastName", "last_name")]
    joined = " ".join(part for part in parts if isinstance(part, str) and part)
    return joined or None


def email_of(event: Mapping) -> str | None:
    """The user's email: traits, then context traits, then properties."""
    return text(user_traits(event), "email") or text(event, "properties.email")


def phone_of(event: Mapping) -> str | None:
    """The user's phone: traits, then context traits, then properties."""
    return text(user_traits(event), "phone") or text(event, "properties.phone")


def e164(phone: str) -> str:
    """The phone number without separators (`00` read as `+`); anything not then E.164 raises."""
    cleaned = PHONE_SEPARATORS.sub("", phone)
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    if not E164.fullmatch(cleaned):
        message = f"the phone number {phone!r} is not in E.164 form (+ and country code)"
        raise InvalidMessage(message, code="invalid_field")
    return cleaned
