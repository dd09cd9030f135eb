"""SQL injection through event names, property, trait and context names and values, on every engine.

Each hostile string is sent as an event name, a property name and value, a trait name and value,
a context key and value, a user id and a group id. For each engine (tests/warehouses/conftest.py's
`target`): the load succeeds (or refuses a value into `segue_rejected` with a reason); the schema
holds exactly the tables the naming rules give, plus a sentinel table that, like a sentinel in
another schema, keeps its row; every value reads back exactly as sent; every table and column is
`naming.Namer`'s deterministic identifier.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segue.warehouses import loader
from segue.warehouses.engines import sql
from segue.warehouses.layout import RESERVED_COLUMNS, event_table
from segue.warehouses.loader import REJECTED_TABLE, LoadOptions, load
from segue.warehouses.naming import IDENTIFIER_LIMITS, Namer, shorten
from tests.warehouses.conftest import Target, target  # noqa: F401  (the per-engine fixture)

RECEIVED_AT = "2012-12-02T00:30:13.100Z"
SENTINEL = "sentinel"
ALIVE = "still here"
IDENTIFIER = re.compile(r"[a-z0-9_]+")


def hostile(schema: str) -> list[str]:
    """Strings that would break out of a quoted identifier or literal if one were built by hand."""
    victim = f"{schema}.{SENTINEL}"
    drops = [f"{close}; DROP TABLE {victim}; --" for close in ("'", '"', "`", "]", "')", '")')]
    return [
        "'", '"', "`", "]", "[x]", "''", '""', "``", *drops,
        f"x'); DROP SCHEMA {schema} CASCADE; --", f"/* */ DROP TABLE {victim} /* */", "*/ -- ",
        "back\\slash", "\\", "\\'", "\\\\'; DROP TABLE " + victim + "; #", "\\x27\\u0027",
        "nul\x00byte", "\x00",
        "\uff07; DROP TABLE " + victim + "; --", "\u02bc\u2019\u201d\uff02", "ＳＥＬＥＣＴ", "\u200bselect\u202e",
        "Ꭰrop", "ԁrop tаble",
        "$$; DROP TABLE " + victim + "; $$", "$segue$ x $segue$", "$1", "E'\\x27'",
        "line\nbreak", "cr\r\nlf", "tab\tchar",
        "100%", "%s", "%%s", "%(id)s", "{}", "{0}", "{id}", "?", ":1", ":name", "@var", "#{x}",
        '{"a": "b"}', '["x", 1]', "null", "NULL", "true", "0x27",
        "select", "table", "order", "user", "tracks", "users", "segue_rejected", "Segue Rejected",
        "segue_stage_0", "segue_stage", "event", "id", "uuid_ts", "Order Id", "order_id", "orderId",
        "bob", "Bob", "bob ", "é" * 40, "e" * 40,
        "x" * 300, "x" * 300 + "!", "x" * 300 + "y", "名前" * 100,
    ]


def events(strings: list[str]) -> list[dict]:
    """A track, an identify and a group per string, each carrying it everywhere it can go."""
    made = []
    for n, text in enumerate(strings):
        common = {"userId": text, "receivedAt": RECEIVED_AT, "timestamp": RECEIVED_AT,
                  "context": {text: text, "v": text}}
        made += [
            {**common, "type": "track", "messageId": f"t{n}", "event": text, "properties": {text: text, "v": text}},
            {**common, "type": "identify", "messageId": f"i{n}", "userId": f"u{n}", "traits": {text: text, "v": text}},
            {**common, "type": "group", "messageId": f"g{n}", "groupId": text, "traits": {text: text, "v": text}},
        ]
    return made


def table_names(target: Target, schema: str) -> set[str]:
    return set(target.engine.tables(schema))


def plant_sentinel(target: Target, schema: str) -> None:
    """`schema.sentinel` with one row, made with the engine's own DDL and quoting."""
    engine, q = target.engine, target.quote
    engine.create_schema(schema)
    engine.create_table(schema, SENTINEL, {"id": "varchar"}, ("id",))
    cursor = engine.conn.cursor()
    cursor.execute(f"INSERT INTO {q(schema)}.{q(SENTINEL)} ({q('id')}) VALUES ({sql.literal(ALIVE)})")
    if hasattr(engine.conn, "commit"):
        engine.conn.commit()


