"""JSON value helpers shared by FQL and mapping-kit: kinds, strict equality, JS-style strings."""

from __future__ import annotations

import json
import math
from typing import Any, Mapping


def kind(value: Any) -> str:
    """FQL's type name: "null", "bool", "number", "string", "list" or "object"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "list"
    return "object"


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def strict_equal(left: Any, right: Any) -> bool:
    """Same kind and equal; `1 == 1.0`, but `true != 1`; lists and objects compare deeply."""
    left_kind = kind(left)
    if left_kind != kind(right):
        return False
    if left_kind == "list":
        return len(left) == len(right) and all(strict_equal(a, b) for a, b in zip(left, right))
    if left_kind == "object" and isinstance(left, Mapping) and isinstance(right, Mapping):
        return left.keys() == right.keys() and all(strict_equal(left[k], right[k]) for k in left)
    return left == right


def js_number(value: float | int) -> str:
    """A number as JavaScript's String() writes it: `1.0` is "1", `0.5` is "0.5"."""
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def js_string(value: Any) -> str:
    """JavaScript's String(value): arrays join with ",", objects are "[object Object]"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_number(value):
        return js_number(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return ",".join("" if item is None else js_string(item) for item in value)
    return "[object Object]"


def _js_numbers(value: Any) -> Any:
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return int(value) if value.is_integer() and abs(value) < 1e21 else value
    if isinstance(value, (list, tuple)):
        return [_js_numbers(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _js_numbers(item) for key, item in value.items()}
    return value


def to_json(value: Any, sort_keys: bool = False) -> str:
    """Compact JSON the way JSON.stringify writes it (integral floats without ".0")."""
    return json.dumps(
        _js_numbers(value), separators=(",", ":"), ensure_ascii=False, default=str, sort_keys=sort_keys
    )
