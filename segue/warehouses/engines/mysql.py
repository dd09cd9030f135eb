"""MySQL and MariaDB: a schema is a database; multi-row inserts into a temporary staging table,
then INSERT ... SELECT ... ON DUPLICATE KEY UPDATE, all tables of a batch in one transaction.

Key columns are VARCHAR(255) primary keys (InnoDB cannot index LONGTEXT); timestamps are
DATETIME(6) in UTC, staged as naive UTC text; InnoDB allows 1,017 columns per table.
"""

from __future__ import annotations

from typing import Any

import orjson

from segue.warehouses.engines import sql
from segue.warehouses.engines.base import Dialect, StagedTable, WarehousePermission, WarehouseUnavailable
from segue.warehouses.engines.postgres import secret

TYPES = {
    "timestamp": "DATETIME(6)", "integer": "BIGINT", "float": "DOUBLE", "boolean": "BOOLEAN", "varchar": "LONGTEXT",
}
KEY_TYPE = "VARCHAR(255) CHARACTER SET utf8mb4 COLLATE {collation}"
# Byte-for-byte key comparison, trailing spaces included (MariaDB, MySQL 8); else utf8mb4_bin.
KEY_COLLATIONS = ("utf8mb4_nopad_bin", "utf8mb4_0900_bin", "utf8mb4_bin")
KNOWN = {
    "datetime": "timestamp", "timestamp": "timestamp", "bigint": "integer", "int": "integer", "double": "float",
    "float": "float", "decimal": "float", "tinyint": "boolean", "longtext": "varchar", "text": "varchar",
    "varchar": "varchar", "mediumtext": "varchar",
}
ROWS_PER_INSERT = 1000
GRANTS = "CREATE, ALTER, DROP, INSERT, UPDATE, SELECT, CREATE TEMPORARY TABLES"


def quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class MySQLEngine:
    """A MySQL or MariaDB server; each source schema is a database of its own."""

    dialect = Dialect("mysql", column_limit=1017, utc_timestamps=True, key_limit=255)

    def __init__(self, host: str = "127.0.0.1", port: int = 3306, database: str = "mysql", user: str = "root",
                 password: Any = None, connection=None) -> None:
        import pymysql

        self.user = user
        try:
            self.conn = connection or pymysql.connect(
                host=host, port=port, user=user, password=secret(password) or "", database=database,
                charset="utf8mb4", autocommit=True, connect_timeout=10,
            )
        except pymysql.err.OperationalError as error:
            raise _error(error, f"cannot connect to MySQL at {host}:{port}") from error
        self._execute("SET time_zone = '+00:00'")
        self.key_type = self._key_type()

    def _execute(self, statement: str, params: Any = None) -> list[tuple]:
        with self.conn.cursor() as cursor:
            cursor.execute(statement, params)
            return list(cursor.fetchall())

    def _key_type(self) -> str:
        """Key columns compared exactly: the default collation would make "Bob", "bob" and
        "bob " one key, and a batch holding two of them would fail on the primary key."""
        rows = self._execute("SELECT collation_name FROM information_schema.collations WHERE collation_name IN "
                             "(%s, %s, %s)", KEY_COLLATIONS)
        found = {row[0] for row in rows}
        return KEY_TYPE.format(collation=next(name for name in KEY_COLLATIONS if name in found))

    def ping(self) -> None:
        self._execute("SELECT 1")

    def tables(self, schema: str) -> dict[str, dict[str, str]]:
        rows = self._execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s ORDER BY table_name, ordinal_position", [schema],
        )
        return sql.columns_by_table(rows, KNOWN)

    def create_schema(self, schema: str) -> None:
        self._execute(f"CREATE DATABASE IF NOT EXISTS {quote(schema)} CHARACTER SET utf8mb4")

    def drop_schema(self, schema: str) -> None:
        self._execute(f"DROP DATABASE IF EXISTS {quote(schema)}")

    def create_table(self, schema: str, table: str, columns: dict[str, str], key: tuple[str, ...]) -> None:
        target = sql.qualified(schema, table, quote)
        self._execute(sql.create_table(target, columns, TYPES, key, quote, key_type=self.key_type))

    def add_columns(self, schema: str, table: str, columns: dict[str, str]) -> None:
        adds = ", ".join(f"ADD COLUMN {quote(column)} {TYPES[kind]}" for column, kind in columns.items())
        self._execute(f"ALTER TABLE {sql.qualified(schema, table, quote)} {adds}")

    def widen_columns(self, schema: str, table: str, columns: dict[str, str]) -> None:
        changes = ", ".join(f"MODIFY COLUMN {quote(column)} {TYPES[kind]}" for column, kind in columns.items())
        self._execute(f"ALTER TABLE {sql.qualified(schema, table, quote)} {changes}")

    def load(self, schema: str, tables: list[StagedTable]) -> None:
        import pymysql

        self.conn.begin()
        try:
            for number, table in enumerate(tables):
                self._merge(schema, table, f"segue_stage_{number}")
            self.conn.commit()
        except BaseException as error:
            self.conn.rollback()
            if isinstance(error, pymysql.MySQLError):
                raise _error(error, "MySQL load failed") from error
            raise

    def _merge(self, schema: str, table: StagedTable, stage: str) -> None:
        target, columns = sql.qualified(schema, table.name, quote), list(table.columns)
        self._execute(f"CREATE TEMPORARY TABLE {stage} LIKE {target}")
        insert = f"INSERT INTO {stage} ({sql.names(columns, quote)}) VALUES ({', '.join(['%s'] * len(columns))})"
        with self.conn.cursor() as cursor, open(table.path, "rb") as staged:
            for batch in _batches(staged, columns):
                cursor.executemany(insert, batch)
        self._execute(merge(target, stage, columns, table))
        self._execute(f"DROP TEMPORARY TABLE {stage}")

    def close(self) -> None:
        self.conn.close()


def merge(target: str, stage: str, columns: list[str], table: StagedTable) -> str:
    """INSERT ... SELECT ... ON DUPLICATE KEY UPDATE: first copy kept, or latest non-null values."""
    if table.upsert:
        updates = ", ".join(
            f"{target}.{quote(c)} = COALESCE(VALUES({quote(c)}), {target}.{quote(c)})"
            for c in columns if c not in table.key
        )
    else:
        updates = f"{target}.{quote(table.key[0])} = {target}.{quote(table.key[0])}"
    names = sql.names(columns, quote)
    return f"INSERT INTO {target} ({names}) SELECT {names} FROM {stage} ON DUPLICATE KEY UPDATE {updates}"


def _batches(staged, columns: list[str]):
    batch = []
    for line in staged:
        row = orjson.loads(line)
        batch.append(tuple(row.get(column) for column in columns))
        if len(batch) == ROWS_PER_INSERT:
            yield batch
            batch = []
    if batch:
        yield batch


def _error(error: Exception, context: str) -> Exception:
    code = error.args[0] if error.args else None
    if code in (1044, 1045, 1142, 1227):
        return WarehousePermission(f"{context}: {error}; grant the user: GRANT {GRANTS} ON *.* TO ...")
    return WarehouseUnavailable(f"{context}: {error}")
