"""Bulk layout: a batch of stored events laid out, typed and staged by DuckDB, in C++.

Why: laying out and typing row by row (`layout`, `schema`) costs Python about 0.1 µs per value
and pass, which made Python staging the bottleneck of a load (`python -m benchmarks.warehouse
--stages`). DuckDB's JSON reader parses a whole batch into nested columns in one multi-threaded
pass; Segment's layout is then a column selection per table, and the typing rules become a few
aggregates over those columns. No library does Segment's layout, so this module maps it.

Exactness comes first: the bulk path covers the common case and declines (`Declined`) whenever
its result could differ from the row-by-row path in any table, column, type or value; the loader
then stages the batch row by row. It declines on, among others: a field whose values have mixed
JSON types, a new float column (the first value may have been an integer), a new column whose
strings are only partly timestamps, arrays of anything but strings, two keys that name the same
column, `integrations.Warehouses` rules, and engines with length limits or rejected values.
`tests/warehouses/test_bulk.py` loads the same batches both ways and compares the tables.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field as dataclass_field
from pathlib import Path
from typing import Any

from segue.warehouses.engines.base import StagedTable
from segue.warehouses.engines.sql import literal, quote
from segue.warehouses.layout import (
    COMMON_FIELDS, RESERVED_COLUMNS, RESERVED_IN, SEGMENT_TABLES, SEGUE_TABLES, UPSERT_KEYS,
)
from segue.warehouses.naming import Namer
from segue.warehouses.schema import TIMESTAMP_PATTERN

# The top-level fields the layout reads; structure types and how each is read.
TOP_FIELDS = ("type", "messageId", "anonymousId", "userId", "receivedAt", "sentAt", "timestamp", "originalTimestamp",
              "context", "event", "properties", "name", "category", "groupId", "previousId", "traits")
READ_AS = {"VARCHAR": "VARCHAR", "BIGINT": "BIGINT", "UBIGINT": "BIGINT", "HUGEINT": "BIGINT",  # too big: an error
           "DOUBLE": "DOUBLE", "BOOLEAN": "BOOLEAN"}
# `schema.is_timestamp` in SQL: RE2 has no look-ahead, so year 0000 is refused apart, and days
# from the 29th on must be real dates.
IS_TIMESTAMP = (
    "(regexp_full_match(VALUE, " + literal(TIMESTAMP_PATTERN) + ") AND NOT starts_with(VALUE, '0000') "
    "AND (substr(VALUE, 9, 2) < '29' OR try_cast(substr(VALUE, 1, 10) AS DATE) IS NOT NULL))"
)
KINDS = {"VARCHAR": "varchar", "BIGINT": "integer", "UBIGINT": "integer", "HUGEINT": "integer", "DOUBLE": "float",
         "BOOLEAN": "boolean"}
STORED = {"varchar": "varchar", "integer": "integer", "float": "float", "boolean": "boolean", "list": "varchar",
          "name": "varchar"}
OUTPUT_TYPES = {"timestamp": "TIMESTAMPTZ", "integer": "BIGINT", "float": "DOUBLE", "boolean": "BOOLEAN",
                "varchar": "VARCHAR"}


# Later copies of a messageId (the first copy wins): among the events of a type, and among the
# rows of an event table (two tracks may share an id and go to two tables); see `_mark_later_copies`.
FIRST_OF_TYPE = "raw.rowid NOT IN (SELECT rowid FROM later_of_type)"
FIRST_IN_TABLE = "raw.rowid NOT IN (SELECT rowid FROM later_in_table)"
TIMESTAMPS = "\x00timestamps"  # the key of a column's timestamp count in `_counts`
PARTITION = "segue_event_table"  # the number of each row's event table in their shared staged file


class Declined(Exception):
    """The bulk path cannot promise the row-by-row result for this batch; the reason says why."""


@dataclass(frozen=True)
class Field:
    """One value a table row may hold: its column, the SQL over the batch's `raw` table, its JSON kind."""

    column: str
    sql: str
    kind: str  # varchar, integer, float, boolean, list; timestamp (the load time), name (an event table's)


