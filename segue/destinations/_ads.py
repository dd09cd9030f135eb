"""Helpers shared by the server-side conversion APIs (Meta, TikTok, Pinterest, Reddit, Snap).

Each vendor documents how personal data is normalised before it is SHA-256 hashed; the
normalisers here are named after those rules and each vendor module picks its own per field.
Values that already are SHA-256 hex digests pass through unchanged (lower-cased), so callers
may send pre-hashed traits. Network and click identifiers (IP, user agent, click ids, cookies)
are never hashed. The product, value and page helpers read Segment's e-commerce spec.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any, Callable, Mapping

from segue.destinations.common import event_ms, first, number, obj, require_event_name, text, trait, traits_of
from segue.errors import InvalidMessage

Normaliser = Callable[[str], "str | None"]
Rule = tuple[str, Normaliser]  # (person key, normaliser)

SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
US_STATES = dict(pair.split(":") for pair in (
    "alabama:al alaska:ak arizona:az arkansas:ar california:ca colorado:co connecticut:ct delaware:de "
    "districtofcolumbia:dc florida:fl georgia:ga hawaii:hi idaho:id illinois:il indiana:in iowa:ia kansas:ks "
    "kentucky:ky louisiana:la maine:me maryland:md massachusetts:ma michigan:mi minnesota:mn mississippi:ms "
    "missouri:mo montana:mt nebraska:ne nevada:nv newhampshire:nh newjersey:nj newmexico:nm newyork:ny "
    "northcarolina:nc northdakota:nd ohio:oh oklahoma:ok oregon:or pennsylvania:pa rhodeisland:ri "
    "southcarolina:sc southdakota:sd tennessee:tn texas:tx utah:ut vermont:vt virginia:va washington:wa "
    "westvirginia:wv wisconsin:wi wyoming:wy"
).split())
GENDERS = {"m": "m", "male": "m", "man": "m", "f": "f", "female": "f", "woman": "f",
           "n": "n", "nonbinary": "n", "non-binary": "n"}
PHONE_EXTENSION = re.compile(r"(?i)\s*(?:ext\.?|x|#).*$")


def sha256_hex(value: str) -> str:
    """The lower-case hex SHA-256 digest of the UTF-8 text."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _raw(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    stripped = str(value).strip()
    return stripped or None


def hashed(value: Any, normalise: Normaliser) -> str | None:
    """SHA-256 of the normalised value; a value that is already a digest passes through."""
    raw = _raw(value)
    if raw is None:
        return None
    if SHA256_HEX.fullmatch(raw):
        return raw.lower()
    normal = normalise(raw)
    return sha256_hex(normal) if normal else None


def email(value: str) -> str:
    """Trimmed and lower-cased (Meta, TikTok, Pinterest, Snap)."""
    return value.strip().lower()


def reddit_email(value: str) -> str:
    """Reddit's canonical form: lower-cased, `+alias` dropped, only a-z0-9 left in the local part."""
    local, at, domain = value.strip().lower().partition("@")
    local = re.sub(r"[^a-z0-9]", "", local.split("+", 1)[0])
    return f"{local}{at}{domain}"


def phone_digits(value: str) -> str:
    """Digits only, leading zeros (and so a `00` international prefix) removed (Meta, Pinterest, Snap)."""
    return re.sub(r"\D", "", value).lstrip("0")


def phone_e164(value: str) -> str | None:
    """`+` then the digits, extension and leading zeros removed (TikTok, Reddit)."""
    digits = phone_digits(PHONE_EXTENSION.sub("", value))
    return f"+{digits}" if digits else None


def lower_trim(value: str) -> str:
    """Trimmed and lower-cased (names at Pinterest and Snap)."""
    return value.strip().lower()


def meta_name(value: str) -> str:
    """Lower-case without punctuation; accented letters kept as UTF-8 (Meta names)."""
    kept = "".join(char for char in value.lower() if not unicodedata.category(char).startswith("P"))
    return kept.strip()


def city(value: str) -> str:
    """Lower-case letters and digits only: no spaces, no punctuation."""
    return "".join(char for char in value.lower() if char.isalnum())


def state(value: str) -> str:
    """Two-letter lower-case code; US state names become their ANSI code, others are compacted."""
    compacted = city(value)
    return US_STATES.get(compacted, compacted)


