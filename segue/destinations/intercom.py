"""Intercom: users, companies and data events through the REST API (Bearer access token).

identify creates or updates the user (POST /users, keyed by user_id, else email); group
creates or updates the company (POST /companies, keyed by company_id) and then attaches the
user to it (POST /users with `companies`); track submits a data event (POST /events).

Every request pins `Intercom-Version: 1.4`. The 2.x Contacts API has no create-or-update call:
creating an existing contact answers 409, updating or attaching needs Intercom's own ids, which
only a prior lookup can give, and a translation makes no lookups. The 1.4 Users and Companies
endpoints are documented upserts keyed by the customer's own ids, and Intercom still accepts 1.4.

Device mode runs the Intercom Messenger on the website instead (`device/intercom.js`, app ID and
region only: the access token never reaches browsers): the Messenger snippet loads
`https://widget.intercom.io/widget/<app id>`; the first call boots it with
`Intercom('boot', {app_id, api_base, user_id, email, name, created_at, ...})`, identify and group
then `Intercom('update', ...)` the user or their company, page calls `Intercom('update')` (which
checks for new messages), and track `Intercom('trackEvent', <event name>, <flat properties>)`.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, SecretStr

from segue.destinations._messaging import scalars, user_traits
from segue.destinations.common import (
    ORDER_COMPLETED,
    bearer,
    compact,
    error_text,
    event_seconds,
    full_name,
    json_or_none,
    json_request,
    listed_errors,
    method_presets,
    number,
    obj,
    require_event_name,
    require_group_id,
    text,
    trait,
    unix_seconds,
)
from segue.destinations.contract import Destination, DestinationSettings, Device, Request

HOSTS = {"US": "https://api.intercom.io", "EU": "https://api.eu.intercom.io", "AU": "https://api.au.intercom.io"}
API_VERSION = "1.4"
MAX_METADATA = 20  # metadata items per event (Intercom help: "Set up event tracking")
MAX_STRING = 255  # characters of a metadata string
FORBIDDEN_KEY_CHARS = ".$~`!@#%^&*'{}|\\\""
USER_TRAITS = ("email", "phone", "name", "firstName", "first_name", "lastName", "last_name", "createdAt",
               "created_at", "company", "avatar", "id", "userId", "unsubscribedFromEmails")
COMPANY_TRAITS = ("name", "plan", "industry", "website", "employees", "createdAt", "created_at", "monthlySpend",
                  "monthly_spend", "id")


class Settings(DestinationSettings):
    access_token: SecretStr = Field(title="Access Token", description="The Intercom app's access token.")
    region: Literal["US", "EU", "AU"] = Field("US", description="Where the Intercom workspace is hosted.")
    app_id: str | None = Field(
        None, title="App ID", pattern=r"^[a-z0-9]+$",
        description="The workspace's app ID (Settings > Installation); device mode loads the Messenger with it.")


def _headers(settings: Settings) -> dict[str, str]:
    return {**bearer(settings.access_token), "Accept": "application/json", "Intercom-Version": API_VERSION}


def _post(settings: Settings, path: str, body: dict) -> Request:
    return json_request(HOSTS[settings.region] + path, body, _headers(settings))


def user_keys(event: dict) -> dict:
    """`user_id` (the userId), else `email`: how Intercom finds the user ({} when neither)."""
    user_id, email = text(event, "userId"), text(user_traits(event), "email")
    return compact({"user_id": user_id, "email": email if user_id is None else None})


def _avatar(traits: dict) -> dict | None:
    url = text(traits, "avatar")
    return {"type": "avatar", "image_url": url} if url else None


def identify(event: dict, settings: Settings) -> list[Request]:
    """identify: create or update the user; reserved traits to Intercom's fields, the rest custom."""
    traits, keys = obj(event, "traits"), user_keys(event)
    if not keys:
        return []  # Intercom keeps no user without a user_id or an email
    body = {
        **keys, "email": text(user_traits(event), "email"), "phone": text(traits, "phone"),
        "name": full_name(traits), "avatar": _avatar(traits),
        "signed_up_at": unix_seconds(trait(traits, "createdAt", "created_at")),
        "last_seen_ip": text(event, "context.ip"), "last_seen_user_agent": text(event, "context.userAgent"),
        "unsubscribed_from_emails": traits.get("unsubscribedFromEmails"),
        "custom_attributes": scalars(traits, USER_TRAITS) or None,
        "companies": _trait_company(traits),
    }
    return [_post(settings, "/users", compact(body))]


