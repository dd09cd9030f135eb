"""Destination Filters (spec 4.6): drop, sample or trim events before a destination gets them.

A filter is `{"title", "if": FQL, "actions": [...], "enabled": bool}`. Every enabled filter whose
condition matches the event contributes its actions, which run in Segment's order whatever the
filters' order: SAMPLE, then DROP, then DROP_PROPERTIES, then ALLOW_PROPERTIES.

    {"type": "DROP"}
    {"type": "SAMPLE", "percent": 0.1, "path": "userId"}     keep 10%; by userId when path is set
    {"type": "DROP_PROPERTIES", "fields": {"": ["userId"], "properties": ["email"]}}
    {"type": "ALLOW_PROPERTIES", "fields": {"properties": ["plan", "total"]}}

In `fields`, "" is the top level and any other key is a dotted path to an object. A filter that
cannot be understood (bad FQL, malformed actions) drops the event: filters fail closed.
"""

from __future__ import annotations

import hashlib
from typing import Any, Callable, Iterator, Mapping, Sequence

from segue.mapping.errors import FQLError
from segue.mapping.fql import compile as compile_fql
from segue.mapping.fql import lookup
from segue.mapping.values import is_number, to_json

DROP, SAMPLE, DROP_PROPERTIES, ALLOW_PROPERTIES = "DROP", "SAMPLE", "DROP_PROPERTIES", "ALLOW_PROPERTIES"
ACTION_TYPES = (SAMPLE, DROP, DROP_PROPERTIES, ALLOW_PROPERTIES)  # also the order they run in
ALWAYS_KEPT = frozenset({"type", "messageId"})  # ALLOW_PROPERTIES on the top level keeps these
Sampler = Callable[[Mapping, "str | None"], float]


def apply_filters(filters: Sequence[Mapping], event: dict, sample: Sampler) -> tuple[dict | None, str | None]:
    """(the event to send, None), or (None, why it was dropped). `event` is never changed.

    `sample(filter, None)` supplies a number in [0, 1) for SAMPLE actions without a path; with
    a path, the number is a hash of the value there, so one value is always kept or always not.
    """
    matched = []
    for item in filters:
        if item.get("enabled", True) is False:
            continue
        problem = _problem(item)
        if problem is not None:
            return None, f"filter {_title(item)!r}: {problem}, so the event is dropped"
        if compile_fql(item["if"])(event):
            matched.append(item)
    for item, action in _actions(matched, SAMPLE):
        if _sampled_out(item, action, event, sample):
            return None, f"filter {_title(item)!r}: {SAMPLE}"
    for item, _action in _actions(matched, DROP):
        return None, f"filter {_title(item)!r}: {DROP}"
    return _trimmed(matched, event), None


def _title(item: Mapping) -> str:
    return str(item.get("title") or item.get("name") or "untitled")


def _problem(item: Mapping) -> str | None:
    """Why a filter cannot be applied, or None."""
    condition = item.get("if")
    if not isinstance(condition, str):
        return "its condition is not FQL text"
    try:
        compile_fql(condition)
    except FQLError as error:
        return error.message
    actions = item.get("actions")
    if not isinstance(actions, (list, tuple)) or not actions:
        return "it has no actions"
    return next((found for found in map(_action_problem, actions) if found), None)


def _action_problem(action: Any) -> str | None:
    kind = action.get("type") if isinstance(action, Mapping) else None
    if kind not in ACTION_TYPES:
        return f"unknown action type {kind!r}"
    if kind == SAMPLE:
        percent, path = action.get("percent"), action.get("path")
        if not (is_number(percent) and 0 <= percent <= 1):
            return "a SAMPLE action needs a percent between 0 and 1"
        if path is not None and not (isinstance(path, str) and path):
            return "a SAMPLE action's path must be a field path"
    if kind in (DROP_PROPERTIES, ALLOW_PROPERTIES) and not _valid_fields(action.get("fields")):
        return f'a {kind} action needs fields such as {{"properties": ["email"]}}'
    return None


def _valid_fields(fields: Any) -> bool:
    return isinstance(fields, Mapping) and all(
        isinstance(key, str) and isinstance(names, (list, tuple)) and all(isinstance(n, str) for n in names)
        for key, names in fields.items()
    )


def _actions(matched: list[Mapping], kind: str) -> Iterator[tuple[Mapping, Mapping]]:
    for item in matched:
        for action in item["actions"]:
            if action["type"] == kind:
                yield item, action


def _sampled_out(item: Mapping, action: Mapping, event: Mapping, sample: Sampler) -> bool:
    path = action.get("path")
    draw = hash_unit(lookup(event, tuple(path.split(".")))) if path else sample(item, None)
    return not draw < action["percent"]


def hash_unit(value: Any) -> float:
    """A number in [0, 1) that depends only on `value` (SHA-256 of its canonical JSON)."""
    try:
        text = to_json(value, sort_keys=True)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _trimmed(matched: list[Mapping], event: dict) -> dict:
    for _item, action in _actions(matched, DROP_PROPERTIES):
        for where, names in action["fields"].items():
            event = _edit(event, where, lambda obj, names=names: _without(obj, names))
    for _item, action in _actions(matched, ALLOW_PROPERTIES):
        for where, names in action["fields"].items():
            event = _edit(event, where, lambda obj, names=names, top=not where: _only(obj, names, top))
    return event


def _without(obj: Mapping, names: Sequence[str]) -> Mapping:
    if not any(name in obj for name in names):
        return obj
    return {key: value for key, value in obj.items() if key not in names}


def _only(obj: Mapping, names: Sequence[str], top: bool) -> Mapping:
    kept = set(names) | (ALWAYS_KEPT if top else set())
    if all(key in kept for key in obj):
        return obj
    return {key: value for key, value in obj.items() if key in kept}


def _edit(event: Any, where: str, change: Callable[[Mapping], Mapping]) -> Any:
    """`event` with the object at dotted path `where` replaced by `change(object)`; objects along
    the path are copied only when something under them changes, and the input is never mutated."""
    return _edit_at(event, where.split(".") if where else [], change)


def _edit_at(node: Any, keys: list[str], change: Callable[[Mapping], Mapping]) -> Any:
    if not isinstance(node, Mapping):
        return node
    if not keys:
        return change(node)
    child = node.get(keys[0])
    changed = _edit_at(child, keys[1:], change)
    if changed is child:
        return node
    return {**node, keys[0]: changed}
