"""Glob matching for FQL's `match()`: `*`, `?`, `[abc]`, `[a-z]`, `[!a]` / `[^a]` and `\\x`.

The pattern must match the whole string, case-sensitively. Matching walks the string once per
`*` backtrack (no regular expressions), so no pattern can take more than O(len(s) * len(p)).
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

STAR = "*"
ANY = "?"


class CharSet(NamedTuple):
    negated: bool
    ranges: tuple[tuple[str, str], ...]

    def matches(self, char: str) -> bool:
        inside = any(low <= char <= high for low, high in self.ranges)
        return inside != self.negated


Item = str | CharSet  # STAR, ANY, a CharSet, or ("=" + a literal character)


def glob_match(text: str, pattern: str) -> bool:
    """True when `pattern` matches all of `text`."""
    items = compile_glob(pattern)
    p = i = 0
    star, mark = -1, 0
    while i < len(text):
        if p < len(items) and items[p] == STAR:
            star, mark, p = p, i, p + 1
        elif p < len(items) and _one(items[p], text[i]):
            p, i = p + 1, i + 1
        elif star >= 0:
            mark += 1
            p, i = star + 1, mark
        else:
            return False
    while p < len(items) and items[p] == STAR:
        p += 1
    return p == len(items)


def _one(item: Item, char: str) -> bool:
    if isinstance(item, CharSet):
        return item.matches(char)
    return item == ANY or item[1:] == char


@lru_cache(maxsize=512)
def compile_glob(pattern: str) -> tuple[Item, ...]:
    """The pattern as a tuple of items; a `[` without its `]` is a literal `[`."""
    items: list[Item] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            items.append("=" + pattern[i + 1])
            i += 2
        elif char in (STAR, ANY):
            if not (char == STAR and items and items[-1] == STAR):
                items.append(char)
            i += 1
        elif char == "[" and (found := _char_set(pattern, i + 1)) is not None:
            charset, i = found
            items.append(charset)
        else:
            items.append("=" + char)
            i += 1
    return tuple(items)


def _char_set(pattern: str, i: int) -> tuple[CharSet, int] | None:
    negated = i < len(pattern) and pattern[i] in "!^"
    i += negated
    chars: list[str] = []
    while i < len(pattern) and (pattern[i] != "]" or not chars):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            i += 1
        chars.append(pattern[i])
        i += 1
    if i >= len(pattern):
        return None
    return CharSet(negated, _ranges(chars)), i + 1


def _ranges(chars: list[str]) -> tuple[tuple[str, str], ...]:
    ranges, k = [], 0
    while k < len(chars):
        if k + 2 < len(chars) and chars[k + 1] == "-":
            ranges.append((chars[k], chars[k + 2]))
            k += 3
        else:
            ranges.append((chars[k], chars[k]))
            k += 1
    return tuple(ranges)