def zip_code(value: str) -> str:
    """Lower-case without spaces or dashes; a US ZIP+4 keeps its first 5 digits (Meta, Snap)."""
    compacted = re.sub(r"[\s-]", "", value.lower())
    return compacted[:5] if re.fullmatch(r"\d{9}", compacted) else compacted


def zip_digits(value: str) -> str:
    """Digits only (Pinterest)."""
    return re.sub(r"\D", "", value)


def country(value: str) -> str | None:
    """A lower-case ISO 3166-1 alpha-2 code; anything else (a country name) is left out."""
    code = city(value)
    return code if len(code) == 2 and code.isalpha() else None


def gender(value: str) -> str | None:
    """`m` or `f` from the usual spellings, else nothing."""
    code = GENDERS.get(value.strip().lower())
    return code if code in ("m", "f") else None


def gender_mfn(value: str) -> str | None:
    """`m`, `f` or `n` (non-binary) from the usual spellings, else nothing (Pinterest)."""
    return GENDERS.get(value.strip().lower())


def birthday(value: str) -> str | None:
    """YYYYMMDD from an ISO-8601 date or date-time, else nothing."""
    match = re.match(r"(\d{4})-?(\d{2})-?(\d{2})", value.strip())
    return "".join(match.groups()) if match else None


def trimmed(value: str) -> str:
    """Trimmed, case kept: what no vendor normalises further (advertiser ids, advertising ids)."""
    return value.strip()


def person(event: Mapping) -> dict:
    """The raw customer information of an event: reserved traits and the user's id."""
    traits = traits_of(event)
    address = obj(traits, "address")
    return {
        "email": trait(traits, "email"), "phone": trait(traits, "phone"),
        "first_name": trait(traits, "firstName", "first_name"), "last_name": trait(traits, "lastName", "last_name"),
        "gender": trait(traits, "gender"), "birthday": trait(traits, "birthday"),
        "city": address.get("city"), "state": address.get("state"),
        "zip": trait(address, "postalCode", "postal_code"), "country": address.get("country"),
        "external_id": text(event, "userId") or text(event, "anonymousId"),
    }


def hashed_fields(values: Mapping, rules: Mapping[str, Rule]) -> dict[str, str]:
    """Vendor field -> digest, for each rule whose value is present and normalises to something."""
    digests = {field: hashed(values.get(key), normalise) for field, (key, normalise) in rules.items()}
    return {field: digest for field, digest in digests.items() if digest}


def option(event: Mapping, destination: str, key: str) -> str | None:
    """A per-event value from `integrations.<destination>.<key>`, else `context.<key>` (click ids, cookies)."""
    return text(obj(obj(event, "integrations"), destination), key) or text(event, f"context.{key}")


def event_time_ms(event: Mapping) -> int:
    """The event's `timestamp` in epoch milliseconds; every conversion API requires one."""
    ms = event_ms(event)
    if ms is None:
        raise InvalidMessage("a conversion event needs a timestamp", code="missing_field")
    return ms


def page_url(event: Mapping) -> str | None:
    """The URL of the page the event happened on."""
    return text(event, "context.page.url") or text(event, "properties.url")


def standard_event(event: Mapping, track_names: Mapping[str, str], page_name: str | None) -> str | None:
    """The vendor's standard event for a track (by Segment event name) or page call, else None."""
    if event.get("type") == "page":
        return page_name
    return track_names.get(require_event_name(event))


def product_id(product: Mapping) -> str | None:
    """A product's id under Segment's spellings."""
    return text(product, "product_id") or text(product, "productId") or text(product, "sku") or text(product, "id")


def products(properties: Mapping) -> list[dict]:
    """`properties.products` with an id, else the product the properties describe (product events)."""
    items = properties.get("products")
    if isinstance(items, list):
        return [dict(item) for item in items if isinstance(item, Mapping) and product_id(item)]
    return [dict(properties)] if product_id(properties) else []


def quantity(product: Mapping) -> int:
    """A product's positive integer quantity, 1 when absent or invalid."""
    value = number(product, "quantity")
    return value if isinstance(value, int) and value > 0 else 1


def value(properties: Mapping) -> int | float | None:
    """The conversion value: `value`, else `revenue`, `total`, `price`."""
    return first(number(properties, key) for key in ("value", "revenue", "total", "price"))


def currency(properties: Mapping, amount: Any) -> str | None:
    """ISO-4217 currency upper-cased; USD (Segment's default) when a value has none."""
    code = text(properties, "currency")
    return code.upper() if code else ("USD" if amount is not None else None)


