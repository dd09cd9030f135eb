"""Load a batch of enriched events into a warehouse: stage, evolve, bulk-load, merge, clean up.

`load(engine, schema, events, options)`:
1. lays the events out in Segment's tables (`layout`), keeping those `integrations.Warehouses`
   and Selective Sync (`options.disabled_tables` / `disabled_columns`) let through, and
   deduplicates the batch (events: the first copy of an id wins; users and groups: the latest
   non-null values win);
2. types the rows against the warehouse's columns (`schema.evolve`); values that do not fit
   go to `segue_rejected`;
3. stages one file per table in the engine's bulk format (`Dialect.staging`: NDJSON, or CSV
   for PostgreSQL's COPY) plus a manifest in a fresh directory under `options.staging_dir`
   (the manifest is written last: a directory without one is incomplete);
4. creates the schema, tables and columns it needs, then loads every file and merges it into its
   table in ONE transaction, and removes the directory only after the commit.
Staged batches left by a crash are loaded first on the next call; since every merge skips
keys already present, loading them again with the same events neither loses nor doubles rows.
Advance the event-log cursor only once `load` has returned.
"""

from __future__ import annotations

import gc
import json
import shutil
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Iterable, Iterator, Mapping

import orjson

from segue.warehouses.engines.base import Engine, StagedTable
from segue.warehouses.layout import UPSERT_KEYS, loads_into, rows_for
from segue.warehouses.naming import Namer, shorten
from segue.warehouses.schema import Rejected, Rules, evolve, utc_text, without_nul

REJECTED_TABLE = "segue_rejected"
REJECTED_COLUMNS = {"table_name": "varchar", "column_name": "varchar", "id": "varchar", "value": "varchar",
                    "reason": "varchar", "uuid_ts": "timestamp"}
REJECTED_KEY = ("table_name", "column_name", "id")
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class LoadOptions:
    """Per-warehouse choices; Selective Sync passes the tables and columns it turned off."""

    staging_dir: Path
    warehouse_id: str | None = None
    widen: bool = False  # integer -> float -> varchar instead of rejecting a value
    disabled_tables: frozenset[str] = frozenset()
    disabled_columns: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass
class LoadReport:
    """What a load did: rows staged per table, notices, rejected values, skipped events."""

    rows: dict[str, int] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    rejected: int = 0
    skipped: int = 0
    shortened: dict[str, str] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def add(self, other: "LoadReport") -> None:
        """Count `other` in too (a sync or backfill adds up its loads)."""
        for table, count in other.rows.items():
            self.rows[table] = self.rows.get(table, 0) + count
        self.notices += other.notices
        self.rejected += other.rejected
        self.skipped += other.skipped


_NAMERS: dict[str, Namer] = {}


def load(engine: Engine, schema: str, events: Iterable[dict], options: LoadOptions) -> LoadReport:
    """Load `events` into `schema`, after any batch a crash left staged; see the module doc."""
    report = LoadReport()
    with collector_paused():
        for directory in pending_batches(options.staging_dir, schema):
            load_staged(engine, directory, report)
        directory = stage(engine, schema, events, options, report)
        if directory is not None:
            load_staged(engine, directory, report)
    return report


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector, which rows and events (acyclic) never need.

    Speed: with it on, the collector re-scans the growing batch again and again and takes
    about half the time of laying out a batch.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def pending_batches(staging_dir: Path, schema: str | None) -> list[Path]:
    """Complete staged batches of `schema` (None: of every schema), oldest first; incomplete
    ones are removed."""
    if not staging_dir.exists():
        return []
    pending = []
    for directory in sorted(path for path in staging_dir.iterdir() if path.is_dir()):
        manifest = directory / MANIFEST
        if not manifest.exists():
            shutil.rmtree(directory)
        elif schema is None or json.loads(manifest.read_text())["schema"] == schema:
            pending.append(directory)
    return pending


