"""Evaluating an FQL tree against an event, null-safely and without ever raising.

A missing field is null. `=` is true when both sides have the same type and are equal; `!=` is
its negation; `< <= > >=` compare numbers only and are false otherwise; `in` asks whether a list
holds the left side. `and` and `or` take only `true` as true. `contains()` and `match()` give
null (not false) when an argument is not a string, and `!` of anything that is not a boolean is
null, so `!contains(missing, 'js')` is not true either: a condition on a field that is absent or
not a string never matches, negated or not (Segment's `not_contains` works the same way).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping

from segue.mapping.fql_ast import (
    And,
    Call,
    Compare,
    Expression,
    ListLiteral,
    Literal,
    Not,
    Or,
    Path,
)
from segue.mapping.glob import glob_match
from segue.mapping.values import is_number, js_string, kind, strict_equal, to_json

NUMBER = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*")
FALSE_STRINGS = frozenset({"", "false", "0"})


def evaluate(expr: Expression, event: Mapping) -> bool:
    """True only when the condition holds for `event`."""
    return value_of(expr, event) is True


def value_of(expr: Expression, event: Mapping) -> Any:
    """The JSON value an expression stands for (booleans for conditions)."""
    return _EVALUATORS[type(expr)](expr, event)


def lookup(event: Any, segments: tuple[str, ...]) -> Any:
    """The value at a field path; null when any step is missing (digits index lists)."""
    value = event
    for segment in segments:
        if isinstance(value, Mapping):
            value = value.get(segment)
        elif isinstance(value, (list, tuple)) and segment.isascii() and segment.isdigit():
            index = int(segment)
            value = value[index] if index < len(value) else None
        else:
            return None
    return value


def _compare(expr: Compare, event: Mapping) -> bool:
    left, right = value_of(expr.left, event), value_of(expr.right, event)
    if expr.op == "=":
        return strict_equal(left, right)
    if expr.op == "!=":
        return not strict_equal(left, right)
    if expr.op == "in":
        return isinstance(right, (list, tuple)) and any(strict_equal(left, item) for item in right)
    if not (is_number(left) and is_number(right)):
        return False
    return _ORDER[expr.op](left, right)


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def _not(expr: Not, event: Mapping) -> bool | None:
    value = value_of(expr.operand, event)
    return not value if isinstance(value, bool) else None


def _and(expr: And, event: Mapping) -> bool:
    return all(value_of(operand, event) is True for operand in expr.operands)


def _or(expr: Or, event: Mapping) -> bool:
    return any(value_of(operand, event) is True for operand in expr.operands)


def _call(expr: Call, event: Mapping) -> Any:
    return FUNCTIONS[expr.name](*(value_of(arg, event) for arg in expr.args))


_EVALUATORS: dict[type, Callable[[Any, Mapping], Any]] = {
    Literal: lambda expr, event: expr.value,
    ListLiteral: lambda expr, event: list(expr.values),
    Path: lambda expr, event: lookup(event, expr.segments),
    Compare: _compare,
    Not: _not,
    And: _and,
    Or: _or,
    Call: _call,
}


def _strings(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A function of strings that gives null when any argument is not a string."""
    return lambda *args: fn(*args) if all(isinstance(arg, str) for arg in args) else None


def _length(value: Any) -> int | None:
    if value is None:
        return 0
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))  # bytes, as Segment counts
    return len(value) if isinstance(value, (list, tuple)) else None


def _titlecase(text: str) -> str:
    return re.sub(r"(^|\s)(\S)", lambda m: m.group(1) + m.group(2).upper(), text)


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in FALSE_STRINGS
    if is_number(value):
        return value != 0
    return bool(value)


def _string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if kind(value) in ("list", "object"):
        try:
            return to_json(value)
        except (TypeError, ValueError, RecursionError):
            return js_string(value)
    return js_string(value)


def _number(value: Any) -> int | float | None:
    if is_number(value):
        return value
    if not isinstance(value, str) or not NUMBER.fullmatch(value):
        return None
    number = float(value)
    if number in (float("inf"), float("-inf")):
        return None
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "contains": _strings(lambda text, part: part in text),
    "match": _strings(glob_match),
    "length": _length,
    "lowercase": _strings(str.lower),
    "uppercase": _strings(str.upper),
    "snakecase": _strings(lambda text: re.sub(r"\s", "_", text)),
    "kebabcase": _strings(lambda text: re.sub(r"\s", "-", text)),
    "titlecase": _strings(_titlecase),
    "typeof": kind,
    "bool": _bool,
    "string": _string,
    "number": _number,
}
