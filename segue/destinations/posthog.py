"""PostHog: events, persons and groups through the public capture endpoints.

One event goes to POST {host}/i/v0/e/, many to POST {host}/batch/ as `{api_key, historical_migration,
batch: [...]}`; auth is the project API key in the body. Hosts: https://us.i.posthog.com (US
Cloud), https://eu.i.posthog.com (EU Cloud) or a self-hosted instance. identify is a `$identify`
event that `$set`s person properties and merges the anonymous id (`$anon_distinct_id`); group a
`$groupidentify`; alias a `$create_alias`; page and screen are `$pageview` and `$screen`.
Every event carries a `uuid` derived from messageId, PostHog's deduplication key.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field, HttpUrl

from segue.destinations.common import (
    compact,
    json_or_none,
    json_request,
    method_presets,
    obj,
    require_event_name,
    require_group_id,
    text,
    traits_of,
)
from segue.destinations.contract import Destination, DestinationSettings, Request
from segue.errors import InvalidMessage

HOSTS = {"US": "https://us.i.posthog.com", "EU": "https://eu.i.posthog.com"}
BATCH_SIZE = 1000  # /batch/ has no event count limit, only a 20 MB body: 1000 events stay far below it
CONTEXT_PROPERTIES = (  # PostHog event property <- Segment context path
    ("$ip", "context.ip"), ("$current_url", "context.page.url"), ("$pathname", "context.page.path"),
    ("$referrer", "context.page.referrer"), ("title", "context.page.title"),
    ("$raw_user_agent", "context.userAgent"), ("$os", "context.os.name"), ("$os_version", "context.os.version"),
    ("$device_manufacturer", "context.device.manufacturer"), ("$device_model", "context.device.model"),
    ("$app_name", "context.app.name"), ("$app_version", "context.app.version"), ("$app_build", "context.app.build"),
    ("$app_namespace", "context.app.namespace"), ("$lib", "context.library.name"),
    ("$lib_version", "context.library.version"), ("utm_source", "context.campaign.source"),
    ("utm_medium", "context.campaign.medium"), ("utm_campaign", "context.campaign.name"),
    ("utm_term", "context.campaign.term"), ("utm_content", "context.campaign.content"),
)


class Settings(DestinationSettings):
    api_key: str = Field(title="Project API Key", description="The project API key (phc_...), write-only and public.")
    region: Literal["US", "EU"] = Field("US", description="The PostHog Cloud region (ignored with a self-hosted host).")
    host: HttpUrl | None = Field(None, description="A self-hosted instance's URL, e.g. https://posthog.example.com.")
    group_type: str = Field("company", description="The PostHog group type that a group call's groupId belongs to.")
    anonymous_person_profiles: bool = Field(
        True, description="Create person profiles for events without a userId (off: cheaper anonymous events).")
    historical_migration: bool = Field(False, description="Mark batches as a historical migration (backfills).")


def _host(settings: Settings) -> str:
    return str(settings.host).rstrip("/") if settings.host else HOSTS[settings.region]


def event_uuid(message_id: str) -> str:
    """messageId when it is a UUID, else a UUID derived from it (PostHog ignores non-UUID values)."""
    try:
        return str(uuid.UUID(message_id))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"segue:{message_id}"))


def _distinct_id(event: dict) -> str:
    distinct_id = text(event, "userId") or text(event, "anonymousId")
    if distinct_id is None:
        raise InvalidMessage("PostHog needs a userId or an anonymousId", code="missing_field")
    return distinct_id


def _context(event: dict, settings: Settings) -> dict:
    properties = {key: text(event, path) for key, path in CONTEXT_PROPERTIES}
    group_id = text(event, "context.groupId")
    properties["$groups"] = {settings.group_type: group_id} if group_id else None
    if not settings.anonymous_person_profiles and text(event, "userId") is None:
        properties["$process_person_profile"] = False
    return compact(properties)


def posthog_event(event: dict, settings: Settings, name: str, properties: dict, distinct_id: str | None = None) -> dict:
    """A PostHog event: name, distinct_id, context and `properties`, timestamp and uuid."""
    message_id = text(event, "messageId")
    return compact({
        "event": name, "distinct_id": distinct_id or _distinct_id(event),
        "properties": {**_context(event, settings), **properties},
        "timestamp": text(event, "timestamp"), "uuid": event_uuid(message_id) if message_id else None,
    })


def track(event: dict, settings: Settings) -> dict:
    """track: an event named after the Segment event, with its properties."""
    return posthog_event(event, settings, require_event_name(event), obj(event, "properties"))


def page(event: dict, settings: Settings) -> dict:
    """page: `$pageview`; the page's url, path, referrer and title override the context's."""
    properties = obj(event, "properties")
    page_fields = {"$current_url": text(properties, "url"), "$pathname": text(properties, "path"),
                   "$referrer": text(properties, "referrer"), "name": text(event, "name")}
    return posthog_event(event, settings, "$pageview", {**properties, **compact(page_fields)})


def screen(event: dict, settings: Settings) -> dict:
    """screen: `$screen` with `$screen_name`."""
    screen_name = compact({"$screen_name": text(event, "name")})
    return posthog_event(event, settings, "$screen", {**obj(event, "properties"), **screen_name})


def identify(event: dict, settings: Settings) -> dict | None:
    """identify: `$identify` setting the traits; `$anon_distinct_id` merges the anonymous id."""
    user_id, anonymous_id, traits = text(event, "userId"), text(event, "anonymousId"), traits_of(event)
    merge = {"$anon_distinct_id": anonymous_id} if user_id and anonymous_id and user_id != anonymous_id else {}
    if not (traits or merge):
        return None
    return posthog_event(event, settings, "$identify", {"$set": traits, **merge})


def group(event: dict, settings: Settings) -> dict:
    """group: `$groupidentify` creating or updating the group with its traits."""
    group_id = require_group_id(event)
    properties = {"$group_type": settings.group_type, "$group_key": group_id, "$group_set": traits_of(event),
                  "$groups": {settings.group_type: group_id}}
    return posthog_event(event, settings, "$groupidentify", properties)


def alias(event: dict, settings: Settings) -> dict:
    """alias: `$create_alias` merging previousId into userId, which stays the main distinct id."""
    previous_id, user_id = text(event, "previousId"), text(event, "userId")
    if previous_id is None or user_id is None:
        raise InvalidMessage("alias needs a previousId and a userId", code="missing_field")
    return posthog_event(event, settings, "$create_alias", {"alias": user_id}, distinct_id=previous_id)


BUILDERS = {"track": track, "page": page, "screen": screen, "identify": identify, "group": group, "alias": alias}


def build(event: dict, settings: Settings) -> dict | None:
    """The PostHog event for any Segment method (None: nothing to send)."""
    builder = BUILDERS.get(event.get("type"))
    if builder is None:
        raise InvalidMessage(f"PostHog does not take {event.get('type')!r} calls", code="unsupported_method")
    return builder(event, settings)


def translate(event: dict, settings: Settings) -> list[Request]:
    """One event: POST /i/v0/e/ with the API key in the body."""
    built = build(event, settings)
    return [json_request(f"{_host(settings)}/i/v0/e/", {"api_key": settings.api_key, **built})] if built else []


def translate_batch(events: list, settings: Settings) -> list[Request]:
    """Many events: one POST /batch/."""
    items = [built for built in (build(event, settings) for event in events) if built]
    if not items:
        return []
    body = {"api_key": settings.api_key, "historical_migration": settings.historical_migration, "batch": items}
    return [json_request(f"{_host(settings)}/batch/", body)]


def interpret(status: int, body: bytes) -> str | None:
    """PostHog's `{"type", "code", "detail", "attr"}` error (e.g. invalid_api_key)."""
    parsed = json_or_none(body)
    if not isinstance(parsed, dict):
        return None
    detail = parsed.get("detail") or parsed.get("error")
    if not detail:
        return None
    code = parsed.get("code")
    return f"{code}: {detail}" if code else str(detail)


METHODS = ("track", "identify", "page", "screen", "group", "alias")

DESTINATION = Destination(
    slug="posthog",
    name="PostHog",
    categories=("Analytics",),
    description=(
        "Open-source product analytics with session replay and feature flags. Track, page and "
        "screen calls become PostHog events (page views as $pageview), identify sets person "
        "properties and merges the anonymous id, group creates or updates a group, alias links "
        "two distinct ids. Works with US and EU Cloud and self-hosted instances."
    ),
    docs_url="https://posthog.com/docs/api/capture",
    settings=Settings,
    translations={method: translate for method in METHODS},
    modes=("cloud",),
    replay=True,
    presets=method_presets(METHODS),
    batch=translate_batch,
    batch_size=BATCH_SIZE,
    interpret=interpret,
    rate_limit=0.0,  # PostHog documents no rate limit on its public capture endpoints
)
