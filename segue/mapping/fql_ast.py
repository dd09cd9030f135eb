"""The FQL syntax tree (frozen dataclasses) and `render`, which writes a tree back as FQL text.

`parse(render(tree)) == tree` for every tree the parser builds.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from segue.mapping.fql_lexer import IDENT_CHARS, IDENT_START, KEYWORDS


class Expression:
    """Base of every node."""

    __slots__ = ()


@dataclass(frozen=True)
class Literal(Expression):
    value: str | int | float | bool | None


@dataclass(frozen=True)
class ListLiteral(Expression):
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Path(Expression):
    segments: tuple[str, ...]


@dataclass(frozen=True)
class Call(Expression):
    name: str
    args: tuple[Expression, ...]


@dataclass(frozen=True)
class Compare(Expression):
    op: str  # = != < <= > >= in
    left: Expression
    right: Expression


@dataclass(frozen=True)
class Not(Expression):
    operand: Expression


@dataclass(frozen=True)
class And(Expression):
    operands: tuple[Expression, ...]


@dataclass(frozen=True)
class Or(Expression):
    operands: tuple[Expression, ...]


def render(expr: Expression) -> str:
    """FQL text for `expr`, with parentheses wherever precedence needs them."""
    if isinstance(expr, Literal):
        return render_value(expr.value)
    if isinstance(expr, ListLiteral):
        return "[" + ", ".join(render_value(value) for value in expr.values) + "]"
    if isinstance(expr, Path):
        return render_path(expr.segments)
    if isinstance(expr, Call):
        return f"{expr.name}(" + ", ".join(render(arg) for arg in expr.args) + ")"
    if isinstance(expr, Compare):
        return f"{_wrap(expr.left, OPERATIONS)} {expr.op} {_wrap(expr.right, OPERATIONS)}"
    if isinstance(expr, Not):
        return "!" + _wrap(expr.operand, OPERATIONS)
    word = " and " if isinstance(expr, And) else " or "
    return word.join(_wrap(operand, (And, Or)) for operand in expr.operands)


OPERATIONS = (Compare, Not, And, Or)


def _wrap(expr: Expression, kinds: tuple[type, ...]) -> str:
    """`expr` in parentheses when it is one of `kinds` (where precedence or clarity needs them)."""
    text = render(expr)
    return f"({text})" if isinstance(expr, kinds) else text


def render_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = format(Decimal(repr(value)), "f")
        return text if "." in text else text + ".0"
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def render_path(segments: tuple[str, ...]) -> str:
    parts = [_escape(segment) for segment in segments]
    first = segments[0]
    if first and (first[0] not in IDENT_START or (len(segments) == 1 and first in KEYWORDS)):
        parts[0] = "\\" + first[0] + _escape(first[1:])  # a digit, '-' or keyword cannot start a path
    return ".".join(parts)


def _escape(segment: str) -> str:
    return "".join(char if char in IDENT_CHARS else "\\" + char for char in segment)