def stage(engine: Engine, schema: str, events: Iterable[dict], options: LoadOptions, report: LoadReport,
          existing: dict[str, dict[str, str]] | None = None) -> Path | None:
    """Lay out, type and write a batch to a new staging directory (None when nothing to load).

    `existing`: the schema's columns per table; read from the engine when not given. When given,
    it is updated with the columns this batch adds, so that a caller staging the next batch
    before this one is loaded (pipeline.py) types it against what the warehouse will hold.
    """
    namer = _NAMERS.setdefault(engine.dialect.slug, Namer(engine.dialect.slug))
    tables = collect(events, namer, options, report)
    report.shortened.update(namer.shortened)
    if not tables:
        return None
    if existing is None:
        existing = engine.tables(schema)
    rules = _rules(engine, options, report)
    staged, rejected = [], []
    directory = options.staging_dir / f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"
    directory.mkdir(parents=True)
    staging = engine.dialect.staging
    for table, rows in tables.items():
        key = UPSERT_KEYS.get(table, ("id",))
        if engine.dialect.key_limit:
            rejected += shorten_keys(table, rows, key, engine.dialect.key_limit)
        plan, refused = evolve(table, rows, existing.get(table), rules)
        existing[table] = dict(plan.columns)
        rejected += refused
        _park_notice(plan, rules, report)
        staged.append(_write(directory / f"{len(staged):04d}", staging, table, plan.columns, rows, key, plan.widened))
    if rejected:
        staged.append(_stage_rejected(directory / f"{len(staged):04d}", staging, rejected, rules, report))
    _write_manifest(directory, schema, staged)
    return directory


def collect(events: Iterable[dict], namer: Namer, options: LoadOptions, report: LoadReport) -> dict[str, list[dict]]:
    """Rows per table, deduplicated on each table's key, without disabled tables or columns."""
    uuid_ts = _now()
    buckets: dict[str, dict] = {}
    disabled, columns_off = options.disabled_tables, options.disabled_columns
    for event in events:
        pairs = rows_for(event, namer, uuid_ts) if loads_into(event.get("integrations"), options.warehouse_id) else ()
        if not pairs:
            report.skipped += 1
        for table, row in pairs:
            if table in disabled:
                continue
            if table in columns_off:
                _drop_columns(row, columns_off[table])
            if table in UPSERT_KEYS and row.get(UPSERT_KEYS[table][0]) is None:
                continue  # a group without a groupId has no row to merge into
            bucket = buckets.get(table)
            if bucket is None:
                bucket = buckets[table] = {}
            if table in UPSERT_KEYS:
                _merge_latest(bucket, row, UPSERT_KEYS[table][0])
            else:
                bucket.setdefault(row.get("id"), row)  # the first copy of an event wins
    return {table: list(bucket.values()) for table, bucket in buckets.items()}


def shorten_keys(table: str, rows: list[dict], key: tuple[str, ...], limit: int) -> list[Rejected]:
    """Key values longer than the engine's key column, shortened the way long names are (a prefix
    and a hash, so distinct keys stay distinct) and recorded in segue_rejected."""
    refused = []
    for row in rows:
        for column in key:
            value = row.get(column)
            if type(value) is str and len(value) > limit:
                row[column] = shorten(value, limit)
                reason = f"key longer than {limit} characters, stored shortened"
                refused.append(Rejected(table, column, str(row.get("id", "")), value, reason))
    return refused


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _merge_latest(bucket: dict, row: dict, key_column: str) -> None:
    """Users and groups: one row per key, the later non-null values over the earlier ones."""
    key = row[key_column]
    earlier = bucket.get(key)
    if earlier is None:
        bucket[key] = row
    else:
        earlier.update(row)


def _drop_columns(row: dict, columns: frozenset[str]) -> None:
    for column in columns & row.keys():
        if column not in ("id", "group_id"):
            del row[column]


def _rules(engine: Engine, options: LoadOptions, report: LoadReport) -> Rules:
    dialect = engine.dialect
    if options.widen and not dialect.can_widen:
        report.notices.append(f"{dialect.slug} cannot change column types; mismatched values go to {REJECTED_TABLE}")
    widen = options.widen and dialect.can_widen
    return Rules(dialect.column_limit, dialect.varchar_limit, widen, dialect.utc_timestamps, not dialect.text_nul)


def _park_notice(plan, rules: Rules, report: LoadReport) -> None:
    if plan.parked:
        report.notices.append(
            f"table {plan.name} reached its limit of {rules.column_limit} columns: "
            f"{len(plan.parked)} new column(s) were not created; their values are in {REJECTED_TABLE}"
        )


