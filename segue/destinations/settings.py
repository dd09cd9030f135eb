"""Helpers over a destination's settings model: validate, split secrets, mask, patch, describe.

The settings of a destination instance are stored in two halves: public values (plain JSON)
and secret values (encrypted at rest by the store). These helpers move between a validated
`DestinationSettings` instance and those halves, build the masked view the API and the app
show, and describe the model as Segment's catalog settings list and as a JSON schema.
"""

from __future__ import annotations

import collections.abc
import enum
import functools
import re
import types
import typing
from typing import Any, Mapping
from urllib.parse import urlsplit

from pydantic import AfterValidator, SecretStr, ValidationError
from pydantic.fields import FieldInfo

from segue.destinations.contract import DestinationSettings
from segue.errors import ConfigError

MASK = "••••"
MASK_TAIL_MIN_LENGTH = 12  # shorter secrets show no tail at all


class InvalidSettings(ConfigError):
    """Settings that do not fit the destination's settings model."""

    code = "invalid_settings"
    status = 400

    @classmethod
    def from_validation_error(cls, error: ValidationError) -> "InvalidSettings":
        """One message naming every field and rule; the same list in `details["errors"]`."""
        errors = [_error_entry(item) for item in error.errors(include_url=False, include_input=False)]
        parts = [_error_text(entry) for entry in errors]
        return cls("invalid settings: " + "; ".join(parts), details={"errors": errors})


def _error_entry(item: Mapping[str, Any]) -> dict:
    field = ".".join(str(part) for part in item.get("loc", ()))
    return {"field": field, "rule": item["type"], "message": item["msg"]}


def _error_text(entry: Mapping[str, str]) -> str:
    prefix = f"{entry['field']}: " if entry["field"] else ""
    return f"{prefix}{entry['message']} ({entry['rule']})"


def _check_http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an absolute http:// or https:// URL")
    return value


HttpUrlText = typing.Annotated[str, AfterValidator(_check_http_url)]
"""A plain `str` holding an absolute http(s) URL, kept byte for byte (no normalisation)."""


def _check_secret_http_url(value: SecretStr) -> SecretStr:
    _check_http_url(value.get_secret_value())
    return value


SecretHttpUrl = typing.Annotated[SecretStr, AfterValidator(_check_secret_http_url)]
"""A secret absolute http(s) URL: a webhook URL whose path carries its token."""


def validate_settings(model: type[DestinationSettings], values: Mapping) -> DestinationSettings:
    """A validated instance of `model`; InvalidSettings names each failing field and rule."""
    try:
        return model.model_validate(dict(values))
    except ValidationError as error:
        raise InvalidSettings.from_validation_error(error) from None


@functools.cache
def secret_names(model: type[DestinationSettings]) -> frozenset[str]:
    """Aliases of the fields typed `SecretStr` (or an optional `SecretStr`)."""
    return frozenset(_alias(name, info) for name, info in model.model_fields.items() if _is_secret(info))


def split_secrets(settings: DestinationSettings) -> tuple[dict, dict]:
    """(public values, secret values) keyed by alias, JSON-ready; absent secrets are left out."""
    secrets = secret_names(type(settings))
    dumped = settings.model_dump(mode="json", by_alias=True)
    public = {alias: value for alias, value in dumped.items() if alias not in secrets}
    secret_values = {}
    for name, info in type(settings).model_fields.items():
        value = getattr(settings, name)
        if _alias(name, info) in secrets and value is not None:
            secret_values[_alias(name, info)] = value.get_secret_value()
    return public, secret_values


def merge_settings(model: type[DestinationSettings], public: Mapping, secrets: Mapping) -> DestinationSettings:
    """Rebuild a validated instance from the stored public and secret halves."""
    return validate_settings(model, {**public, **secrets})


def mask(secret: str) -> str:
    """What the API shows instead of a secret: `••••` plus the last 2 chars of long secrets."""
    return MASK + secret[-2:] if len(secret) >= MASK_TAIL_MIN_LENGTH else MASK


def masked(model: type[DestinationSettings], public: Mapping, secrets: Mapping) -> dict:
    """The settings as the API shows them: public values as is, present secrets masked."""
    shown = {key: value for key, value in public.items() if key not in secret_names(model)}
    for alias in secret_names(model):
        if secrets.get(alias) is not None:
            shown[alias] = mask(str(secrets[alias]))
    return shown


