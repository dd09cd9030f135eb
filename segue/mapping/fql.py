"""Segment's Filter Query Language (FQL): Destination Filter conditions and Actions triggers.

    >>> matches = compile("type = 'track' and match(event, 'Order *')")
    >>> matches({"type": "track", "event": "Order Completed"})
    True

No maintained Python implementation of FQL exists (Segment's own is closed Go; `@segment/fql-ts`
is a lexer only, and `destination-subscriptions` handles a subset), so this is a small
hand-written lexer (`fql_lexer`), recursive-descent parser (`fql_parser`), evaluator
(`fql_eval`) and renderer (`fql_ast.render`). The language and its choices are described in
docs/mappings.md.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable, Mapping

from segue.mapping.errors import FQLError
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
    render,
)
from segue.mapping.fql_eval import FUNCTIONS, evaluate, lookup, value_of
from segue.mapping.fql_parser import ARITY, MAX_CHARACTERS, parse_text

__all__ = [
    "ARITY", "And", "Call", "Compare", "Expression", "FQLError", "FUNCTIONS", "ListLiteral", "Literal",
    "MAX_CHARACTERS", "Not", "Or", "Path", "compile", "evaluate", "lookup", "parse", "render", "value_of",
]


def parse(text: str) -> Expression:
    """The syntax tree of an FQL condition; FQLError (code `invalid_fql`) when it is not valid."""
    if not isinstance(text, str):
        raise FQLError(f"an FQL condition must be a string, got {type(text).__name__}")
    return parse_text(text)


@lru_cache(maxsize=1024)
def compile(text: str) -> Callable[[Mapping], bool]:  # noqa: A001 - the natural name here
    """A predicate for `text`, cached by text; raises FQLError like `parse`."""
    expr = parse(text)
    return lambda event: evaluate(expr, event)
