"""What every part of the config store shares: records, the UNSET sentinel, change tracking and
the checks on names, texts and JSON values.

Records are frozen dataclasses copied out of ORM rows, so they outlive the session. Their
`to_json()` uses the field names as they are (snake_case) and ISO 8601 UTC times (`...Z`), and
leaves out the fields a record lists in `_hidden` (decrypted secrets).
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict
from datetime import datetime
from typing import Any, Iterable, Mapping

from segue.errors import ConfigError
from segue.store.models import utcnow

# Field names whose values never reach an audit event or a log line.
SECRET_FIELDS = frozenset({"secrets", "secret_settings", "write_key", "password", "password_hash", "token_hash"})


class Unset(enum.Enum):
    """The type of `UNSET`: "leave this field as it is" in update methods."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET = Unset.UNSET


class Record:
    """Base of the store's frozen dataclass records."""

    __slots__ = ()
    _hidden: tuple[str, ...] = ()

    @classmethod
    def from_row(cls, row: Any, **values: Any):
        """The record of `row`; `values` supply (or override) fields the row does not have."""
        fields = cls.__dataclass_fields__  # type: ignore[attr-defined]
        return cls(**{name: values[name] if name in values else getattr(row, name) for name in fields})

    def to_json(self) -> dict:
        """A JSON-ready dict; times in ISO 8601 UTC (`...Z`); hidden fields left out."""
        data = asdict(self)  # type: ignore[call-overload]
        for name in self._hidden:
            data.pop(name, None)
        return {name: iso(value) if isinstance(value, datetime) else value for name, value in data.items()}


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def given(**values: Any) -> dict[str, Any]:
    """The keyword arguments that are not UNSET."""
    return {name: value for name, value in values.items() if value is not UNSET}


def apply_changes(row: Any, values: Mapping[str, Any]) -> list[str]:
    """Set each value that differs on `row`; returns the changed names (and stamps updated_at)."""
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    for name in changed:
        setattr(row, name, values[name])
    if changed:
        row.updated_at = utcnow()
    return changed


def change_details(changed: Iterable[str], values: Mapping[str, Any]) -> dict:
    """Audit details of an update: the changed names plus their new values, secrets left out."""
    changed = list(changed)
    shown = {name: values[name] for name in changed if name not in SECRET_FIELDS and name in values}
    return {"changed": changed, **shown}


def require_text(value: Any, what: str, max_length: int, *, strip: bool = True) -> str:
    """`value` as a non-empty string of at most `max_length` characters; ConfigError otherwise."""
    if not isinstance(value, str):
        raise ConfigError(f"{what} must be a string")
    text = value.strip() if strip else value
    if not text or len(text) > max_length:
        raise ConfigError(f"{what} needs 1 to {max_length} characters, got {len(text)}")
    return text


MAX_FQL_CHARACTERS = 5 * 1024  # as segue.mapping.fql.MAX_CHARACTERS (the store sits below mapping)


def require_fql_text(value: Any, what: str) -> str:
    """A filter condition or mapping trigger: non-empty text of at most 5,120 characters."""
    return require_text(value, what, MAX_FQL_CHARACTERS)


def require_choice(value: Any, what: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(f"unknown {what} {value!r}; use one of: {', '.join(choices)}")
    return value


def require_json(value: Any, what: str, kind: type) -> Any:
    """`value` when it is a `kind` (dict or list) that JSON can hold; ConfigError otherwise."""
    if not isinstance(value, kind):
        raise ConfigError(f"{what} must be a JSON {'object' if kind is dict else 'array'}")
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise ConfigError(f"{what} must hold only JSON values: {error}") from error


def require_bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{what} must be true or false")
    return value


def validate(values: Mapping[str, Any], checks: Mapping[str, Any]) -> dict[str, Any]:
    """Each value passed through the check of its name (a function returning the clean value)."""
    return {name: checks[name](value) for name, value in values.items()}