@dataclass
class TableSpec:
    """One table of a batch: which of its family's rows, which fields, how rows merge."""

    name: str
    where: str  # which rows of `raw`
    fields: list[Field]
    key: tuple[str, ...] = ("id",)
    group_by: str = ""  # users and groups: one row per key, the latest non-null values
    event_table: bool = False  # one of the tables per event name: its rows are counted together


@dataclass
class Family:
    """The events of one type and the tables they fill."""

    method: str
    tables: list[TableSpec]
    event_table: str = ""  # tracks: SQL naming each row's event table
    names: dict[str, str] | None = None  # tracks: each event name's table


@dataclass
class Batch:
    """What the bulk layout needs to know besides the DuckDB connection holding `raw`."""

    namer: Namer
    uuid_ts: str
    existing: dict[str, dict[str, str]]
    column_limit: int
    disabled_tables: frozenset[str]
    disabled_columns: Any
    # each string field's values over the whole batch: "all" timestamps, "none", or "mixed"
    # (only then is each table counted apart); see `_string_shapes`
    shapes: dict[str, str] = dataclass_field(default_factory=dict)


def supports(dialect: Any) -> bool:
    """Engines whose staged files the bulk path can write, and whose rules never reject a value."""
    return (dialect.slug == "duckdb" and dialect.varchar_limit is None and dialect.text_nul
            and not dialect.utc_timestamps and dialect.key_limit is None)


def stage(payloads: list[bytes], directory: Path, batch: Batch) -> tuple[list[StagedTable], int]:
    """Stage `payloads` (stored events, JSON) as one Parquet file per table under `directory`.

    Returns the staged tables and the number of events skipped (no messageId, unknown type);
    raises `Declined` when the row-by-row path must stage this batch instead.
    """
    import duckdb

    data = b"\n".join(payloads)
    if data.count(b"\n") != len(payloads) - 1 or b'"Warehouses"' in data:
        raise Declined("an event holds a line break or an integrations.Warehouses rule")
    raw_file = directory / "raw.ndjson"
    raw_file.write_bytes(data)
    connection = _database().cursor()  # temporary tables are the cursor's own
    try:
        connection.execute("SET TimeZone = 'UTC'")
        types = _read(connection, raw_file)
        if types.get("type") != "VARCHAR" or types.get("messageId") != "VARCHAR":
            raise Declined("type or messageId is not a string in every event")
        skipped = _drop_skipped(connection, types)
        families = _families(connection, types, batch)
        staged = _stage_families(connection, families, directory, batch)
    except duckdb.Error as error:
        raise Declined(f"DuckDB: {error}") from error
    finally:
        connection.close()
        raw_file.unlink()
    return staged, skipped


_DATABASE: list = []  # one in-memory DuckDB per process, created on first use
_DATABASE_LOCK = threading.Lock()


def _database() -> Any:
    """The process's in-memory DuckDB for bulk layouts. Speed: a new database per batch would
    pay DuckDB's start-up (its JSON functions' first use) every time, a third of a batch's cost."""
    import duckdb

    with _DATABASE_LOCK:
        if not _DATABASE:
            _DATABASE.append(duckdb.connect(":memory:"))
        return _DATABASE[0]


def _read(connection: Any, path: Path) -> dict[str, Any]:
    """The batch's structure (`json_group_structure`: every key and its JSON type, merged over all
    events, with no guessing at dates or UUIDs), then the fields Segment's layout reads, into the
    temporary table `raw` (its rowid is the line number). Declines what the layout cannot map."""
    structure = json.loads(connection.execute(
        f"SELECT json_group_structure(json) FROM read_ndjson_objects({literal(str(path))})").fetchone()[0])
    if type(structure) is not dict:
        raise Declined("an event that is not an object")
    kept = {name: structure[name] for name in TOP_FIELDS if name in structure and structure[name] != "NULL"}
    empties: list[str] = []
    columns = ", ".join(f"{literal(name)}: {literal(_column_type_sql(kind, quote(name), empties))}"
                        for name, kind in kept.items())
    connection.execute(f"CREATE TEMP TABLE raw AS SELECT * FROM read_json({literal(str(path))}, "
                       f"format = 'newline_delimited', records = true, columns = {{{columns}}})")
    if empties and any(connection.execute("SELECT " + ", ".join(
            f"count(*) FILTER (WHERE {sql} IS NOT NULL AND CAST({sql} AS VARCHAR) <> '{{}}')" for sql in empties)
            + " FROM raw").fetchone()):
        raise Declined("a field holds objects and other values")
    return kept