def sentinel_rows(target: Target, schema: str) -> list[str]:
    return [row["id"] for row in Target(target.engine, schema, target.quote).select(SENTINEL)]


@pytest.fixture
def other_schema(target):
    """A second schema with its sentinel, dropped afterwards."""
    schema = target.schema + "_other"
    plant_sentinel(target, schema)
    yield schema
    target.engine.drop_schema(schema)


def expected_tables(strings: list[str], namer: Namer) -> set[str]:
    own = {"tracks", "identifies", "users", "groups"}
    return own | {table for text in strings if (table := event_table(text, namer))}


@pytest.fixture
def namer(target, monkeypatch) -> Namer:
    """The engine's Namer. Redshift's SQL runs on PostgreSQL here, which cuts identifiers at 63
    bytes where Redshift allows 127: the stand-in gets PostgreSQL's limit."""
    slug = target.engine.dialect.slug
    if slug == "redshift":
        monkeypatch.setitem(IDENTIFIER_LIMITS, "redshift", IDENTIFIER_LIMITS["postgres"])
        monkeypatch.setattr(loader, "_NAMERS", {})
    return Namer(slug)


def storable(target: Target, text: str) -> str:
    """`text` as the engine can hold it: PostgreSQL and Redshift text cannot hold U+0000."""
    return text if target.engine.dialect.text_nul else text.replace("\x00", "")


def test_hostile_names_and_values_are_inert(target, namer, other_schema, tmp_path):
    schema = target.schema
    plant_sentinel(target, schema)
    strings = hostile(schema)
    report = load(target.engine, schema, events(strings), LoadOptions(tmp_path / "stage"))

    tables = table_names(target, schema)
    rejected_table = {REJECTED_TABLE} if report.rejected else set()
    assert tables == expected_tables(strings, namer) | {SENTINEL} | rejected_table
    assert sentinel_rows(target, schema) == [ALIVE] and sentinel_rows(target, other_schema) == [ALIVE]
    limit = namer.limit
    for table, columns in target.engine.tables(schema).items():
        for name in (table, *columns):
            assert IDENTIFIER.fullmatch(name) and len(name) <= limit, name
    rejected = {(r["table_name"], r["column_name"], r["id"]): r for r in target.select(REJECTED_TABLE)} \
        if report.rejected else {}
    _check_tracks(target, strings, namer, rejected)
    _check_users_and_groups(target, strings, namer, rejected)


def _same(target: Target, table: str, column: str, row: dict, sent: str, rejected: dict) -> None:
    """`row[column]` is `sent`, or the refusal (NULs removed, truncation) is in segue_rejected."""
    got = row[column]
    if got == sent:
        return
    refusal = rejected.get((table, column, row["id"]))
    assert refusal is not None and refusal["reason"], (table, column, sent, got)
    kept = storable(target, sent)
    assert kept.startswith(refusal["value"]) and kept.startswith(got), (table, column, sent, got)


def _named_column(target: Target, table: str, row: dict, raw: str, sent: str, namer: Namer, rejected: dict) -> None:
    """The column Namer gives `raw` exists and holds `sent` (unless the name is empty or Segment's)."""
    column = namer.name(raw)
    if column and column not in RESERVED_COLUMNS:
        assert column in row, (table, raw, column)
        _same(target, table, column, row, sent, rejected)