def apply_update(
    model: type[DestinationSettings], public: Mapping, secrets: Mapping, changes: Mapping
) -> DestinationSettings:
    """PATCH semantics: `updated_values`, validated."""
    return validate_settings(model, updated_values(model, public, secrets, changes))


def updated_values(model: type[DestinationSettings], public: Mapping, secrets: Mapping, changes: Mapping) -> dict:
    """The stored values with `changes` applied, not yet validated.

    A secret sent back in its masked form keeps the stored secret; a `None` value removes
    the key (its default applies, or validation fails if it is required).
    """
    values = {**public, **secrets}
    aliases = _aliases_by_name(model)
    for key, new in changes.items():
        alias = aliases.get(key, key)
        if alias in secret_names(model) and _is_masked_echo(new, secrets.get(alias)):
            continue
        if new is None:
            values.pop(alias, None)
        else:
            values[alias] = new
    return values


def _is_masked_echo(new: Any, old: Any) -> bool:
    return isinstance(new, str) and old is not None and new == mask(str(old))


SETTING_TYPES = ("string", "password", "boolean", "number", "integer", "select", "array", "map")


def settings_fields(model: type[DestinationSettings]) -> list[dict]:
    """The catalog's settings list in Segment's shape, one entry per field, in model order."""
    return [_field_entry(name, info) for name, info in model.model_fields.items()]


def _field_entry(name: str, info: FieldInfo) -> dict:
    kind, choices = _kind(info.annotation)
    return {
        "name": _alias(name, info),
        "type": kind,
        "label": info.title or label_from_name(name),
        "description": info.description or "",
        "required": info.is_required(),
        "defaultValue": _default(info),
        "choices": choices,
        "secret": kind == "password",
    }


def json_schema(model: type[DestinationSettings]) -> dict:
    """Pydantic's JSON schema by alias (validation mode); secret properties are writeOnly."""
    schema = model.model_json_schema(by_alias=True, mode="validation")
    properties = schema.get("properties", {})
    for name, info in model.model_fields.items():
        entry = properties.get(_alias(name, info), {})
        entry["title"] = info.title or label_from_name(name)
        if _is_secret(info):
            entry["writeOnly"] = True
    return schema


_ACRONYMS = {"api": "API", "url": "URL", "id": "ID", "ip": "IP", "ssl": "SSL", "http": "HTTP", "io": "IO"}


def label_from_name(name: str) -> str:
    """`api_key` or `apiKey` -> `API Key`."""
    words = re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", name.replace("_", " "))
    return " ".join(_ACRONYMS.get(word.lower(), word.capitalize()) for word in words)


def _alias(name: str, info: FieldInfo) -> str:
    return info.alias or name


def _aliases_by_name(model: type[DestinationSettings]) -> dict[str, str]:
    return {name: _alias(name, info) for name, info in model.model_fields.items()}


def _is_secret(info: FieldInfo) -> bool:
    return _unwrap_optional(info.annotation) is SecretStr


def _unwrap_optional(annotation: Any) -> Any:
    """`X | None` -> X; anything else unchanged."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def _kind(annotation: Any) -> tuple[str, list | None]:
    """(setting type, choices) for a field annotation."""
    annotation = _unwrap_optional(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _kind(typing.get_args(annotation)[0])
    if origin is typing.Literal:
        return "select", list(typing.get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "select", [member.value for member in annotation]
    return _plain_kind(origin or annotation), None


def _plain_kind(annotation: Any) -> str:
    if annotation is SecretStr:
        return "password"
    if annotation is bool:
        return "boolean"
    if annotation is int:
        return "integer"
    if annotation is float:
        return "number"
    if annotation in (list, tuple, set, frozenset):
        return "array"
    if annotation in (dict, collections.abc.Mapping, typing.Mapping):
        return "map"
    return "string"


def _default(info: FieldInfo) -> Any:
    if info.is_required():
        return None
    value = info.get_default(call_default_factory=True)
    if isinstance(value, SecretStr):
        return None
    if isinstance(value, enum.Enum):
        return value.value
    return value
