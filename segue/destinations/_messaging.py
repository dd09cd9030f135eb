"""Helpers shared by the customer-success, chat and messaging destinations (Intercom, Twilio...).

Message templates (`{{properties.plan}}`), the user's traits, email and phone, who did it (for
chat messages), and flat attribute maps for APIs that refuse nesting.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping, Sequence

from segue.destinations.common import dig, encode_json, obj, text, trait
from segue.errors import InvalidMessage

PLACEHOLDER = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
DEFAULT_IDENTIFY_TEMPLATE = "Identified user {{name}}. {{traits}}"
PHONE_SEPARATORS = re.compile(r"[\s().\-]")


def _show(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else encode_json(value).decode()


def render(template: str, values: Mapping, escape: Callable[[str], str] = str) -> str:
    """`{{a.b}}` replaced by the value at that path (JSON for non-strings, "" when missing).

    `escape` applies the chat's formatting rules to each value (Slack escapes `&`, `<`, `>`).
    """
    return PLACEHOLDER.sub(lambda match: escape(_show(dig(values, match.group(1)))), template)


def display_name(event: Mapping) -> str:
    """Who did it, in the order Segment's Slack destination documents."""
    traits = {**obj(event, "context.traits"), **obj(event, "traits")}
    first, last = trait(traits, "firstName", "first_name"), trait(traits, "lastName", "last_name")
    for candidate in (traits.get("name"), " ".join(str(p) for p in (first, last) if p), traits.get("username"),
                      text(event, "properties.email"), traits.get("email")):
        if isinstance(candidate, str) and candidate:
            return candidate
    if text(event, "userId"):
        return f"User {text(event, 'userId')}"
    return f"Anonymous user {text(event, 'anonymousId') or ''}".strip()


def identify_values(event: Mapping, wanted: Sequence[str]) -> dict | None:
    """What an identify message template sees, when the call carries every `wanted` trait (else None).

    The event and its traits, `traits` (only the wanted ones) and `name` (see `display_name`).
    """
    traits = obj(event, "traits")
    if not wanted or any(traits.get(key) is None for key in wanted):
        return None
    shown = {key: traits[key] for key in wanted}
    return {**event, **traits, "traits": shown, "name": display_name(event)}


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
