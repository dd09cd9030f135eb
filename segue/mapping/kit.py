"""Segment's mapping-kit: turn an event into an action's payload with `@` directives.

A mapping mixes raw JSON values with single-key directive objects (`{"@path": "$.userId"}`).
Resolving a directive may give UNDEFINED, which removes its key from the output (inside a list
it becomes null); null itself is kept. Directives follow `packages/core/src/mapping-kit` of
segmentio/action-destinations; docs/mappings.md lists each one and where Segue differs.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Mapping

from segue.mapping.errors import MappingError
from segue.mapping.kit_paths import UNDEFINED, get_path, render_template
from segue.mapping.kit_validate import directive_name, validate_mapping
from segue.mapping.values import is_number, js_string, to_json

__all__ = ["UNDEFINED", "MappingError", "map_event", "map_value", "validate_mapping"]
MAX_DATA_DEPTH = 64  # @flatten and @excludeWhenNull leave anything deeper as it is


def map_event(mapping: Mapping, event: Mapping) -> dict:
    """Validate `mapping` (MappingError) and apply it to `event`; a non-object result gives {}."""
    result = map_value(mapping, event)
    return result if isinstance(result, dict) else {}


def map_value(mapping: Any, event: Any) -> Any:
    """Validate and resolve any mapping value; may return UNDEFINED."""
    validate_mapping(mapping)
    return resolve(mapping, event)


def resolve(node: Any, data: Any) -> Any:
    """Resolve a (validated) mapping node against `data`."""
    if isinstance(node, Mapping):
        name = directive_name(node)
        if name is not None:
            return DIRECTIVES[name](node[name], data)
        resolved = ((key, resolve(value, data)) for key, value in node.items())
        return {key: value for key, value in resolved if value is not UNDEFINED}
    if isinstance(node, list):
        return [None if item is UNDEFINED else item for item in (resolve(v, data) for v in node)]
    return node


def _path(arg: Any, data: Any) -> Any:
    path = resolve(arg, data)
    return get_path(data, path) if isinstance(path, str) else UNDEFINED


def _template(arg: Any, data: Any) -> Any:
    template = resolve(arg, data)
    return render_template(template, data) if isinstance(template, str) else UNDEFINED


def _if(opts: Mapping, data: Any) -> Any:
    if "exists" in opts:
        value = resolve(opts["exists"], data)
        holds = value is not None and value is not UNDEFINED
    else:
        value = resolve(opts["blank"], data)
        holds = value is not None and value is not UNDEFINED and value != ""
    branch = "then" if holds else "else"
    return resolve(opts[branch], data) if branch in opts else UNDEFINED


def _array_path(args: list, data: Any) -> Any:
    path, shape = args[0], args[1] if len(args) > 1 else None
    root = get_path(data, path) if isinstance(path, str) else resolve(path, data)
    if not (isinstance(shape, Mapping) and shape and isinstance(root, (Mapping, list))):
        return root
    items = root if isinstance(root, list) else [root]
    return [_undefined_to_null(resolve(shape, item)) for item in items]


def _undefined_to_null(value: Any) -> Any:
    return None if value is UNDEFINED else value


def _case(opts: Mapping, data: Any) -> Any:
    value = resolve(opts["value"], data)
    if not isinstance(value, str):
        return value
    return value.lower() if opts["operator"] == "lower" else value.upper()


def _replace(opts: Mapping, data: Any) -> Any:
    value = resolve(opts["value"], data)
    if isinstance(value, bool) or is_number(value):
        value = js_string(value)
    if not isinstance(value, str):
        return ""  # as Segment does for null and missing values
    flags = (opts.get("ignorecase", False), opts.get("global", True))
    value = _replace_once(value, opts["pattern"], opts.get("replacement") or "", *flags)
    if opts.get("pattern2"):
        value = _replace_once(value, opts["pattern2"], opts.get("replacement2") or "", *flags)
    return value


def _replace_once(value: str, pattern: str, replacement: str, ignorecase: bool, every: bool) -> str:
    if not ignorecase:
        return value.replace(pattern, replacement, -1 if every else 1)
    return re.sub(re.escape(pattern), lambda _: replacement, value, count=0 if every else 1, flags=re.I)


def _json(opts: Mapping, data: Any) -> Any:
    value = resolve(opts["value"], data)
    if opts["mode"] == "encode":
        return _encode(value)
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return value  # not JSON: kept as the string it is


def _encode(value: Any) -> Any:
    if value is UNDEFINED:
        return UNDEFINED
    try:
        return to_json(value)
    except (TypeError, ValueError, RecursionError):
        return UNDEFINED


def _flatten(opts: Mapping, data: Any) -> Any:
    value = resolve(opts["value"], data)
    if value is UNDEFINED:
        return {}
    flat: dict = {}
    _flatten_into(flat, value, "", opts.get("separator", "."), bool(opts.get("omitArrays")), 0)
    return flat


def _flatten_into(flat: dict, value: Any, prefix: str, separator: str, omit_arrays: bool, depth: int) -> None:
    if isinstance(value, Mapping):
        entries = value.items()
    elif isinstance(value, list) and not omit_arrays:
        entries = ((str(index), item) for index, item in enumerate(value))
    else:
        flat[prefix] = value
        return
    if depth >= MAX_DATA_DEPTH:
        flat[prefix] = value
        return
    for key, item in entries:
        name = f"{prefix}{separator}{key}" if prefix else str(key)
        _flatten_into(flat, item, name, separator, omit_arrays, depth + 1)


def _merge(opts: Mapping, data: Any) -> dict:
    objects = [resolve(item, data) for item in opts["objects"]]
    if opts["direction"] == "left":
        objects.reverse()
    merged: dict = {}
    for item in objects:
        if isinstance(item, Mapping):
            merged.update(item)
    return merged


def _transform(opts: Mapping, data: Any) -> Any:
    applied = resolve(opts["apply"], data)
    return resolve(opts["mapping"], applied if applied is not UNDEFINED else {})


def _exclude_when_null(arg: Any, data: Any) -> Any:
    value = resolve(arg, data)
    return UNDEFINED if value is None else _drop_nulls(value, 0)


def _drop_nulls(value: Any, depth: int) -> Any:
    if not isinstance(value, Mapping) or depth >= MAX_DATA_DEPTH:
        return value
    return {key: _drop_nulls(item, depth + 1) for key, item in value.items() if item is not None}


DIRECTIVES: dict[str, Callable[[Any, Any], Any]] = {
    "@path": _path,
    "@template": _template,
    "@literal": resolve,
    "@if": _if,
    "@arrayPath": _array_path,
    "@case": _case,
    "@replace": _replace,
    "@json": _json,
    "@flatten": _flatten,
    "@merge": _merge,
    "@transform": _transform,
    "@excludeWhenNull": _exclude_when_null,
}
