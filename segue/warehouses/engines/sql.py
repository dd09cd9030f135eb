"""SQL text shared by the engines: quoting, DDL, and the two merge shapes.

Every identifier is quoted, so reserved words and odd names are always safe. Staged rows are
already unique on their key (the loader deduplicates a batch), so merging is either "insert the
rows whose key is not there yet" (events: the first copy wins) or "update the rows that are there
with the new non-null values, then insert the others" (users, groups).
"""

from __future__ import annotations

from typing import Callable, Iterable, Mapping

Quote = Callable[[str], str]


def quote(name: str) -> str:
    """An ANSI-quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def qualified(schema: str, table: str, q: Quote = quote) -> str:
    return f"{q(schema)}.{q(table)}"


def names(columns: Iterable[str], q: Quote = quote, alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + q(column) for column in columns)


def column_defs(columns: dict[str, str], types: dict[str, str], q: Quote = quote,
                key: tuple[str, ...] = (), key_type: str | None = None) -> str:
    """`"a" BIGINT, "b" TEXT`, key columns typed `key_type` when the engine needs it."""
    return ", ".join(
        f"{q(column)} {key_type if key_type and column in key else types[kind]}" for column, kind in columns.items()
    )


def create_table(target: str, columns: dict[str, str], types: dict[str, str], key: tuple[str, ...],
                 q: Quote = quote, primary_key: bool = True, key_type: str | None = None) -> str:
    defs = column_defs(columns, types, q, key, key_type)
    constraint = f", PRIMARY KEY ({names(key, q)})" if primary_key else ""
    return f"CREATE TABLE IF NOT EXISTS {target} ({defs}{constraint})"


def key_match(key: tuple[str, ...], left: str, right: str, q: Quote = quote) -> str:
    return " AND ".join(f"{left}.{q(column)} = {right}.{q(column)}" for column in key)


def insert_missing(target: str, stage: str, columns: list[str], key: tuple[str, ...], q: Quote = quote) -> str:
    """Insert the staged rows whose key the target does not have yet."""
    return (
        f"INSERT INTO {target} ({names(columns, q)}) SELECT {names(columns, q, 's')} FROM {stage} s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {target} t WHERE {key_match(key, 't', 's', q)})"
    )


def update_existing(target: str, stage: str, columns: list[str], key: tuple[str, ...], q: Quote = quote) -> str:
    """Update the target's rows that match a staged key with the staged non-null values."""
    updates = ", ".join(f"{q(c)} = COALESCE(s.{q(c)}, {target}.{q(c)})" for c in columns if c not in key)
    where = " AND ".join(f"{target}.{q(column)} = s.{q(column)}" for column in key)
    return f"UPDATE {target} SET {updates} FROM {stage} s WHERE {where}"


def generic_type(engine_type: str, known: dict[str, str]) -> str:
    """The generic type of an engine's column type; unknown types are read as varchar."""
    lowered = engine_type.lower()
    return known.get(lowered) or known.get(lowered.split("(")[0], "varchar")


def columns_by_table(rows: Iterable[tuple[str, str, str]], known: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """`(table, column, database type)` rows from information_schema, as generic types per table."""
    found: dict[str, dict[str, str]] = {}
    for table, column, kind in rows:
        found.setdefault(table, {})[column] = generic_type(kind, known)
    return found
