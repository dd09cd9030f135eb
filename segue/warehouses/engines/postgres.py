"""PostgreSQL: staged CSV COPYed into a typed temporary table, then merged with ON CONFLICT.

Each staged file streams unchanged into a temporary table with the batch's columns and their
real types (COPY ... FORMAT csv), then one INSERT ... ON CONFLICT per table merges it. Every
table of a batch is merged in one transaction; the temporary tables drop at commit.
NDJSON batches (staged by earlier versions) go through a one-column `json` table and
`json_populate_record` instead.
"""

from __future__ import annotations

from typing import Any

from segue.warehouses.engines import sql
from segue.warehouses.engines.base import Dialect, StagedTable, WarehousePermission, WarehouseUnavailable

TYPES = {
    "timestamp": "timestamptz", "integer": "bigint", "float": "double precision", "boolean": "boolean",
    "varchar": "text",
}
KNOWN = {
    "timestamp with time zone": "timestamp", "timestamp without time zone": "timestamp", "bigint": "integer",
    "integer": "integer", "smallint": "integer", "double precision": "float", "real": "float", "numeric": "float",
    "boolean": "boolean", "text": "varchar", "character varying": "varchar",
}
COPY_JSON = "COPY {stage} (doc) FROM STDIN (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')"
COPY_CSV = "COPY {stage} FROM STDIN (FORMAT csv, NULL 'null')"  # loader.write_csv; "null" is a string
CHUNK_BYTES = 1 << 20


def secret(value: Any) -> Any:
    """The plain value of a pydantic SecretStr (or the value itself)."""
    return value.get_secret_value() if hasattr(value, "get_secret_value") else value


class PostgresEngine:
    """A PostgreSQL database; `connection` lets tests and the lead pass an open psycopg one."""

    dialect = Dialect("postgres", column_limit=1600, staging="csv", text_nul=False)
    types = TYPES

    def __init__(self, host: str = "127.0.0.1", port: int = 5432, database: str = "postgres", user: str = "postgres",
                 password: Any = None, sslmode: str = "prefer", connection=None) -> None:
        import psycopg

        self.database, self.user = database, user
        try:
            self.conn = connection or psycopg.connect(
                host=host, port=port, dbname=database, user=user, password=secret(password), sslmode=sslmode,
                autocommit=True, connect_timeout=10,
            )
        except psycopg.OperationalError as error:
            raise WarehouseUnavailable(f"cannot connect to {self.dialect.slug} at {host}:{port}: {error}") from error
        self.conn.execute("SET TIME ZONE 'UTC'")

    def ping(self) -> None:
        row = self.conn.execute(
            "SELECT has_database_privilege(current_database(), 'CREATE'), "
            "has_database_privilege(current_database(), 'TEMPORARY')"
        ).fetchone()
        missing = [grant for grant, granted in zip(("CREATE", "TEMPORARY"), row) if not granted]
        if missing:
            raise WarehousePermission(
                f"user {self.user} lacks {' and '.join(missing)} on database {self.database}; run: "
                f'GRANT {", ".join(missing)} ON DATABASE "{self.database}" TO "{self.user}";'
            )

    def tables(self, schema: str) -> dict[str, dict[str, str]]:
        rows = self.conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s ORDER BY table_name, ordinal_position",
            [schema],
        ).fetchall()
        return sql.columns_by_table(rows, KNOWN)

    def create_schema(self, schema: str) -> None:
        self.conn.execute(f"CREATE SCHEMA IF NOT EXISTS {sql.quote(schema)}")

    def drop_schema(self, schema: str) -> None:
        self.conn.execute(f"DROP SCHEMA IF EXISTS {sql.quote(schema)} CASCADE")

    def create_table(self, schema: str, table: str, columns: dict[str, str], key: tuple[str, ...]) -> None:
        self.conn.execute(sql.create_table(sql.qualified(schema, table), columns, self.types, key))

    def add_columns(self, schema: str, table: str, columns: dict[str, str]) -> None:
        adds = ", ".join(f"ADD COLUMN IF NOT EXISTS {sql.quote(c)} {self.types[k]}" for c, k in columns.items())
        self.conn.execute(f"ALTER TABLE {sql.qualified(schema, table)} {adds}")

    def widen_columns(self, schema: str, table: str, columns: dict[str, str]) -> None:
        changes = ", ".join(
            f"ALTER COLUMN {sql.quote(c)} TYPE {self.types[k]} USING {sql.quote(c)}::{self.types[k]}"
            for c, k in columns.items()
        )
        self.conn.execute(f"ALTER TABLE {sql.qualified(schema, table)} {changes}")

    def load(self, schema: str, tables: list[StagedTable]) -> None:
        import psycopg

        try:
            with self.conn.transaction():
                for number, table in enumerate(tables):
                    self._merge(schema, table, f"segue_stage_{number}")
        except psycopg.Error as error:
            raise WarehouseUnavailable(f"{self.dialect.slug} load failed: {error}") from error

    def _merge(self, schema: str, table: StagedTable, stage: str) -> None:
        target, columns = sql.qualified(schema, table.name), list(table.columns)
        if table.format == "csv":
            self.conn.execute(f"CREATE TEMPORARY TABLE {stage} ({sql.column_defs(table.columns, self.types)}) "
                              "ON COMMIT DROP")
            self._copy(table, COPY_CSV.format(stage=stage))
            rows = stage
        else:
            self.conn.execute(f"CREATE TEMPORARY TABLE {stage} (doc json) ON COMMIT DROP")
            self._copy(table, COPY_JSON.format(stage=stage))
            rows = f"(SELECT r.* FROM {stage}, json_populate_record(NULL::{target}, {stage}.doc) r)"
        merge = upsert if table.upsert else insert_new
        self.conn.execute(merge(target, rows, columns, table))

    def _copy(self, table: StagedTable, statement: str) -> None:
        with self.conn.cursor().copy(statement) as copy, open(table.path, "rb") as staged:
            while chunk := staged.read(CHUNK_BYTES):
                copy.write(chunk)

    def close(self) -> None:
        self.conn.close()


def insert_new(target: str, rows: str, columns: list[str], table: StagedTable) -> str:
    return (
        f"INSERT INTO {target} ({sql.names(columns)}) SELECT {sql.names(columns)} FROM {rows} s "
        f"ON CONFLICT ({sql.names(table.key)}) DO NOTHING"
    )


def upsert(target: str, rows: str, columns: list[str], table: StagedTable) -> str:
    updates = ", ".join(
        f"{sql.quote(c)} = COALESCE(EXCLUDED.{sql.quote(c)}, t.{sql.quote(c)})" for c in columns if c not in table.key
    )
    return (
        f"INSERT INTO {target} AS t ({sql.names(columns)}) SELECT {sql.names(columns)} FROM {rows} s "
        f"ON CONFLICT ({sql.names(table.key)}) DO UPDATE SET {updates}"
    )
