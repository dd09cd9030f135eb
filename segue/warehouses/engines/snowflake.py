"""Snowflake: staged JSON lines parsed into typed temporary tables, then merged in one transaction.

Identifiers are quoted in upper case, which is what unquoted names resolve to, so users query
`tracks.user_id` without quotes as they do on Segment. Snowflake commits any open transaction
on DDL, so the temporary tables are created and filled first; then, between one BEGIN and
COMMIT, every table gets an UPDATE ... FROM (upserts) and an INSERT of the keys it lacks.
(PUT + COPY INTO would suit very large batches; multi-row inserts keep this testable with fakesnow.)
"""

from __future__ import annotations

from typing import Any

from segue.warehouses.engines import sql
from segue.warehouses.engines.base import Dialect, StagedTable, WarehousePermission, WarehouseUnavailable
from segue.warehouses.engines.postgres import secret

TYPES = {
    "timestamp": "TIMESTAMP_TZ", "integer": "NUMBER(38,0)", "float": "FLOAT", "boolean": "BOOLEAN", "varchar": "VARCHAR",
}
KNOWN = {
    "timestamp_tz": "timestamp", "timestamp_ntz": "timestamp", "timestamp_ltz": "timestamp", "number": "integer",
    "float": "float", "double": "float", "boolean": "boolean", "text": "varchar", "varchar": "varchar",
}
STATEMENT_BYTES = 512 * 1024  # the connector inlines parameters; Snowflake caps a statement's text


def quote(name: str) -> str:
    return '"' + name.upper().replace('"', '""') + '"'


class SnowflakeEngine:
    """A Snowflake database reached with snowflake-connector-python (password or key pair)."""

    dialect = Dialect("snowflake", column_limit=10_000, can_widen=False)

    def __init__(self, account: str, warehouse: str, database: str, user: str, password: Any = None,
                 private_key: Any = None, role: str | None = None, connection=None) -> None:
        import snowflake.connector

        settings = {"account": account, "warehouse": warehouse, "database": database, "user": user,
                    "password": secret(password), "private_key": secret(private_key), "role": role}
        try:
            self.conn = connection or snowflake.connector.connect(
                **{k: v for k, v in settings.items() if v}, session_parameters={"TIMEZONE": "UTC"}
            )
        except snowflake.connector.errors.Error as error:
            raise WarehouseUnavailable(f"cannot connect to Snowflake account {account}: {error}") from error

    def _execute(self, statement: str, params: Any = None) -> list[tuple]:
        with self.conn.cursor() as cursor:
            cursor.execute(statement, params)
            return list(cursor.fetchall())

    def ping(self) -> None:
        import snowflake.connector

        try:
            self._execute("SELECT CURRENT_ROLE()")
        except snowflake.connector.errors.ProgrammingError as error:
            raise WarehousePermission(
                f"Snowflake refused a query: {error}; grant the role USAGE on the warehouse and database "
                "and CREATE SCHEMA on the database"
            ) from error

    def tables(self, schema: str) -> dict[str, dict[str, str]]:
        rows = self._execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s ORDER BY table_name, ordinal_position", (schema.upper(),),
        )
        found: dict[str, dict[str, str]] = {}
        for table, column, kind in rows:
            found.setdefault(table.lower(), {})[column.lower()] = sql.generic_type(kind, KNOWN)
        return found

    def create_schema(self, schema: str) -> None:
        self._execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")

    def drop_schema(self, schema: str) -> None:
        self._execute(f"DROP SCHEMA IF EXISTS {quote(schema)} CASCADE")

    def create_table(self, schema: str, table: str, columns: dict[str, str], key: tuple[str, ...]) -> None:
        self._execute(sql.create_table(sql.qualified(schema, table, quote), columns, TYPES, key, quote))

    def add_columns(self, schema: str, table: str, columns: dict[str, str]) -> None:
        target = sql.qualified(schema, table, quote)
        for column, kind in columns.items():
            self._execute(f"ALTER TABLE {target} ADD COLUMN {quote(column)} {TYPES[kind]}")

    def widen_columns(self, schema: str, table: str, columns: dict[str, str]) -> None:
        raise NotImplementedError("Snowflake cannot change a column's type; the loader rejects instead")

    def load(self, schema: str, tables: list[StagedTable]) -> None:
        import snowflake.connector

        # `$`: no snake-cased event table can have this name. A temporary table shadows a table of
        # the same name in its schema for the session, so "segue_stage_0" could be an event's table.
        stages = [f"segue$stage_{number}" for number in range(len(tables))]
        self._execute(f"USE SCHEMA {quote(schema)}")  # where the temporary tables live
        try:
            for stage, table in zip(stages, tables):
                self._stage(stage, table)
            self._merge_all(schema, tables, stages)
        except snowflake.connector.errors.Error as error:
            raise WarehouseUnavailable(f"Snowflake load failed: {error}") from error
        finally:
            for stage in stages:
                self._execute(f"DROP TABLE IF EXISTS {quote(stage)}")

    def _stage(self, stage: str, table: StagedTable) -> None:
        """A temporary table typed like the target, filled from the staged JSON lines."""
        columns = sql.column_defs(table.columns, TYPES, quote)
        self._execute(f"CREATE OR REPLACE TEMPORARY TABLE {quote(stage)} ({columns})")
        typed = ", ".join(f"doc:{sql.quote(c)}::{TYPES[k]}" for c, k in table.columns.items())
        insert = (f"INSERT INTO {quote(stage)} ({sql.names(table.columns, quote)}) "
                  f"SELECT {typed} FROM (SELECT PARSE_JSON(column1) AS doc FROM VALUES ")
        for chunk in _chunks(table.path):
            self._execute(insert + ", ".join(["(%s)"] * len(chunk)) + ")", chunk)

    def _merge_all(self, schema: str, tables: list[StagedTable], stages: list[str]) -> None:
        """Update existing keys (upserts) and insert new ones for every table in one transaction."""
        self._execute("BEGIN")
        try:
            for stage, table in zip(stages, tables):
                target, columns = sql.qualified(schema, table.name, quote), list(table.columns)
                if table.upsert:
                    self._execute(sql.update_existing(target, quote(stage), columns, table.key, quote))
                self._execute(sql.insert_missing(target, quote(stage), columns, table.key, quote))
            self._execute("COMMIT")
        except BaseException:
            self._execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.conn.close()


def _chunks(path):
    """The staged JSON lines in groups of at most STATEMENT_BYTES."""
    chunk, size = [], 0
    with open(path, encoding="utf-8") as staged:
        for line in staged:
            if chunk and size + len(line) > STATEMENT_BYTES:
                yield chunk
                chunk, size = [], 0
            chunk.append(line.rstrip("\n"))
            size += len(line)
    if chunk:
        yield chunk