def _trait_company(traits: dict) -> list | None:
    """The `company` trait as the user's company, when it names one by id."""
    company = obj(traits, "company")
    company_id = text(company, "id")
    return [compact({"company_id": company_id, "name": text(company, "name")})] if company_id else None


def company(event: dict) -> dict:
    """The company a group call describes: group traits to Intercom's fields, the rest custom."""
    traits = obj(event, "traits")
    return compact({
        "company_id": text(event, "groupId"), "name": text(traits, "name"), "plan": text(traits, "plan"),
        "industry": text(traits, "industry"), "website": text(traits, "website"),
        "size": number(traits, "employees"), "monthly_spend": number(traits, "monthlySpend"),
        "remote_created_at": unix_seconds(trait(traits, "createdAt", "created_at")),
        "custom_attributes": scalars(traits, COMPANY_TRAITS) or None,
    })


def group(event: dict, settings: Settings) -> list[Request]:
    """group: create or update the company, then attach the user to it."""
    require_group_id(event)
    details, keys = company(event), user_keys(event)
    if not keys:
        return [_post(settings, "/companies", details)]  # no user to attach
    attach = {**keys, "companies": [compact({"company_id": details["company_id"],
                                                           "name": details.get("name")})]}
    return [_post(settings, "/companies", details), _post(settings, "/users", attach)]


def metadata(properties: dict, event_name: str) -> dict:
    """Event metadata as Intercom takes it: at most 20 flat items, strings up to 255 characters.

    Keys lose the characters Intercom forbids; an order's revenue becomes a monetary amount
    (`{"amount": cents, "currency"}`); nested objects and lists are left out.
    """
    items = _price(properties) if event_name in ORDER_COMPLETED else {}
    for key, value in scalars(properties).items():
        name = "".join(char for char in key if char not in FORBIDDEN_KEY_CHARS)
        if name and name not in items:
            items[name] = value[:MAX_STRING] if isinstance(value, str) else value
    return dict(list(items.items())[:MAX_METADATA])


def _price(properties: dict) -> dict:
    """An order's revenue as Intercom's monetary amount (cents and lowercase currency)."""
    revenue = number(properties, "revenue")
    if revenue is None or not math.isfinite(revenue):
        return {}
    currency = (text(properties, "currency") or "usd").lower()
    return {"price": {"amount": round(revenue * 100), "currency": currency}}


def track(event: dict, settings: Settings) -> list[Request]:
    """track: a data event of the user, at the event's time, with its properties as metadata."""
    name, keys = require_event_name(event), user_keys(event)
    if not keys:
        return []  # Intercom records events only for a user it can find
    details = metadata(obj(event, "properties"), name)
    body = {"event_name": name, "created_at": event_seconds(event), **keys, "metadata": details or None}
    return [_post(settings, "/events", compact(body))]


def interpret(status: int, body: bytes) -> str | None:
    """Intercom's `{"type": "error.list", "errors": [{"code", "message"}]}`, else the text."""
    found = listed_errors(json_or_none(body), _error)
    return error_text(body) if found is None else found


def _error(error: object) -> str:
    if not isinstance(error, dict):
        return str(error)
    return ": ".join(str(part) for part in (error.get("code"), error.get("message")) if part)


METHODS = ("track", "identify", "group")
DEVICE = Device(plugin="intercom.js", settings=("app_id", "region"), methods=("page", "track", "identify", "group"))

DESTINATION = Destination(
    slug="intercom",
    name="Intercom",
    categories=("Customer Success", "Livechat"),
    description=(
        "Customer messaging and support. Identify keeps each user's profile and custom attributes "
        "current so the team sees who they are talking to; track records what users did as data "
        "events for targeting messages; group keeps companies up to date and links users to them."
    ),
    docs_url="https://developers.intercom.com/docs/references/1.4/rest-api/users/create-or-update-user",
    settings=Settings,
    translations={"track": track, "identify": identify, "group": group},
    modes=("cloud", "device"),
    platforms=("browser", "mobile", "server"),
    device=DEVICE,
    replay=True,
    presets=method_presets(METHODS),
    rate_limit=166.0,  # 10,000 requests a minute per app (Intercom API docs, "Rate limiting")
    interpret=interpret,
)
