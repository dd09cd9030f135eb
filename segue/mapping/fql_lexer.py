"""FQL tokens: strings, numbers, field paths, keywords, operators and punctuation.

Field paths are read whole (`context.library.version`), with `\\` escaping any character that is
not in `a-z A-Z 0-9 _ -` (`properties.product\\ 1.price`). A single unescaped word that is `and`,
`or`, `in`, `true`, `false` or `null` is a keyword. Strings take single or double quotes; `\\\\`,
`\\'`, `\\"`, `\\n`, `\\t` and `\\r` are escapes, and any other `\\x` is kept as written so that
glob patterns such as `'ab\\*d'` reach `match()` intact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from segue.mapping.errors import FQLError

KEYWORDS = frozenset({"and", "or", "in", "true", "false", "null"})
IDENT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
IDENT_START = IDENT_CHARS - frozenset("0123456789-")
WHITESPACE = frozenset(" \t\r\n")
PUNCTUATION = frozenset("()[],")
STRING_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t", "r": "\r"}


@dataclass(frozen=True)
class Token:
    """One token: kind is string, number, path, keyword, op, `!`, a punctuation mark, or eof."""

    kind: str
    value: Any
    pos: int  # offset in the text, from 0

    def describe(self) -> str:
        if self.kind == "eof":
            return "the end"
        if self.kind == "path":
            return f"field {'.'.join(self.value)!r}"
        if self.kind == "string":
            return f"string {self.value!r}"
        return repr(str(self.value).lower() if self.kind == "keyword" else self.value)


def error(pos: int, message: str) -> FQLError:
    return FQLError(f"invalid FQL at position {pos + 1}: {message}", details={"position": pos + 1})


def tokenize(text: str) -> list[Token]:
    """The tokens of `text`, ending with an eof token; FQLError on a character that fits nothing."""
    tokens, i = [], 0
    while i < len(text):
        char = text[i]
        if char in WHITESPACE:
            i += 1
            continue
        token, i = _token(text, i, char)
        tokens.append(token)
    tokens.append(Token("eof", None, len(text)))
    return tokens


def _token(text: str, i: int, char: str) -> tuple[Token, int]:
    if char in PUNCTUATION:
        return Token(char, char, i), i + 1
    if char in "=<>!":
        return _operator(text, i, char)
    if char in "'\"":
        return _string(text, i, char)
    if _digit_at(text, i) or (char in "+-" and _digit_at(text, i + 1)):
        return _number(text, i)
    if char in IDENT_START or char == "\\":
        return _path(text, i)
    raise error(i, f"unexpected character {char!r}")


def _digit_at(text: str, i: int) -> bool:
    return i < len(text) and text[i].isascii() and text[i].isdigit()


def _operator(text: str, i: int, char: str) -> tuple[Token, int]:
    if text.startswith("=", i + 1) and char != "=":
        return Token("op", char + "=", i), i + 2
    if char == "!":
        return Token("!", "!", i), i + 1
    return Token("op", char, i), i + 1


def _string(text: str, start: int, quote: str) -> tuple[Token, int]:
    chars, i = [], start + 1
    while i < len(text) and text[i] != quote:
        if text[i] == "\\" and i + 1 < len(text):
            escaped = text[i + 1]
            chars.append(STRING_ESCAPES.get(escaped, "\\" + escaped))
            i += 2
        else:
            chars.append(text[i])
            i += 1
    if i >= len(text):
        raise error(start, f"unterminated string, expected a closing {quote}")
    return Token("string", "".join(chars), start), i + 1


def _number(text: str, start: int) -> tuple[Token, int]:
    i = start + 1
    while _digit_at(text, i):
        i += 1
    if i < len(text) and text[i] == ".":
        if not _digit_at(text, i + 1):
            raise error(i + 1, "expected a digit after the decimal point")
        i += 1
        while _digit_at(text, i):
            i += 1
        value: int | float = float(text[start:i])
        if math.isinf(value):
            raise error(start, "number out of range")
    else:
        value = int(text[start:i])
    return Token("number", value, start), i


def _path(text: str, start: int) -> tuple[Token, int]:
    segments, escaped, i = [], False, start
    while True:
        segment, seg_escaped, i = _segment(text, i)
        segments.append(segment)
        escaped = escaped or seg_escaped
        if not (i < len(text) and text[i] == "."):
            break
        if not (i + 1 < len(text) and (text[i + 1] in IDENT_CHARS or text[i + 1] == "\\")):
            raise error(i + 1, "expected a field name after '.'")
        i += 1
    if len(segments) == 1 and not escaped and segments[0] in KEYWORDS:
        return Token("keyword", segments[0], start), i
    return Token("path", tuple(segments), start), i


def _segment(text: str, i: int) -> tuple[str, bool, int]:
    chars, escaped = [], False
    while i < len(text) and (text[i] in IDENT_CHARS or text[i] == "\\"):
        if text[i] == "\\":
            if i + 1 >= len(text):
                raise error(i, "expected a character after '\\'")
            chars.append(text[i + 1])
            escaped, i = True, i + 2
        else:
            chars.append(text[i])
            i += 1
    return "".join(chars), escaped, i
