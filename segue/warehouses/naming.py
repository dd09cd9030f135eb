"""Warehouse names: a port of Segment's go-snakecase plus the rules SQL engines add (spec 3.5).

`snakecase` reproduces every case of go-snakecase's snake_test.go. `Namer` turns a snake-cased
name into an identifier an engine accepts: reserved SQL words and leading digits get a `_`
prefix, and names over the engine's byte limit are shortened deterministically (a prefix plus a
short hash); every shortening is remembered in `Namer.shortened` so it can be stored.
"""

from __future__ import annotations

import hashlib
import re

# A word: an uppercase/digit run followed by a lowercase/digit run (either may be empty).
_WORD = re.compile(r"[A-Z0-9]+[a-z0-9]*|[a-z0-9]+")
_UNCHANGED = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")

# Identifier limits in bytes (PostgreSQL NAMEDATALEN-1, MySQL 64, Redshift 127, Snowflake 255).
IDENTIFIER_LIMITS = {"postgres": 63, "redshift": 127, "mysql": 64, "snowflake": 255, "duckdb": 255}
HASH_CHARS = 8

# Redshift's reserved words (the strictest list Segment documents), plus a few that PostgreSQL,
# MySQL and Snowflake add and that show up as property names.
RESERVED_WORDS = frozenset("""
aes128 aes256 all allowoverwrite analyse analyze and any array as asc authorization az64 backup
between binary blanksasnull both bytedict bzip2 case cast check collate column constraint create
credentials cross current_date current_time current_timestamp current_user current_user_id
default deferrable deflate defrag delta delta32k desc disable distinct do else emptyasnull enable
encode encrypt encryption end except explicit false for foreign freeze from full globaldict256
globaldict64k grant group gzip having identity ignore ilike in initially inner intersect interval
into is isnull join language leading left like limit localtime localtimestamp lun luns lzo lzop
minus mostly13 mostly16 mostly32 mostly8 natural new not notnull null nulls off offline offset oid
old on only open or order outer overlaps parallel partition percent permissions pivot placing
primary raw readratio recover references rejectlog resort respect restore right select
session_user similar snapshot some sysdate system table tag tdes text255 text32k then to top
trailing true truncatecolumns union unique unnest unpivot user using verbose wallet when where
with without
key keys range rows window qualify regexp rlike lateral returning fetch values
""".split())


def snakecase(name: str) -> str:
    """go-snakecase: ASCII words lower-cased and joined with `_`; everything else separates."""
    if _UNCHANGED.fullmatch(name):
        return name
    return "_".join(word.lower() for word in _WORD.findall(name))


def shorten(name: str, limit: int) -> str:
    """`name` if it fits in `limit` bytes, else its longest prefix that fits with `_` + a hash."""
    encoded = name.encode()
    if len(encoded) <= limit:
        return name
    digest = hashlib.sha1(encoded).hexdigest()[:HASH_CHARS]
    prefix = encoded[: limit - HASH_CHARS - 1].decode(errors="ignore").rstrip("_")
    return f"{prefix}_{digest}"


def schema_name(source_slug: str, engine: str = "postgres") -> str:
    """The schema of a source: its slug snake-cased, `_`-prefixed when it starts with a digit
    or with `pg_` (PostgreSQL and Redshift keep that prefix for their own schemas)."""
    name = Namer(engine).name(source_slug) or "segue"
    return f"_{name}" if name.startswith("pg_") else name


class Namer:
    """Snake-cased, engine-safe identifiers, memoised; `shortened` maps long names to short ones."""

    def __init__(self, engine: str) -> None:
        self.limit = IDENTIFIER_LIMITS.get(engine, 63)
        self.shortened: dict[str, str] = {}
        self.names: dict[str, str] = {}  # raw name -> identifier, read directly by hot loops
        self.caches: dict = {}  # memoised decisions of callers (layout's flattening), per namer

    def name(self, raw: str) -> str:
        """The identifier for a raw property, trait or event name ("" when nothing is left)."""
        cached = self.names.get(raw)
        if cached is None:
            cached = self.names[raw] = self.identifier(snakecase(raw))
        return cached

    def identifier(self, snake: str) -> str:
        """An already snake-cased name made safe: reserved words, leading digits, length."""
        if not snake:
            return snake
        if snake in RESERVED_WORDS or snake[0].isdigit():
            snake = "_" + snake
        short = shorten(snake, self.limit)
        if short != snake:
            self.shortened[snake] = short
        return short
