"""Discord: a message in a channel for the events you choose, through an incoming webhook.

POST {webhook URL} with JSON `content` (at most 2,000 characters) and optional `username` and
`avatar_url` overrides. Only the track events named in `eventTemplates` are sent, each rendered
from its template (`{{properties.plan}}`, `{{name}}`, `{{event}}`); identify calls are sent
only when they carry every trait of `whitelistedTraits`, as in the Slack destination. Mentions
in the rendered text never ping anyone (`allowed_mentions.parse` is empty). The webhook URL
carries its token, so it is stored as a secret.
"""

from __future__ import annotations

from pydantic import Field

from segue.destinations._messaging import DEFAULT_IDENTIFY_TEMPLATE, display_name, identify_values, render
from segue.destinations.common import compact, error_text, json_or_none, json_request, method_presets, text
from segue.destinations.contract import Destination, DestinationSettings, Request
from segue.destinations.settings import SecretHttpUrl

MAX_CONTENT = 2000  # characters of a message's content


class Settings(DestinationSettings):
    webhook_url: SecretHttpUrl = Field(title="Webhook URL", description="The channel's webhook (Integrations > Webhooks).")
    username: str | None = Field(None, description="Sender name override.")
    avatar_url: str | None = Field(None, title="Avatar URL", description="Sender avatar override.")
    event_templates: dict[str, str] = Field(
        default_factory=dict, description="Event name -> message template; only these events are sent."
    )
    whitelisted_traits: list[str] = Field(
        default_factory=list, description="Identify calls are sent only when they carry all of these traits."
    )
    identify_template: str = Field(DEFAULT_IDENTIFY_TEMPLATE, description="Message template for identify calls.")


def _message(settings: Settings, content: str) -> list[Request]:
    content = content[:MAX_CONTENT]
    if not content.strip():
        return []  # Discord refuses an empty message
    body = compact({"content": content, "username": settings.username or None,
                    "avatar_url": settings.avatar_url or None, "allowed_mentions": {"parse": []}})
    return [json_request(settings.webhook_url.get_secret_value(), body)]


def track(event: dict, settings: Settings) -> list[Request]:
    """track: a message when the event has a template, nothing otherwise."""
    name = text(event, "event")
    template = settings.event_templates.get(name) if name else None
    if template is None:
        return []
    return _message(settings, render(template, {**event, "name": display_name(event), "event": name}))


def identify(event: dict, settings: Settings) -> list[Request]:
    """identify: a message when every whitelisted trait is present, nothing otherwise."""
    values = identify_values(event, settings.whitelisted_traits)
    return [] if values is None else _message(settings, render(settings.identify_template, values))


def interpret(status: int, body: bytes) -> str | None:
    """Discord's `{"message", "code"}` (plus `retry_after` when rate limited), else the text."""
    parsed = json_or_none(body)
    if not isinstance(parsed, dict) or not parsed.get("message"):
        return error_text(body) if parsed is None else None
    parts = [f"{parsed['message']} (code {parsed['code']})" if parsed.get("code") else str(parsed["message"])]
    if parsed.get("retry_after") is not None:
        parts.append(f"retry after {parsed['retry_after']} s")
    return "; ".join(parts)


DESTINATION = Destination(
    slug="discord",
    name="Discord",
    categories=("Customer Success", "Raw Data"),
    description=(
        "Post a message to a Discord channel when something worth the team's attention happens: "
        "a signup, a big order, a cancellation. You pick the events and write the message "
        "templates; events without a template are not sent."
    ),
    docs_url="https://discord.com/developers/docs/resources/webhook#execute-webhook",
    settings=Settings,
    translations={"track": track, "identify": identify},
    presets=method_presets(("track", "identify")),
    rate_limit=0.0,  # Discord publishes no fixed limit: it answers 429 with Retry-After per webhook
    interpret=interpret,
)
