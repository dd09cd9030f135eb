"""Slack: a message in a channel for the events you choose, through an incoming webhook.

Only the track events named in `eventTemplates` are sent, each rendered from its template
(`{{properties.plan}}`, `{{name}}`, `{{event}}`...). Identify calls are sent only when
`whitelistedTraits` is set and the call carries every one of those traits, as in Segment's
Slack destination. The webhook URL is itself a credential, so it is stored as a secret.
"""

from __future__ import annotations

from pydantic import Field

from segue.destinations import _messaging
from segue.destinations._messaging import DEFAULT_IDENTIFY_TEMPLATE, display_name, identify_values
from segue.destinations.common import error_text, json_request, method_presets, text
from segue.destinations.contract import Destination, DestinationSettings, Request
from segue.destinations.settings import SecretHttpUrl


class Settings(DestinationSettings):
    webhook_url: SecretHttpUrl = Field(title="Incoming Webhook URL", description="The Slack incoming webhook to post to.")
    channel: str | None = Field(None, description="Channel override (legacy webhooks only; app webhooks ignore it).")
    username: str | None = Field(None, description="Sender name override (legacy webhooks only).")
    icon_url: str | None = Field(None, title="Icon URL", description="Sender icon override (legacy webhooks only).")
    event_templates: dict[str, str] = Field(
        default_factory=dict, description="Event name -> message template; only these events are sent."
    )
    event_channels: dict[str, str] = Field(default_factory=dict, description="Event name -> channel override.")
    whitelisted_traits: list[str] = Field(
        default_factory=list, description="Identify calls are sent only when they carry all of these traits."
    )
    identify_template: str = Field(DEFAULT_IDENTIFY_TEMPLATE, description="Message template for identify calls.")


def escape(value: str) -> str:
    """Slack's three control characters, escaped as its message formatting requires."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(template: str, values: dict) -> str:
    """`{{a.b}}` replaced by the value at that path (JSON for non-strings, "" when missing), escaped."""
    return _messaging.render(template, values, escape)


def _message(settings: Settings, message: str, channel: str | None) -> Request:
    body = {"text": message, "channel": channel, "username": settings.username, "icon_url": settings.icon_url}
    return json_request(settings.webhook_url.get_secret_value(), {k: v for k, v in body.items() if v})


def track(event: dict, settings: Settings) -> list[Request]:
    """track: a message when the event has a template, nothing otherwise."""
    name = text(event, "event")
    template = settings.event_templates.get(name) if name else None
    if template is None:
        return []
    message = render(template, {**event, "name": display_name(event), "event": name})
    return [_message(settings, message, settings.event_channels.get(name) or settings.channel)]


def identify(event: dict, settings: Settings) -> list[Request]:
    """identify: a message when every whitelisted trait is present, nothing otherwise."""
    values = identify_values(event, settings.whitelisted_traits)
    if values is None:
        return []
    return [_message(settings, render(settings.identify_template, values), settings.channel)]


def interpret(status: int, body: bytes) -> str | None:
    """Slack answers errors in plain text: `invalid_payload`, `channel_not_found`, `no_text`..."""
    return error_text(body)


DESTINATION = Destination(
    slug="slack",
    name="Slack",
    categories=("Customer Success",),
    description=(
        "Post a message to a Slack channel when something worth a human's attention happens: a "
        "signup, a large order, a cancelled plan. You pick the events and write the message "
        "templates; events without a template are not sent."
    ),
    docs_url="https://api.slack.com/messaging/webhooks",
    settings=Settings,
    translations={"track": track, "identify": identify},
    presets=method_presets(("track", "identify")),
    interpret=interpret,
)
