"""The engine protocol: the few operations the loader needs from a SQL warehouse.

An engine knows its own facts (`Dialect`), connects and pings with a clear error, reports the
columns it already has (as generic types), creates schemas, tables and columns, and loads a set
of staged NDJSON files into their tables, deduplicated on each table's key, in ONE transaction:
either the whole batch is committed or none of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from segue.errors import ConfigError, Retryable, SegueError

class WarehouseUnavailable(SegueError, Retryable):
    """The warehouse did not answer or failed mid-load; the next sync retries."""

    code = "warehouse_unavailable"
    status = 503


class WarehousePermission(ConfigError):
    """The warehouse user lacks a grant Segue needs; the message names the grant to add."""

    code = "warehouse_permission"


@dataclass(frozen=True)
class Dialect:
    """What one engine allows: identifier bytes, columns per table, string length, widening."""

    slug: str
    column_limit: int
    varchar_limit: int | None = None
    utc_timestamps: bool = False  # timestamps staged as naive UTC text (no time-zone type)
    can_widen: bool = True
    staging: str = "ndjson"  # the staged files' format: "ndjson" or "csv" (see loader.write_csv)
    text_nul: bool = True  # text can hold U+0000 (PostgreSQL and Redshift refuse it)
    key_limit: int | None = None  # characters a key column (id, group_id) holds


@dataclass
class StagedTable:
    """One table's staged rows: an NDJSON or CSV file, its columns (generic types), its merge key."""

    name: str
    path: Path
    columns: dict[str, str]
    key: tuple[str, ...] = ("id",)
    upsert: bool = False  # True: update the row with the new non-null values; False: keep the first
    rows: int = 0
    widened: dict[str, str] = field(default_factory=dict)
    format: str = "ndjson"  # "csv": one field per column, in `columns` order

    def to_json(self) -> dict:
        return {"name": self.name, "path": self.path.name, "columns": self.columns, "key": list(self.key),
                "upsert": self.upsert, "rows": self.rows, "widened": self.widened, "format": self.format}

    @classmethod
    def from_json(cls, data: dict, directory: Path) -> "StagedTable":
        return cls(data["name"], directory / data["path"], data["columns"], tuple(data["key"]),
                   data["upsert"], data["rows"], data.get("widened", {}), data.get("format", "ndjson"))


class Engine(Protocol):
    """A warehouse connection. Implementations: duckdb, postgres, mysql, snowflake, redshift."""

    dialect: Dialect

    def ping(self) -> None:
        """Connect and check the grants Segue needs; WarehousePermission names a missing one."""

    def tables(self, schema: str) -> dict[str, dict[str, str]]:
        """Existing tables of `schema`: table -> column -> generic type ({} for no schema)."""

    def create_schema(self, schema: str) -> None: ...

    def drop_schema(self, schema: str) -> None:
        """Drop the schema and its tables (a backfill starts from an empty schema)."""

    def create_table(self, schema: str, table: str, columns: dict[str, str], key: tuple[str, ...]) -> None: ...

    def add_columns(self, schema: str, table: str, columns: dict[str, str]) -> None: ...

    def widen_columns(self, schema: str, table: str, columns: dict[str, str]) -> None: ...

    def load(self, schema: str, tables: list[StagedTable]) -> None:
        """Bulk-load every staged file and merge it into its table, all in one transaction."""

    def close(self) -> None: ...
