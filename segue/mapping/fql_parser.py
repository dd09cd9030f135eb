"""A recursive-descent parser from FQL tokens to the syntax tree.

    expression := and ("or" and)*
    and        := not ("and" not)*
    not        := "!" not | comparison
    comparison := operand (("=" | "!=" | "<" | "<=" | ">" | ">=" | "in") operand)?
    operand    := literal | list | path | call | "(" expression ")"
    list       := "[" (literal ("," literal)*)? "]"
    call       := name "(" (expression ("," expression)*)? ")"

`!` binds looser than a comparison, as `not` does in Python: `!a = 1` means `!(a = 1)`.
Comparisons do not chain. Nesting (parentheses, `!`, call arguments) is limited to 64 levels.
"""

from __future__ import annotations

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
from segue.mapping.fql_lexer import Token, error, tokenize

MAX_CHARACTERS = 5 * 1024  # Segment: FQL up to 5 KB; counted in characters, as JSON Schema counts
MAX_DEPTH = 64
ARITY = {
    "contains": 2, "match": 2, "length": 1, "lowercase": 1, "uppercase": 1, "snakecase": 1,
    "kebabcase": 1, "titlecase": 1, "typeof": 1, "bool": 1, "string": 1, "number": 1,
}
KEYWORD_VALUES = {"true": True, "false": False, "null": None}


def parse_text(text: str) -> Expression:
    """The tree for `text`; FQLError (naming the position and what was expected) otherwise."""
    if len(text) > MAX_CHARACTERS:
        raise error(0, f"a condition may hold at most {MAX_CHARACTERS} characters")
    return _Parser(tokenize(text)).parse()


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at(self, kind: str, value: object = None) -> bool:
        return self.token.kind == kind and (value is None or self.token.value == value)

    def expect(self, kind: str, what: str) -> Token:
        if not self.at(kind):
            raise self.unexpected(what)
        return self.advance()

    def unexpected(self, what: str):
        return error(self.token.pos, f"expected {what}, found {self.token.describe()}")

    def parse(self) -> Expression:
        if self.at("eof"):
            raise self.unexpected("a condition")
        expr = self.expression()
        if not self.at("eof"):
            raise self.unexpected("'and', 'or' or the end of the condition")
        return expr

    def expression(self) -> Expression:
        operands = [self.conjunction()]
        while self.at("keyword", "or"):
            self.advance()
            operands.append(self.conjunction())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def conjunction(self) -> Expression:
        operands = [self.negation()]
        while self.at("keyword", "and"):
            self.advance()
            operands.append(self.negation())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def negation(self) -> Expression:
        if not self.at("!"):
            return self.comparison()
        self.enter(self.advance())
        operand = self.negation()
        self.depth -= 1
        return Not(operand)

    def comparison(self) -> Expression:
        left = self.operand()
        if self.at("op") or self.at("keyword", "in"):
            op = self.advance().value
            return Compare(op, left, self.operand())
        return left

    def operand(self) -> Expression:
        token = self.token
        if token.kind in ("string", "number"):
            return Literal(self.advance().value)
        if token.kind == "keyword" and token.value in KEYWORD_VALUES:
            return Literal(KEYWORD_VALUES[self.advance().value])
        if token.kind == "[":
            return self.list_literal()
        if token.kind == "(":
            return self.group()
        if token.kind == "path":
            return self.call() if self.tokens[self.index + 1].kind == "(" else Path(self.advance().value)
        raise self.unexpected("a value, a field, a function or '('")

    def list_literal(self) -> ListLiteral:
        self.advance()
        values = []
        while not self.at("]"):
            if values:
                self.expect(",", "',' or ']'")
            values.append(self.literal_value())
        self.advance()
        return ListLiteral(tuple(values))

    def literal_value(self) -> object:
        token = self.token
        if token.kind in ("string", "number"):
            return self.advance().value
        if token.kind == "keyword" and token.value in KEYWORD_VALUES:
            return KEYWORD_VALUES[self.advance().value]
        raise self.unexpected("a string, a number, true, false or null in the list")

    def group(self) -> Expression:
        self.enter(self.advance())
        expr = self.expression()
        self.expect(")", "')'")
        self.depth -= 1
        return expr

    def call(self) -> Call:
        token = self.advance()
        name = ".".join(token.value)
        if name not in ARITY:
            raise error(token.pos, f"unknown function {name!r}; expected one of {', '.join(ARITY)}")
        self.enter(self.advance())
        args = self.arguments()
        self.depth -= 1
        if len(args) != ARITY[name]:
            raise error(token.pos, f"{name}() takes {ARITY[name]} argument(s), got {len(args)}")
        return Call(name, tuple(args))

    def arguments(self) -> list[Expression]:
        args: list[Expression] = []
        while not self.at(")"):
            if args:
                self.expect(",", "',' or ')'")
            args.append(self.expression())
        self.advance()
        return args

    def enter(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise error(token.pos, f"nesting deeper than {MAX_DEPTH} levels")