def _column_type_sql(kind: Any, sql: str, empties: list[str]) -> str:
    """The DuckDB type to read a structure's node as. Mixed values ("JSON") are read as JSON and
    must all be empty objects (checked afterwards; `empties` collects them)."""
    if type(kind) is dict:
        fields = [(key, child) for key, child in kind.items() if child != "NULL"]
        if not fields:
            return "JSON"
        return "STRUCT(" + ", ".join(
            f"{quote(key)} {_column_type_sql(child, f'{sql}.{quote(key)}', empties)}" for key, child in fields) + ")"
    if kind == "JSON":
        empties.append(f"raw.{sql}")
        return "JSON"
    if kind == ["VARCHAR"]:
        return "VARCHAR[]"
    read = READ_AS.get(kind) if type(kind) is str else None
    if read is None:
        raise Declined(f"{sql} holds {kind} values")
    return read


def _drop_skipped(connection: Any, types: dict[str, Any]) -> int:
    """Remove the events `layout.rows_for` skips (no messageId, an unknown type); how many."""
    return connection.execute(
        "DELETE FROM raw WHERE \"type\" IS NULL OR \"type\" NOT IN "
        "('track', 'identify', 'page', 'screen', 'group', 'alias') OR coalesce(\"messageId\", '') = ''"
    ).fetchone()[0]


# --- Which fields each table holds (layout.py's rules) ----------------------------------------

def _families(connection: Any, types: dict[str, Any], batch: Batch) -> list[Family]:
    methods = {method for (method,) in connection.execute('SELECT DISTINCT "type" FROM raw').fetchall()}
    top = _Top(types, batch)
    tracks = _tracks(connection, top) if "track" in methods else None
    _mark_later_copies(connection, tracks.event_table if tracks else "NULL")
    families = [
        tracks,
        Family("identify", _identify_specs(top)),
        *(Family(method, [_named_spec(method, table, top)]) for method, table in (("page", "pages"), ("screen", "screens"))),
        Family("group", [_keyed_spec("group", "groups", top, "groupId", "group_id")]),
        Family("alias", [_keyed_spec("alias", "aliases", top, "previousId", "previous_id")]),
    ]
    for family in families:
        if family is not None:
            family.tables = [spec for spec in family.tables if spec.name not in batch.disabled_tables]
    return [family for family in families if family is not None and family.method in methods and family.tables]


class _Top:
    """The batch's top-level fields as `Field`s, and its flattened objects."""

    def __init__(self, types: dict[str, Any], batch: Batch) -> None:
        self.types, self.namer = types, batch.namer
        self.uuid_ts = Field("uuid_ts", literal(batch.uuid_ts), "timestamp")
        self.context = self.flattened("context", "context_", RESERVED_COLUMNS)

    def scalar(self, name: str, column: str) -> list[Field]:
        kind = self.types.get(name)
        return [] if kind is None else [Field(column, f"raw.{quote(name)}", _kind(kind, name))]

    def common(self) -> list[Field]:
        fields = [field for name, column in COMMON_FIELDS for field in self.scalar(name, column)]
        return fields + self.context + [self.uuid_ts]

    def flattened(self, name: str, prefix: str, reserved: frozenset) -> list[Field]:
        kind = self.types.get(name)
        if kind is None or kind == "JSON":  # none, or only empty objects
            return []
        if type(kind) is not dict:
            raise Declined(f"{name} is not an object in every event")
        return _leaves(kind, f"raw.{quote(name)}", prefix, self.namer, reserved)