def _stage_rejected(path: Path, staging: str, rejected: list[Rejected], rules: Rules,
                    report: LoadReport) -> StagedTable:
    """The rejected values as rows of `segue_rejected` (cut to the engine's string limit, if any)."""
    uuid_ts = _now()
    uuid_ts = utc_text(uuid_ts) if rules.utc_timestamps else uuid_ts
    limit = rules.varchar_limit
    clean = without_nul if rules.strip_nul else str
    rows = {(r.table_name, r.column_name, clean(r.id)): {**r._asdict(), "id": clean(r.id),
                                                        "value": clean(r.value)[:limit], "uuid_ts": uuid_ts}
            for r in rejected}
    report.rejected += len(rows)
    for (table, column), count in _counts(rejected).items():
        reason = next(r.reason for r in rejected if (r.table_name, r.column_name) == (table, column))
        report.notices.append(f"{count} value(s) of {table}.{column} did not fit ({reason}); see {REJECTED_TABLE}")
    return _write(path, staging, REJECTED_TABLE, REJECTED_COLUMNS, list(rows.values()), REJECTED_KEY, {})


def _counts(rejected: list[Rejected]) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for item in rejected:
        counts[item.table_name, item.column_name] = counts.get((item.table_name, item.column_name), 0) + 1
    return counts


_json_line = partial(orjson.dumps, option=orjson.OPT_APPEND_NEWLINE)


def _write(path: Path, staging: str, table: str, columns: dict, rows: list[dict], key: tuple,
           widened: dict) -> StagedTable:
    """Stage `rows` in the engine's bulk format (`path` + its suffix): NDJSON or CSV."""
    path = path.with_suffix("." + staging)
    with path.open("wb") as staged:
        if staging == "csv":
            staged.write(write_csv(columns, rows))
        else:
            staged.writelines(map(_json_line, rows))  # NDJSON: one object per line
    return StagedTable(table, path, dict(columns), key, table in UPSERT_KEYS, len(rows), dict(widened), staging)


def write_csv(columns: dict[str, str], rows: list[dict]) -> bytes:
    """CSV, one field per column in `columns` order, no header: strings and timestamps quoted
    (a `"` doubled), numbers and `true`/`false` bare, NULL a bare `null`.

    Speed: orjson writes each row as a JSON array, which is that CSV line between its brackets
    whenever it holds no backslash (no JSON escape); only rows with one are written in Python.
    """
    names = list(columns)
    values = [tuple(map(row.get, names)) for row in rows]
    lines = list(map(orjson.dumps, values))
    text = b"\n".join(lines)
    if b"\\" not in text:  # JSON escapes no newline, so "]\n[" only joins two lines
        return text.replace(b"]\n[", b"\n")[1:-1] + b"\n"
    return b"".join([_csv_line(row) if b"\\" in line else line[1:-1] + b"\n" for line, row in zip(lines, values)])


def _csv_line(values: tuple) -> bytes:
    return b",".join([_csv_value(value) for value in values]) + b"\n"


def _csv_value(value) -> bytes:
    if value is None:
        return b"null"
    if type(value) is str:
        return b'"' + value.replace('"', '""').encode() + b'"'
    return orjson.dumps(value)


def _write_manifest(directory: Path, schema: str, staged: list[StagedTable]) -> None:
    temporary = directory / (MANIFEST + ".tmp")
    temporary.write_text(json.dumps({"schema": schema, "tables": [table.to_json() for table in staged]}))
    temporary.rename(directory / MANIFEST)


def load_staged(engine: Engine, directory: Path, report: LoadReport) -> None:
    """Create what the staged batch needs, load it in one transaction, then remove it."""
    manifest = json.loads((directory / MANIFEST).read_text())
    schema = manifest["schema"]
    tables = [StagedTable.from_json(data, directory) for data in manifest["tables"]]
    ensure_tables(engine, schema, tables)
    engine.load(schema, tables)
    shutil.rmtree(directory)
    for table in tables:
        report.rows[table.name] = report.rows.get(table.name, 0) + table.rows


def ensure_tables(engine: Engine, schema: str, tables: list[StagedTable]) -> None:
    """Create the schema, the missing tables and columns; widen retyped columns (idempotent)."""
    existing = engine.tables(schema)
    if not existing:
        engine.create_schema(schema)
    for table in tables:
        current = existing.get(table.name)
        if current is None:
            engine.create_table(schema, table.name, table.columns, table.key)
            continue
        missing = {column: kind for column, kind in table.columns.items() if column not in current}
        if missing:
            engine.add_columns(schema, table.name, missing)
        widen = {column: kind for column, kind in table.widened.items() if current.get(column) != kind}
        if widen:
            engine.widen_columns(schema, table.name, widen)
