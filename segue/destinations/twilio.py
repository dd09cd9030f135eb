"""Twilio: one SMS per chosen track event through the Programmable Messaging API.

POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded `To`, `From` (or
`MessagingServiceSid` when the sender is a Messaging Service) and `Body`, with HTTP Basic auth
(Account SID and Auth Token). Only the events named in `eventTemplates` are sent; the message
is the event's template rendered with the event (`{{properties.order_id}}`). The recipient is
the user's phone trait (traits, then context traits, then properties), cleaned to E.164.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from pydantic import Field, SecretStr

from segue.destinations._messaging import e164, phone_of, render
from segue.destinations.common import basic_auth, error_text, form_request, json_or_none, method_presets, text
from segue.destinations.contract import Destination, DestinationSettings, Request

API = "https://api.twilio.com/2010-04-01/Accounts"
MAX_BODY = 1600  # characters Twilio accepts in a message body
MESSAGING_SERVICE = re.compile(r"MG[0-9a-fA-F]{32}")


class Settings(DestinationSettings):
    account_sid: str = Field(title="Account SID", description="The account's SID (AC...).")
    auth_token: SecretStr = Field(description="The account's Auth Token.")
    sender: str = Field(
        description="Who sends: a Twilio number (E.164), an alphanumeric sender ID, or a Messaging Service SID (MG...)."
    )
    event_templates: dict[str, str] = Field(
        default_factory=dict, description="Event name -> message template; only these events are sent."
    )


def _sender(settings: Settings) -> dict[str, str]:
    """`MessagingServiceSid` for a Messaging Service SID, `From` for anything else."""
    service = MESSAGING_SERVICE.fullmatch(settings.sender)
    return {"MessagingServiceSid": settings.sender} if service else {"From": settings.sender}


def track(event: dict, settings: Settings) -> list[Request]:
    """track: an SMS to the user when the event has a template (and the user a phone)."""
    name = text(event, "event")
    template = settings.event_templates.get(name) if name else None
    phone = phone_of(event)
    if template is None or phone is None:
        return []
    message = render(template, {**event, "event": name})[:MAX_BODY]
    if not message.strip():
        return []  # Twilio refuses an empty body
    form = {"To": e164(phone), **_sender(settings), "Body": message}
    url = f"{API}/{quote(settings.account_sid)}/Messages.json"
    headers = {"Authorization": basic_auth(settings.account_sid, settings.auth_token.get_secret_value())}
    return [form_request(url, form, headers)]


def interpret(status: int, body: bytes) -> str | None:
    """Twilio's `{"code", "message", "more_info", "status"}`, else the text."""
    parsed = json_or_none(body)
    if isinstance(parsed, dict) and parsed.get("message"):
        code = parsed.get("code")
        return f"{code}: {parsed['message']}" if code else str(parsed["message"])
    return error_text(body)


DESTINATION = Destination(
    slug="twilio",
    name="Twilio",
    categories=("SMS & Push Notifications",),
    description=(
        "Send a text message when something happens: an order shipped, a trial ending, a "
        "login from a new device. You choose the events and write each message's template; "
        "the SMS goes to the phone number in the user's traits."
    ),
    docs_url="https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource",
    settings=Settings,
    translations={"track": track},
    platforms=("browser", "mobile", "server"),
    presets=method_presets(("track",)),
    rate_limit=0.0,  # Twilio queues messages; its sending rates are per sender number, not per account
    interpret=interpret,
)