def _leaves(kind: dict, sql: str, prefix: str, namer: Namer, reserved: frozenset) -> list[Field]:
    """The scalar fields of an object, as `layout.flatten` names them (nulls never make a column)."""
    fields = []
    for key, child in kind.items():
        if not key:
            raise Declined("an empty key")
        path, expression = prefix + key, f"{sql}.{quote(key)}"
        if type(child) is dict:
            fields += _leaves(child, expression, path + "_", namer, reserved)
        elif child not in ("NULL", "JSON"):  # JSON here: only empty objects (checked on reading)
            column = namer.name(path)
            if column not in reserved:
                fields.append(Field(column, expression, _kind(child, path)))
    return fields


def _kind(kind: Any, path: str) -> str:
    if kind == ["VARCHAR"]:
        return "list"
    found = KINDS.get(kind) if type(kind) is str else None
    if found is None:
        raise Declined(f"{path} holds {kind} values")
    return found


def _tracks(connection: Any, top: _Top) -> Family:
    """tracks, and one table per event name holding the properties too."""
    if top.types.get("event") != "VARCHAR" or connection.execute(
            "SELECT count(*) FROM raw WHERE \"type\" = 'track' AND \"event\" IS NULL").fetchone()[0]:
        raise Declined("a track without a string event name")
    events = connection.execute("SELECT DISTINCT \"event\" FROM raw WHERE \"type\" = 'track'").fetchall()
    names = {event: _event_table(event, top.namer) for (event,) in events}
    event_table = "CASE raw.\"event\" " + " ".join(
        f"WHEN {literal(event)} THEN {literal(table)}" for event, table in names.items()) + " END"
    base = top.common() + [Field("event_text", 'raw."event"', "varchar")]
    properties = top.flattened("properties", "", RESERVED_COLUMNS)
    where = "raw.\"type\" = 'track'"
    specs = [TableSpec("tracks", f"{where} AND {FIRST_OF_TYPE}", base + [Field("event", event_table, "name")])]
    for table in sorted(set(names.values()) - {""}):
        table_events = ", ".join(literal(event) for event, name in names.items() if name == table)
        specs.append(TableSpec(table, f"{where} AND raw.\"event\" IN ({table_events}) AND {FIRST_IN_TABLE}",
                               base + [Field("event", literal(table), "name")] + properties, event_table=True))
    family = Family("track", specs)
    family.event_table, family.names = event_table, names
    return family


def _mark_later_copies(connection: Any, event_table: str) -> None:
    """The temporary tables `later_of_type` and `later_in_table`: rowids of the copies of a
    messageId after its first (windows over the repeated ids only: few)."""
    repeated = ("raw.\"messageId\" IN (SELECT \"messageId\" FROM raw GROUP BY \"type\", \"messageId\" "
                "HAVING count(*) > 1)")
    for name, partition in (("later_of_type", 'raw."type"'), ("later_in_table", f'raw."type", {event_table}')):
        connection.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT raw.rowid AS rowid FROM raw WHERE {repeated} "
            f"QUALIFY row_number() OVER (PARTITION BY {partition}, raw.\"messageId\" ORDER BY raw.rowid) > 1")


def _event_table(event: str, namer: Namer) -> str:
    """`layout.event_table`: names of Segment's or Segue's own tables get a `_` prefix."""
    table = namer.name(event)
    return "_" + table if table in SEGMENT_TABLES or table in SEGUE_TABLES else table


