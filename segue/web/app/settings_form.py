"""Connection-settings forms generated from a settings model (destinations and warehouses alike).

`form_fields` turns `settings_fields(model)` plus the instance's masked values into what the
template draws; `submitted_values` turns the POSTed form back into the values the control
plane validates. Secrets are password inputs that start empty: left empty, the stored secret
is kept; the page only ever shows its mask. Lists are one item per line, maps JSON objects.
"""

from __future__ import annotations

import json
from typing import Any, Collection, Mapping

from segue.control.settings import names_and_aliases
from segue.destinations.settings import InvalidSettings, settings_fields, validate_settings
from segue.web.app.render import checkbox

PREFIX = "setting."  # form field names: setting.<alias>, apart from the form's own fields


def form_fields(model: type, shown: Mapping[str, Any] | None = None, typed: Mapping[str, str] | None = None,
                only: Collection[str] | None = None) -> list[dict]:
    """Each field (of `only`, when given: a device-mode instance's) with the text its input
    shows: the typed-in value after a failed save, else the stored (masked) value, else its
    default."""
    shown, typed = shown or {}, typed or {}
    fields = []
    for field in _fields(model, only):
        name = field["name"]
        stored = shown.get(name, field["defaultValue"])
        fields.append({
            **field, "input": PREFIX + name, "mask": shown.get(name) if field["secret"] else None,
            "text": "" if field["secret"] else typed.get(PREFIX + name, _as_text(field["type"], stored)),
            "checked": checkbox(typed, PREFIX + name) if typed else bool(stored),
        })
    return fields


def _fields(model: type, only: Collection[str] | None) -> list[dict]:
    fields = settings_fields(model)
    if only is None:
        return fields
    wanted = names_and_aliases(model, only)
    return [field for field in fields if field["name"] in wanted]


def _as_text(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == "array":
        return "\n".join(str(item) for item in value)
    if kind == "map":
        return json.dumps(value, indent=2) if value else ""
    return str(value)


def submitted_values(model: type, posted: Mapping[str, str], only: Collection[str] | None = None) -> dict:
    """The settings in the POSTed form (of `only`'s fields, when given; the others keep their
    stored values): empty secrets are left out (kept as stored), other empty fields become None
    (their default applies, or a required one is reported missing)."""
    values: dict[str, Any] = {}
    problems = []
    for field in _fields(model, only):
        raw = posted.get(PREFIX + field["name"], "")
        if field["secret"] and not raw:
            continue
        try:
            values[field["name"]] = _parsed(field["type"], raw, checkbox(posted, PREFIX + field["name"]))
        except ValueError as error:
            problems.append({"field": field["name"], "rule": "invalid_format", "message": str(error)})
    if problems:
        raise InvalidSettings("invalid settings", details={"errors": problems + _other_problems(model, values)})
    return values


def _other_problems(model: type, values: Mapping) -> list[dict]:
    """The rest of the form's invalid values, so that one save reports them all at once
    (missing ones aside: the stored settings may fill those in)."""
    try:
        validate_settings(model, {name: value for name, value in values.items() if value is not None})
    except InvalidSettings as error:
        return [problem for problem in error.details["errors"] if problem["rule"] != "missing"]
    return []


def _parsed(kind: str, raw: str, checked: bool) -> Any:
    if kind == "boolean":
        return checked
    if not raw.strip():
        return None
    if kind == "integer":
        return _number(int, raw)
    if kind == "number":
        return _number(float, raw)
    if kind == "array":
        return [line.strip() for line in raw.splitlines() if line.strip()]
    if kind == "map":
        return _json_object(raw)
    return raw.strip()


def _number(kind: type, raw: str) -> Any:
    try:
        return kind(raw.strip())
    except ValueError:
        raise ValueError(f"must be a{'n integer' if kind is int else ' number'}") from None


def _json_object(raw: str) -> dict:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValueError(f"must be a JSON object, such as {{\"name\": \"value\"}} ({error.msg})") from None
    if not isinstance(value, dict):
        raise ValueError("must be a JSON object, such as {\"name\": \"value\"}")
    return value


def errors_by_field(error: InvalidSettings) -> dict[str, str]:
    """Field alias -> the message to show beside it (settings-wide ones under "")."""
    messages: dict[str, str] = {}
    for problem in error.details.get("errors", []):
        name = problem["field"].split(".")[0]
        text = "This field is required." if problem["rule"] == "missing" else problem["message"]
        messages.setdefault(name, text)
    return messages
