"""Salesforce: leads (or contacts) and accounts through the REST API's upsert by external ID.

identify upserts a Lead or Contact and group an Account, each with PATCH
`{instance_url}/services/data/vXX.X/sobjects/{object}/{externalIdField}/{value}` (created when no
record has that value, else updated). The external ID fields are custom fields the admin marks
"External ID"; they hold the Segment userId and groupId. Auth is the Bearer access token from
"Log in to Salesforce" (OAuth 2 web server flow), whose token response names the `instance_url`.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from pydantic import Field, SecretStr

from segue.destinations.common import (
    bearer,
    compact,
    error_text,
    json_or_none,
    json_request,
    method_presets,
    not_connected,
    obj,
    require_group_id,
    text,
    trait,
    traits_of,
)
from segue.destinations.contract import Destination, OAuth, Request, oauth_settings
from segue.destinations.settings import HttpUrlText

# Reserved traits (Segment spec 2) -> standard Lead/Contact fields.
PERSON_FIELDS = {
    ("email", None): "Email", ("firstName", "first_name"): "FirstName", ("lastName", "last_name"): "LastName",
    ("phone", None): "Phone", ("title", None): "Title", ("description", None): "Description",
}
ADDRESS_FIELDS = {"street": "Street", "city": "City", "state": "State", "postalCode": "PostalCode", "country": "Country"}
ACCOUNT_FIELDS = {
    "name": "Name", "website": "Website", "industry": "Industry", "phone": "Phone", "employees": "NumberOfEmployees",
    "description": "Description",
}
MAILING = {"Street": "MailingStreet", "City": "MailingCity", "State": "MailingState",
           "PostalCode": "MailingPostalCode", "Country": "MailingCountry"}


class Settings(oauth_settings("Salesforce")):
    client_id: str | None = Field(None, title="Consumer Key", description="Your connected app's consumer key (client ID).")
    client_secret: SecretStr | None = Field(None, title="Consumer Secret", description="Your connected app's consumer secret.")
    instance_url: HttpUrlText | None = Field(
        None, title="Instance URL", description="Your org's API host, set by Log in to Salesforce (https://MyDomain.my.salesforce.com).",
    )
    api_version: str = Field("66.0", pattern=r"^\d+\.\d$", title="API Version", description="REST API version, e.g. 66.0.")
    person_object: Literal["Lead", "Contact"] = Field("Lead", title="Person Object", description="What identify upserts.")
    external_id_field: str = Field(
        "Segue_User_Id__c", title="Person External ID Field",
        description="The Lead/Contact custom field marked External ID that holds the userId.",
    )
    account_external_id_field: str = Field(
        "Segue_Group_Id__c", title="Account External ID Field",
        description="The Account custom field marked External ID that holds the groupId.",
    )
    default_company: str = Field(
        "Unknown", title="Default Company", description="A Lead's Company (required by Salesforce) when traits give none.",
    )


def _headers(settings: Settings) -> dict[str, str]:
    if settings.access_token is None or settings.instance_url is None:
        raise not_connected("Salesforce")
    return bearer(settings.access_token)


def _upsert_url(settings: Settings, sobject: str, field: str, value: str) -> str:
    base = f"{settings.instance_url.rstrip('/')}/services/data/v{settings.api_version}/sobjects"
    return f"{base}/{sobject}/{quote(field, safe='')}/{quote(value, safe='')}"


def _scalars(values: dict, names: dict) -> dict:
    picked = {name: values.get(key) for key, name in names.items()}
    return {name: value for name, value in picked.items() if isinstance(value, (str, int, float, bool))}


def person_fields(traits: dict, settings: Settings) -> dict:
    """Reserved traits as Lead (or Contact) fields, with the LastName (and a Lead's Company) they require."""
    fields = {"LastName": _last_name(traits), **compact({
        name: trait(traits, camel, snake) for (camel, snake), name in PERSON_FIELDS.items()
    })}
    address = _scalars(obj(traits, "address"), ADDRESS_FIELDS)
    if settings.person_object == "Contact":
        return {**fields, **{MAILING[key]: value for key, value in address.items()}}
    company = traits.get("company")
    company_name = company.get("name") if isinstance(company, dict) else company
    lead = {"Company": company_name if isinstance(company_name, str) and company_name else settings.default_company}
    return {**fields, **address, **lead}


def _last_name(traits: dict) -> str:
    """LastName is required on Lead and Contact: the last word of `name`, else the email."""
    name = text(traits, "name")
    return (name.split()[-1] if name and name.split() else None) or text(traits, "email") or "[not provided]"


def identify(event: dict, settings: Settings) -> list[Request]:
    """identify: upsert the Lead or Contact whose external ID field holds the userId."""
    user_id = text(event, "userId")
    if user_id is None:
        return []  # an anonymous visitor is no lead
    headers = _headers(settings)
    url = _upsert_url(settings, settings.person_object, settings.external_id_field, user_id)
    return [json_request(url, person_fields(traits_of(event), settings), headers, method="PATCH")]


def group(event: dict, settings: Settings) -> list[Request]:
    """group: upsert the Account whose external ID field holds the groupId (Name defaults to it)."""
    group_id = require_group_id(event)
    headers, traits = _headers(settings), obj(event, "traits")
    fields = {"Name": group_id, **_scalars(traits, ACCOUNT_FIELDS)}
    address = _scalars(obj(traits, "address"), ADDRESS_FIELDS)
    fields.update({f"Billing{key}": value for key, value in address.items()})
    url = _upsert_url(settings, "Account", settings.account_external_id_field, group_id)
    return [json_request(url, fields, headers, method="PATCH")]


def interpret(status: int, body: bytes) -> str | None:
    """Salesforce's `[{"message": ..., "errorCode": ..., "fields": [...]}]`, else the plain body."""
    parsed = json_or_none(body)
    if isinstance(parsed, list):
        parts = [_error(item) for item in parsed if isinstance(item, dict) and isinstance(item.get("message"), str)]
        if parts:
            return "; ".join(parts)
    return error_text(body)


def _error(item: dict) -> str:
    code = item.get("errorCode")
    return f"{code}: {item['message']}" if isinstance(code, str) else item["message"]


METHODS = ("identify", "group")

DESTINATION = Destination(
    slug="salesforce",
    name="Salesforce",
    categories=("CRM",),
    description=(
        "The sales CRM. Identify creates or updates a lead (or contact) keyed by the user's id in "
        "an external ID field, with name, email, phone, title, company and address; group does "
        "the same for accounts. Connect with Log in to Salesforce through your own connected app."
    ),
    docs_url="https://developer.salesforce.com/docs/platform/api-rest/guide/dome-upsert.html",
    settings=Settings,
    translations={"identify": identify, "group": group},
    platforms=("browser", "mobile", "server"),
    presets=method_presets(METHODS),
    interpret=interpret,
    # Salesforce limits API calls per 24 h by edition and licences (no per-second figure): 0.
    rate_limit=0.0,
    oauth=OAuth(
        authorize_url="https://login.salesforce.com/services/oauth2/authorize",
        token_url="https://login.salesforce.com/services/oauth2/token",
        scopes=("api", "refresh_token"),
    ),
)
