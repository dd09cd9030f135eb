"""Mapping-kit paths (`$.properties.products[0].name`) and `{{placeholder}}` templates."""

from __future__ import annotations

import re
from typing import Any, Mapping

from segue.mapping.values import js_string


class _Undefined:
    """JavaScript's `undefined`: a value that removes its key from the mapped output."""

    _instance = None

    def __new__(cls) -> "_Undefined":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNDEFINED"

    def __bool__(self) -> bool:
        return False


UNDEFINED: Any = _Undefined()
ROOTS = frozenset({"", ".", "$", "$."})
KEY = re.compile(r"[^\[.\]]+")
PLACEHOLDER = re.compile(r"\{\{\{([^}]+)\}\}\}|\{\{([^}]+)\}\}")


def path_keys(path: str) -> list[str]:
    """`$.a.b[0]` as ["a", "b", "0"]: `$.` is optional, keys may hold spaces, `""` is the root."""
    if path in ROOTS:
        return []
    if path.startswith("$."):
        path = path[2:]
    return KEY.findall(path)


def get_path(data: Any, path: str) -> Any:
    """The value at `path` in `data`, or UNDEFINED when any step is missing."""
    value = data
    for key in path_keys(path):
        value = _step(value, key)
        if value is UNDEFINED:
            break
    return value


def _step(value: Any, key: str) -> Any:
    if isinstance(value, Mapping):
        return value.get(key, UNDEFINED)
    if isinstance(value, (list, tuple)) and key.isascii() and key.isdigit():
        index = int(key)
        return value[index] if index < len(value) else UNDEFINED
    return UNDEFINED


def render_template(template: str, data: Any) -> str:
    """Replace each `{{path}}` (or `{{{path}}}`) with the value there, as JavaScript's String()
    writes it; missing and null values become "". Substituted text is never expanded again."""
    return PLACEHOLDER.sub(lambda match: _placeholder(match, data), template)


def _placeholder(match: re.Match, data: Any) -> str:
    value = get_path(data, (match.group(1) or match.group(2)).strip())
    return "" if value is None or value is UNDEFINED else js_string(value)