def _identify_specs(top: _Top) -> list[TableSpec]:
    traits = top.flattened("traits", "", RESERVED_COLUMNS)
    identifies = TableSpec("identifies", f"raw.\"type\" = 'identify' AND {FIRST_OF_TYPE}", top.common() + traits)
    if "userId" not in top.types:
        return [identifies]
    if top.types["userId"] != "VARCHAR":
        raise Declined("a userId that is not a string")
    user_id = Field("id", 'raw."userId"', "varchar")
    user = [user_id, top.uuid_ts, *top.scalar("receivedAt", "received_at")]
    users = TableSpec("users", f"raw.\"type\" = 'identify' AND coalesce({user_id.sql}, '') <> ''", user + traits,
                      group_by=user_id.sql)
    return [identifies, users]


def _named_spec(method: str, table: str, top: _Top) -> TableSpec:
    fields = top.common() + top.scalar("name", "name") + top.scalar("category", "category")
    return TableSpec(table, f"raw.\"type\" = {literal(method)} AND {FIRST_OF_TYPE}",
                     fields + top.flattened("properties", "", RESERVED_IN[table]))


def _keyed_spec(method: str, table: str, top: _Top, field: str, column: str) -> TableSpec:
    key_field = top.scalar(field, column)
    fields = top.common() + key_field + top.flattened("traits", "", RESERVED_IN[table])
    where = f"raw.\"type\" = {literal(method)}"
    if table not in UPSERT_KEYS:
        return TableSpec(table, f"{where} AND {FIRST_OF_TYPE}", fields)
    if not key_field:
        return TableSpec(table, "false", fields)  # no event has the key: no row
    key = key_field[0].sql
    return TableSpec(table, f"{where} AND {key} IS NOT NULL", fields, UPSERT_KEYS[table], key)


# --- Counted, typed (schema.py's rules), staged ---------------------------------------------------

def _stage_families(connection: Any, families: list[Family], directory: Path, batch: Batch) -> list[StagedTable]:
    batch.shapes = _string_shapes(connection, families, batch.existing)
    staged = []
    for family in families:
        counts = _counts(connection, family, batch)
        plans = [(spec, columns) for spec in family.tables
                 if (columns := _plan(spec, counts.get(spec.name), batch)) is not None]
        shared = [(spec, columns) for spec, columns in plans
                  if spec.event_table and not batch.disabled_columns.get(spec.name)]
        staged += [_write_table(connection, spec, columns, directory, batch) for spec, columns in plans
                   if (spec, columns) not in shared]
        if shared:
            staged += _write_event_tables(connection, family, shared, counts, directory)
    return staged


def _string_shapes(connection: Any, families: list[Family], existing: dict[str, dict[str, str]]) -> dict[str, str]:
    """Whether each string field that feeds a new or a timestamp column holds only timestamps
    ("all"), none ("none") or both ("mixed"), over the whole batch: one query instead of a
    timestamp check per table."""
    strings = list({item.sql: None for family in families for spec in family.tables for item in spec.fields
                    if item.kind == "varchar"
                    and (existing.get(spec.name) or {}).get(item.column) in (None, "timestamp")})
    if not strings:
        return {}
    parts = [f"count({sql}), count(*) FILTER (WHERE {IS_TIMESTAMP.replace('VALUE', sql)})" for sql in strings]
    values = connection.execute(f"SELECT {', '.join(parts)} FROM raw").fetchone()
    return {sql: "none" if not found else "all" if found == total else "mixed"
            for sql, total, found in zip(strings, values[0::2], values[1::2])}


def _needs(item: Field, existing: dict[str, str], shapes: dict[str, str]) -> tuple[bool, bool]:
    """(count its values, count its timestamps) in a table: a new column needs its values counted;
    a string field needs its timestamps counted when the batch mixes them with other strings, and
    a timestamp column fed strings needs its values counted when there are non-timestamps."""
    current = existing.get(item.column)
    if item.kind != "varchar" or current not in (None, "timestamp"):
        return current is None, False
    shape = shapes.get(item.sql, "mixed")
    return current is None or shape != "all", shape == "mixed"


