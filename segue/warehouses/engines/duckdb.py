"""DuckDB, the embedded default: staged NDJSON read in bulk with `read_json`, merged in SQL.

Tables carry no primary key (DuckDB's indexes slow bulk inserts and block some updates); the
merge is an anti-join on the key, which DuckDB runs as a hash join. Event tables insert straight
from the file; users and groups (update, then insert) read it once into a temporary table.
"""

from __future__ import annotations

from pathlib import Path

from segue.warehouses.engines import sql
from segue.warehouses.engines.base import Dialect, StagedTable, WarehousePermission, WarehouseUnavailable

TYPES = {"timestamp": "TIMESTAMPTZ", "integer": "BIGINT", "float": "DOUBLE", "boolean": "BOOLEAN", "varchar": "VARCHAR"}
KNOWN = {
    "timestamp with time zone": "timestamp", "timestamp": "timestamp", "bigint": "integer", "integer": "integer",
    "double": "float", "float": "float", "decimal": "float", "boolean": "boolean", "varchar": "varchar",
}
STAGE = "segue_stage"


class DuckDBEngine:
    """A DuckDB database file (or `:memory:`), or an existing connection."""

    dialect = Dialect("duckdb", column_limit=10_000)

    def __init__(self, path: str | Path = ":memory:", connection=None) -> None:
        import duckdb

        try:
            self.conn = connection or duckdb.connect(str(path))
        except duckdb.Error as error:
            raise WarehousePermission(f"cannot open the DuckDB database {path}: {error}") from error
        self.conn.execute("SET TimeZone = 'UTC'")

    def ping(self) -> None:
        self.conn.execute("SELECT 1").fetchall()

    def tables(self, schema: str) -> dict[str, dict[str, str]]:
        rows = self.conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_catalog = current_database() ORDER BY table_name, ordinal_position",
            [schema],
        ).fetchall()
        return sql.columns_by_table(rows, KNOWN)

    def create_schema(self, schema: str) -> None:
        self.conn.execute(f"CREATE SCHEMA IF NOT EXISTS {sql.quote(schema)}")

    def drop_schema(self, schema: str) -> None:
        self.conn.execute(f"DROP SCHEMA IF EXISTS {sql.quote(schema)} CASCADE")

    def create_table(self, schema: str, table: str, columns: dict[str, str], key: tuple[str, ...]) -> None:
        target = sql.qualified(schema, table)
        self.conn.execute(sql.create_table(target, columns, TYPES, key, primary_key=False))

    def add_columns(self, schema: str, table: str, columns: dict[str, str]) -> None:
        target = sql.qualified(schema, table)
        for column, kind in columns.items():
            self.conn.execute(f"ALTER TABLE {target} ADD COLUMN IF NOT EXISTS {sql.quote(column)} {TYPES[kind]}")

    def widen_columns(self, schema: str, table: str, columns: dict[str, str]) -> None:
        target = sql.qualified(schema, table)
        for column, kind in columns.items():
            self.conn.execute(f"ALTER TABLE {target} ALTER COLUMN {sql.quote(column)} TYPE {TYPES[kind]}")

    def load(self, schema: str, tables: list[StagedTable]) -> None:
        import duckdb

        try:
            self.conn.execute("BEGIN TRANSACTION")
            for table in tables:
                self._merge(schema, table)
            self.conn.execute("COMMIT")
        except duckdb.Error as error:
            self.conn.execute("ROLLBACK")
            raise WarehouseUnavailable(f"DuckDB load failed: {error}") from error
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def _merge(self, schema: str, table: StagedTable) -> None:
        target, columns = sql.qualified(schema, table.name), list(table.columns)
        source = read_json(table)
        if not table.upsert:  # one statement: DuckDB reads the file straight into the anti-join
            self.conn.execute(sql.insert_missing(target, source, columns, table.key))
            return
        self.conn.execute(f"CREATE OR REPLACE TEMP TABLE {STAGE} AS SELECT * FROM {source}")
        self.conn.execute(sql.update_existing(target, STAGE, columns, table.key))
        self.conn.execute(sql.insert_missing(target, STAGE, columns, table.key))
        self.conn.execute(f"DROP TABLE {STAGE}")

    def close(self) -> None:
        self.conn.close()


def read_json(table: StagedTable) -> str:
    """`read_json(...)` over a staged file with every column's type given (no sniffing)."""
    columns = ", ".join(f"{sql.literal(name)}: {sql.literal(TYPES[kind])}" for name, kind in table.columns.items())
    return (
        f"read_json({sql.literal(str(table.path))}, format = 'newline_delimited', records = true, "
        f"columns = {{{columns}}})"
    )