def _check_tracks(target: Target, strings: list[str], namer: Namer, rejected: dict) -> None:
    tracks = {row["id"]: row for row in target.select("tracks")}
    by_table: dict[str, dict] = {}
    for n, text in enumerate(strings):
        row, table = tracks[f"t{n}"], event_table(text, namer)
        assert row["event"] == table
        _same(target, "tracks", "event_text", row, text, rejected)
        _same(target, "tracks", "user_id", row, text, rejected)
        _same(target, "tracks", "context_v", row, text, rejected)
        _named_column(target, "tracks", row, "context_" + text, text, namer, rejected)
        if not table:
            continue
        if table not in by_table:
            by_table[table] = {r["id"]: r for r in target.select(table)}
        event_row = by_table[table][f"t{n}"]
        _same(target, table, "v", event_row, text, rejected)
        _named_column(target, table, event_row, text, text, namer, rejected)


def _check_users_and_groups(target: Target, strings: list[str], namer: Namer, rejected: dict) -> None:
    users = {row["id"]: row for row in target.select("users")}
    groups = {row["group_id"]: row for row in target.select("groups")}
    for n, text in enumerate(strings):
        _same(target, "users", "v", users[f"u{n}"], text, rejected)
        _named_column(target, "users", users[f"u{n}"], text, text, namer, rejected)
    limit = target.engine.dialect.key_limit
    for text in strings:
        key = storable(target, shorten(text, limit) if limit and len(text) > limit else text)
        assert key in groups, text
        if key != text:
            assert rejected[("groups", "group_id", groups[key]["id"])]["reason"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=30), st.text(max_size=30), st.text(max_size=60)), min_size=1, max_size=5))
def test_random_names_and_values_round_trip_on_duckdb(triples):
    """Any event name, property name and value (hypothesis' unicode text): only Namer's tables
    appear, the sentinel keeps its row, and the value reads back exactly."""
    from segue.warehouses.engines.duckdb import DuckDBEngine

    engine, schema = DuckDBEngine(), "random"
    warehouse, namer = Target(engine, schema), Namer("duckdb")
    with tempfile.TemporaryDirectory() as staging:
        try:
            plant_sentinel(warehouse, schema)
            made = [{"type": "track", "messageId": f"m{n}", "userId": "u", "event": name, "receivedAt": RECEIVED_AT,
                     "properties": {prop: "'" + value, "v": "'" + value}}  # "'": never read as a timestamp
                    for n, (name, prop, value) in enumerate(triples)]
            load(engine, schema, made, LoadOptions(Path(staging)))
            tables = {table for name, _, _ in triples if (table := event_table(name, namer))}
            assert table_names(warehouse, schema) == {"tracks", SENTINEL} | tables
            assert sentinel_rows(warehouse, schema) == [ALIVE]
            _check_random_rows(warehouse, namer, triples)
        finally:
            engine.close()


def _check_random_rows(target: Target, namer: Namer, triples: list[tuple[str, str, str]]) -> None:
    tracks = {row["id"]: row for row in target.select("tracks")}
    for n, (name, prop, value) in enumerate(triples):
        assert tracks[f"m{n}"]["event_text"] == name
        table = event_table(name, namer)
        if table:
            [row] = target.select(table, f"WHERE {sql.quote('id')} = {sql.literal(f'm{n}')}")
            assert row["v"] == "'" + value
            _named_column(target, table, row, prop, "'" + value, namer, {})


def test_staging_tables_cannot_be_an_event_table(target, tmp_path, monkeypatch):
    """Snowflake's temporary staging tables live in the loaded schema, where a temporary table
    shadows the table of the same name: no name Namer can make ("Segue Stage 0") may be one."""
    if target.engine.dialect.slug != "snowflake":
        pytest.skip("the other engines keep temporary tables outside the loaded schema")
    statements: list[str] = []
    execute = target.engine._execute

    def recording(statement, *params):
        statements.append(statement)
        return execute(statement, *params)

    monkeypatch.setattr(target.engine, "_execute", recording)
    load(target.engine, target.schema, events(["Segue Stage 0", "Segue Stage 1"]), LoadOptions(tmp_path / "stage"))
    temporary = [s.split('"')[1] for s in statements if "TEMPORARY TABLE" in s]
    assert temporary and not any(IDENTIFIER.fullmatch(name.lower()) for name in temporary), temporary
    assert {"segue_stage_0", "segue_stage_1"} <= table_names(target, target.schema)