def _counts(connection: Any, family: Family, batch: Batch) -> dict[str, dict[str, int]]:
    """Per table: its rows, and the values (and timestamps) of the fields that need counting.
    The event tables are counted in one query grouped by event name."""
    counts: dict[str, dict[str, int]] = {}
    grouped = [spec for spec in family.tables if spec.event_table]
    if grouped:
        fields = {field.column: field for spec in grouped for field in spec.fields}
        existing = _common_columns([batch.existing.get(spec.name) or {} for spec in grouped])
        parts, read = _count_parts(list(fields.values()), existing, batch.shapes)
        for event, *values in connection.execute(
                f"SELECT raw.\"event\", {', '.join(parts)} FROM raw WHERE raw.\"type\" = 'track' AND "
                f"{FIRST_IN_TABLE} GROUP BY raw.\"event\"").fetchall():
            table = family.names[event]
            if table:
                total = counts.setdefault(table, {})
                for key, count in read(values).items():
                    total[key] = total.get(key, 0) + count
    for spec in family.tables:
        if not spec.event_table:
            parts, read = _count_parts(spec.fields, batch.existing.get(spec.name) or {}, batch.shapes)
            counts[spec.name] = read(connection.execute(f"SELECT {', '.join(parts)} FROM raw WHERE {spec.where}")
                                     .fetchone())
    return counts


def _common_columns(tables: list[dict[str, str]]) -> dict[str, str]:
    """The columns every one of `tables` has with the same type (fields of the others get counted)."""
    first, *others = tables
    return {column: kind for column, kind in first.items() if all(other.get(column) == kind for other in others)}


def _count_parts(fields: list[Field], existing: dict[str, str], shapes: dict[str, str]):
    """The aggregates counting `fields`, and a function reading their results into a dict."""
    parts, keys = ["count(*)"], ["rows"]
    for field in fields:
        values, timestamps = _needs(field, existing, shapes)
        if values:
            parts.append(f"count({field.sql})")
            keys.append(field.column)
        if timestamps:
            parts.append(f"count(*) FILTER (WHERE {IS_TIMESTAMP.replace('VALUE', field.sql)})")
            keys.append(field.column + TIMESTAMPS)

    def read(values) -> dict[str, int]:
        return dict(zip(keys, values))
    return parts, read


def _plan(spec: TableSpec, counts: dict[str, int] | None, batch: Batch) -> dict[str, str] | None:
    """The table's columns after this batch (None: no row in it), kept in `batch.existing`."""
    if not counts or not counts["rows"]:
        return None
    existing = batch.existing.get(spec.name) or {}
    columns = dict(existing)
    for field in _enabled(spec, batch):
        kind = _column_type(spec.name, field, counts, existing, batch.shapes)
        if kind is not None:
            columns.setdefault(field.column, kind)
    if len(columns) > batch.column_limit:
        raise Declined(f"{spec.name} would pass the column limit")
    batch.existing[spec.name] = dict(columns)
    return columns


def _enabled(spec: TableSpec, batch: Batch) -> list[Field]:
    """The fields Selective Sync leaves on (never the keys), each its own column."""
    off = batch.disabled_columns.get(spec.name, ())
    fields = [field for field in spec.fields if field.column not in off or field.column in ("id", "group_id")]
    _refuse_collisions(spec.name, fields)
    return fields


def _write_table(connection: Any, spec: TableSpec, columns: dict[str, str], directory: Path,
                 batch: Batch) -> StagedTable:
    by_column = {field.column: field for field in _enabled(spec, batch)}  # a column turned off: NULL
    select = ", ".join(_output(by_column.get(column), column, kind, spec) for column, kind in columns.items())
    path = directory / f"{spec.name}.parquet"
    group = f" GROUP BY {spec.group_by}" if spec.group_by else ""
    rows = connection.execute(f"COPY (SELECT {select} FROM raw WHERE {spec.where}{group}) "
                              f"TO {literal(str(path))} (FORMAT parquet)").fetchone()[0]
    return StagedTable(spec.name, path, columns, spec.key, bool(spec.group_by), rows, {}, "parquet")


