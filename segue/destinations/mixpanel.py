"""Mixpanel: events through the Import API, profiles through Engage, groups through Groups.

Events carry `$insert_id` (from messageId) so retries never double count, and both `$user_id`
and `$device_id` so Mixpanel's Simplified ID Merge links anonymous and known activity. For
projects on the Original ID Merge system, identify also sends `$identify` and alias sends
`$create_alias`, both through /import as Mixpanel's identity reference allows.

Device mode runs Mixpanel's JavaScript library on the website instead (`device/mixpanel.js`,
project token, region and page/group options only: secrets never reach browsers):
`mixpanel.init(token, {api_host, track_pageview: false})`, then page becomes
`mixpanel.track('Loaded a Page' or 'Viewed <category> <name> Page', properties)`, track
`mixpanel.track(event, properties)`, identify `mixpanel.identify(userId)` and
`mixpanel.people.set` with the reserved traits renamed as above, group
`mixpanel.set_group(<group key>, groupId)` and alias `mixpanel.alias(userId, previousId)`.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import quote

from pydantic import Field, SecretStr, model_validator

from segue.destinations.common import (
    basic_auth,
    chunks,
    compact,
    encode_json,
    event_ms,
    json_or_none,
    json_request,
    method_presets,
    obj,
    require_event_name,
    require_group_id,
    stable_hash,
    text,
    traits_of,
)
from segue.destinations.contract import (
    METHODS,
    Destination,
    DestinationSettings,
    Device,
    Request,
)
from segue.errors import InvalidMessage

HOSTS = {"US": "https://api.mixpanel.com", "EU": "https://api-eu.mixpanel.com", "IN": "https://api-in.mixpanel.com"}
BATCH_SIZE = 2000  # Segment events per batch: at most 2000 items land in any one request
ACCEPT_JSON = {"Accept": "application/json"}
PROFILE_QUERY = "strict=1&ip=0"  # ip=0: don't geolocate profiles from this server's address
INSERT_ID = re.compile(r"[A-Za-z0-9-]{1,36}")
RESERVED_TRAITS = (  # Segment trait spellings -> Mixpanel reserved profile property
    (("email",), "$email"), (("firstName", "first_name"), "$first_name"), (("lastName", "last_name"), "$last_name"),
    (("name",), "$name"), (("phone",), "$phone"), (("avatar",), "$avatar"), (("username",), "$username"),
    (("createdAt", "created_at", "created"), "$created"),
)
CONTEXT_PROPERTIES = (  # Mixpanel event property <- Segment context path
    ("ip", "context.ip"), ("$current_url", "context.page.url"), ("$referrer", "context.page.referrer"),
    ("$os", "context.os.name"), ("$os_version", "context.os.version"), ("$app_version_string", "context.app.version"),
    ("$app_build_number", "context.app.build"), ("$manufacturer", "context.device.manufacturer"),
    ("$model", "context.device.model"), ("$carrier", "context.network.carrier"), ("mp_lib", "context.library.name"),
    ("$lib_version", "context.library.version"), ("utm_source", "context.campaign.source"),
    ("utm_medium", "context.campaign.medium"), ("utm_campaign", "context.campaign.name"),
    ("utm_term", "context.campaign.term"), ("utm_content", "context.campaign.content"),
)


class Settings(DestinationSettings):
    project_token: str = Field(description="The project token (public: browsers see it too).")
    api_secret: SecretStr | None = Field(None, title="API Secret", description="The project's API secret (older auth).")
    service_account_username: str | None = Field(None, description="Service account username (recommended auth).")
    service_account_secret: SecretStr | None = Field(None, description="Service account secret.")
    project_id: str | None = Field(None, title="Project ID", description="Needed with a service account.")
    region: Literal["US", "EU", "IN"] = Field("US", description="The project's data residency.")
    consolidate_page_calls: bool = Field(True, description="Send every page/screen as `Loaded a Page`/`Screen`.")
    group_key: str = Field("$group_id", description="The Mixpanel group key that a group call's groupId belongs to.")

    @model_validator(mode="after")
    def _whole_service_account(self) -> "Settings":
        parts = (self.service_account_username, self.service_account_secret, self.project_id)
        if any(parts) and not all(parts):
            raise ValueError("a service account needs serviceAccountUsername, serviceAccountSecret and projectId")
        return self


def _import_auth(settings: Settings) -> tuple[str, str]:
    """(query string, Authorization) for /import: service account, else API secret, else token."""
    account, secret = settings.service_account_username, settings.service_account_secret
    if account and secret and settings.project_id:
        return f"&project_id={quote(settings.project_id, safe='')}", basic_auth(account, secret.get_secret_value())
    if settings.api_secret is not None:
        return "", basic_auth(settings.api_secret.get_secret_value())
    return "", basic_auth(settings.project_token)


def _import_request(events: list[dict], settings: Settings) -> Request:
    query, authorization = _import_auth(settings)
    url = f"{HOSTS[settings.region]}/import?strict=1{query}"
    return json_request(url, events, {"Authorization": authorization, "Accept": "application/json"})


def insert_id(message_id: str) -> str:
    """messageId when Mixpanel accepts it (<= 36 chars, letters, digits, '-'), else a stable hash."""
    return message_id if INSERT_ID.fullmatch(message_id) else stable_hash(message_id)


def _identity(event: dict, settings: Settings) -> dict:
    user_id, anonymous_id = text(event, "userId"), text(event, "anonymousId")
    message_id = text(event, "messageId") or stable_hash(encode_json(event).decode())
    return compact({
        "time": event_ms(event), "distinct_id": user_id or anonymous_id or "", "$insert_id": insert_id(message_id),
        "$user_id": user_id, "$device_id": anonymous_id, "token": settings.project_token,
    })


def _import_event(event: dict, settings: Settings, name: str, properties: dict) -> dict:
    context = compact({key: text(event, path) for key, path in CONTEXT_PROPERTIES})
    return {"event": name, "properties": {**context, **properties, **_identity(event, settings)}}


def _page_name(event: dict, settings: Settings, kind: str) -> str:
    if settings.consolidate_page_calls:
        return f"Loaded a {kind}"
    label = " ".join(part for part in (text(event, "category"), text(event, "name")) if part)
    return f"Viewed {label} {kind}" if label else f"Loaded a {kind}"


def track(event: dict, settings: Settings) -> list[Request]:
    """track: one imported event named after the Segment event."""
    imported = _import_event(event, settings, require_event_name(event), obj(event, "properties"))
    return [_import_request([imported], settings)]


def page(event: dict, settings: Settings) -> list[Request]:
    """page: `Loaded a Page` (or `Viewed <category> <name> Page`) with the page properties."""
    named = compact({"name": text(event, "name"), "category": text(event, "category")})
    name = _page_name(event, settings, "Page")
    return [_import_request([_import_event(event, settings, name, {**obj(event, "properties"), **named})], settings)]


def screen(event: dict, settings: Settings) -> list[Request]:
    """screen: `Loaded a Screen` (or `Viewed <name> Screen`) with the screen properties."""
    properties = {**obj(event, "properties"), **compact({"name": text(event, "name")})}
    name = _page_name(event, settings, "Screen")
    return [_import_request([_import_event(event, settings, name, properties)], settings)]


def profile_properties(traits: dict) -> dict:
    """Traits with Segment's reserved names renamed to Mixpanel's ($email, $first_name...)."""
    renamed = dict(traits)
    for spellings, target in RESERVED_TRAITS:
        for spelling in spellings:
            if spelling in renamed:
                value = renamed.pop(spelling)
                renamed.setdefault(target, value)
    return renamed


def _engage(settings: Settings, updates: list[dict]) -> Request:
    return json_request(f"{HOSTS[settings.region]}/engage?{PROFILE_QUERY}", updates, ACCEPT_JSON)


def identify(event: dict, settings: Settings) -> list[Request]:
    """identify: `$identify` linking anonymousId to userId, then a profile `$set` of the traits."""
    requests = []
    user_id, anonymous_id = text(event, "userId"), text(event, "anonymousId")
    if user_id and anonymous_id:
        merge = {"$identified_id": user_id, "$anon_id": anonymous_id}
        requests.append(_import_request([_import_event(event, settings, "$identify", merge)], settings))
    traits = profile_properties(traits_of(event))
    if traits:
        update = {"$token": settings.project_token, "$distinct_id": user_id or anonymous_id, "$set": traits}
        requests.append(_engage(settings, [update]))
    return requests


def group(event: dict, settings: Settings) -> list[Request]:
    """group: the group profile's `$set`, and the group id added to the user's profile."""
    group_id = require_group_id(event)
    group_set = {"$token": settings.project_token, "$group_key": settings.group_key, "$group_id": group_id,
                 "$set": profile_properties(traits_of(event))}
    distinct_id = text(event, "userId") or text(event, "anonymousId")
    union = {"$token": settings.project_token, "$distinct_id": distinct_id, "$union": {settings.group_key: [group_id]}}
    groups = json_request(f"{HOSTS[settings.region]}/groups?{PROFILE_QUERY}", [group_set], ACCEPT_JSON)
    return [groups, _engage(settings, [union])]


def alias(event: dict, settings: Settings) -> list[Request]:
    """alias: `$create_alias` making userId an alias of previousId (Original ID Merge)."""
    previous_id, user_id = text(event, "previousId"), text(event, "userId")
    if previous_id is None or user_id is None:
        raise InvalidMessage("alias needs a previousId and a userId", code="missing_field")
    created = _import_event(event, settings, "$create_alias", {})
    for merge_key in ("$user_id", "$device_id"):
        created["properties"].pop(merge_key, None)
    created["properties"].update({"distinct_id": previous_id, "alias": user_id})
    return [_import_request([created], settings)]


TRANSLATIONS = {"track": track, "page": page, "screen": screen, "identify": identify, "group": group, "alias": alias}
PER_REQUEST = 2000  # /import events, /engage and /groups updates: Mixpanel's per-request maximum


def translate(event: dict, settings: Settings) -> list[Request]:
    """Any method: the requests of its translation."""
    method = event.get("type")
    if method not in TRANSLATIONS:
        raise InvalidMessage(f"Mixpanel does not take {method!r} calls", code="unsupported_method")
    return TRANSLATIONS[method](event, settings)


def translate_batch(events: list, settings: Settings) -> list[Request]:
    """Many events: their /import events in one call; profile and group updates merged by URL."""
    merged: dict[str, list] = {}
    for event in events:
        for request in translate(event, settings):
            merged.setdefault(request.url, []).extend(json_or_none(request.body))
    return [_batch_request(url, part, settings) for url, items in merged.items() for part in chunks(items, PER_REQUEST)]


def _batch_request(url: str, items: list, settings: Settings) -> Request:
    if "/import?" in url:
        return _import_request(items, settings)
    return json_request(url, items, ACCEPT_JSON)


def interpret(status: int, body: bytes) -> str | None:
    """/import's `error` and `failed_records`; Engage's `{"status": 0, "error": ...}`."""
    parsed = json_or_none(body)
    if not isinstance(parsed, dict) or not parsed.get("error"):
        return None
    failures = [f"{record.get('field')}: {record.get('message')}" for record in parsed.get("failed_records") or []]
    return "; ".join([str(parsed["error"]), *failures[:5]])


DEVICE = Device(
    plugin="mixpanel.js", settings=("project_token", "region", "consolidate_page_calls", "group_key"),
    methods=("page", "track", "identify", "group", "alias"),
)

DESTINATION = Destination(
    slug="mixpanel",
    name="Mixpanel",
    categories=("Analytics",),
    description=(
        "Event analytics with funnels, retention and cohorts. Track, page and screen calls are "
        "imported as Mixpanel events, deduplicated by message id; identify merges the anonymous "
        "and known ids and sets profile properties; group sets group profiles; alias links ids."
    ),
    docs_url="https://developer.mixpanel.com/reference/import-events",
    settings=Settings,
    translations={method: TRANSLATIONS[method] for method in METHODS},
    modes=("cloud", "device"),
    device=DEVICE,
    replay=True,
    presets=method_presets(METHODS),
    batch=translate_batch,
    batch_size=BATCH_SIZE,
    interpret=interpret,
)
