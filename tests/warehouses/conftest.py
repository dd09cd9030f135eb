"""`target`: one warehouse engine per parameter, a fresh schema, dropped afterwards.

DuckDB always runs; PostgreSQL (127.0.0.1:5432, trust auth, db `test`) and MariaDB
(127.0.0.1:3306, root, db `test`) when they answer; Snowflake through fakesnow; Redshift's
SQL (beta) against the same PostgreSQL server.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Callable

import pytest

from segue.warehouses.engines import sql
from segue.warehouses.engines.base import WarehouseUnavailable

HOST = "127.0.0.1"


@dataclass
class Target:
    """An engine under test, its schema, and a DB-API way to read what it loaded."""

    engine: object
    schema: str
    quote: Callable[[str], str] = sql.quote

    def select(self, table: str, where: str = "") -> list[dict]:
        """Every row of `table` as {column: value}, ordered by id."""
        cursor = self.engine.conn.cursor()
        q = self.quote
        cursor.execute(f"SELECT * FROM {q(self.schema)}.{q(table)} {where} ORDER BY {q('id')}")
        names = [column[0].lower() for column in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def count(self, table: str) -> int:
        return len(self.select(table))


def _duckdb():
    from segue.warehouses.engines.duckdb import DuckDBEngine

    return DuckDBEngine(), sql.quote


def _postgres():
    from segue.warehouses.engines.postgres import PostgresEngine

    return PostgresEngine(host=HOST, database="test", user="postgres"), sql.quote


def _redshift():
    from segue.warehouses.engines.redshift import RedshiftEngine

    return RedshiftEngine(host=HOST, port=5432, database="test", user="postgres", sslmode="prefer"), sql.quote


def _mysql():
    from segue.warehouses.engines.mysql import MySQLEngine, quote

    return MySQLEngine(host=HOST, database="test", user="root", password=""), quote


def _snowflake():
    import fakesnow

    from segue.warehouses.engines.snowflake import SnowflakeEngine, quote

    patch = fakesnow.patch()
    patch.__enter__()
    try:
        engine = SnowflakeEngine(account="fake", warehouse="fake", database="segue_test", user="fake", password="fake")
    except BaseException:
        patch.__exit__(None, None, None)
        raise
    engine.fakesnow_patch = patch
    return engine, quote


ENGINES = {"duckdb": _duckdb, "postgres": _postgres, "redshift": _redshift, "mysql": _mysql, "snowflake": _snowflake}


@pytest.fixture(params=list(ENGINES))
def target(request):
    try:
        engine, quote = ENGINES[request.param]()
    except (ImportError, WarehouseUnavailable) as error:  # a server that does not answer, a driver missing
        pytest.skip(f"{request.param} is not available here: {error}")
    schema = f"segue_test_{uuid.uuid4().hex[:8]}"
    try:
        yield Target(engine, schema, quote)
    finally:
        engine.drop_schema(schema)
        engine.close()
        patch = getattr(engine, "fakesnow_patch", None)
        if patch is not None:
            patch.__exit__(None, None, None)