def _write_event_tables(connection: Any, family: Family, events: list[tuple[TableSpec, dict[str, str]]],
                        counts: dict[str, dict[str, int]], directory: Path) -> list[StagedTable]:
    """Every event table in one pass, partitioned by table (one folder each). Speed: one COPY per
    table cost ~3 ms each of fixed overhead. The files share columns, so a column must have one
    type in every event table (and none of these tables has a column Selective Sync turned off)."""
    union: dict[str, str] = {}
    for spec, columns in events:
        for column, kind in columns.items():
            if union.setdefault(column, kind) != kind:
                raise Declined(f"{column} has different types in two event tables")
    if PARTITION in union:
        raise Declined(f"a column named {PARTITION}")
    fields = {field.column: field for field in events[0][0].fields} | {"event": Field("event", family.event_table, "name")}
    numbers = {spec.name: number for number, (spec, _) in enumerate(events)}
    number = "CASE raw.\"event\" " + " ".join(f"WHEN {literal(event)} THEN {numbers[table]}"
                                              for event, table in family.names.items() if table in numbers) + " END"
    select = [_output(fields.get(column), column, kind, events[0][0]) for column, kind in union.items()]
    where = f"raw.\"type\" = 'track' AND {FIRST_IN_TABLE} AND ({number}) IS NOT NULL"
    connection.execute(f"COPY (SELECT {', '.join(select)}, {number} AS {PARTITION} FROM raw WHERE {where}) "
                       f"TO {literal(str(directory))} (FORMAT parquet, PARTITION_BY ({PARTITION}), OVERWRITE_OR_IGNORE)")
    return [StagedTable(spec.name, directory / f"{PARTITION}={numbers[spec.name]}", columns, spec.key,
                        False, counts[spec.name]["rows"], {}, "parquet") for spec, columns in events]


def _refuse_collisions(table: str, fields: list[Field]) -> None:
    columns = [field.column for field in fields]
    if len(set(columns)) != len(columns):
        raise Declined(f"two keys name the same column of {table}")


def _column_type(table: str, field: Field, counts: dict[str, int], existing: dict[str, str],
                 shapes: dict[str, str]) -> str | None:
    """The column's type when every value fits it as the row-by-row path would store it; None for
    a new column without a value in this table."""
    current = existing.get(field.column)
    if current is None and not counts.get(field.column, 0):
        return None
    if field.kind == "timestamp":  # the load time, set by Segue
        kind = "timestamp"
    elif field.kind == "varchar" and current in (None, "timestamp"):
        values, shape = counts.get(field.column, 0), shapes.get(field.sql, "mixed")
        timestamps = counts[field.column + TIMESTAMPS] if shape == "mixed" else values if shape == "all" else 0
        if timestamps not in (0, values) or (current == "timestamp" and timestamps != values):
            raise Declined(f"{table}.{field.column} holds timestamps and other strings")
        kind = "timestamp" if timestamps else (current or "varchar")
    elif field.kind == "float" and current is None:
        raise Declined(f"{table}.{field.column} is new and holds numbers with a fraction")
    else:
        kind = STORED[field.kind]
    if current is not None and current != kind:
        raise Declined(f"{table}.{field.column} is {current} and the batch holds {kind} values")
    return kind


def _output(field: Field | None, column: str, kind: str, spec: TableSpec) -> str:
    """The SELECT item of one column: its value as the engine stores it, or NULL."""
    if field is None:
        return f"CAST(NULL AS {OUTPUT_TYPES[kind]}) AS {quote(column)}"
    value = field.sql
    if field.kind == "list":  # layout.stringify: ["a","b"] -> [a, b]; a null item -> null
        value = f"'[' || array_to_string(list_transform({value}, lambda item: coalesce(item, 'null')), ', ') || ']'"
    if kind == "timestamp":
        value = f"CAST({value} AS TIMESTAMPTZ)"
    if spec.group_by and column not in spec.key:
        value = f"arg_max({value}, raw.rowid) FILTER (WHERE {field.sql} IS NOT NULL)"
    elif spec.group_by:
        value = f"any_value({value})"
    return f"{value} AS {quote(column)}"
