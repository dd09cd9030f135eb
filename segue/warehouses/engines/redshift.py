"""Amazon Redshift (beta): PostgreSQL's wire protocol, with the SQL differences Redshift needs.

Redshift has no ON CONFLICT, no json_populate_record and no COPY FROM STDIN (its COPY reads
from S3), so a batch is inserted into `LIKE` temporary tables with multi-row INSERTs, then
merged with UPDATE ... FROM (upserts) and INSERT ... WHERE NOT EXISTS, all in one transaction.
Strings are capped at 512 characters as on Segment (stored in VARCHAR(2048): Redshift counts
bytes, and 512 UTF-8 characters take at most 2,048). Column types cannot be changed in place.
"""

from __future__ import annotations

import orjson

from segue.warehouses.engines import sql
from segue.warehouses.engines.base import Dialect, StagedTable
from segue.warehouses.engines.postgres import PostgresEngine

TYPES = {
    "timestamp": "TIMESTAMPTZ", "integer": "BIGINT", "float": "DOUBLE PRECISION", "boolean": "BOOLEAN",
    "varchar": "VARCHAR(2048)",
}
PARAMETERS_PER_INSERT = 30_000  # the wire protocol allows 65,535 per statement


class RedshiftEngine(PostgresEngine):
    """A Redshift cluster (port 5439 by default)."""

    dialect = Dialect("redshift", column_limit=1600, varchar_limit=512, can_widen=False, text_nul=False,
                      key_limit=512)
    types = TYPES

    def __init__(self, host: str = "127.0.0.1", port: int = 5439, **settings) -> None:
        super().__init__(host=host, port=port, **settings)

    def add_columns(self, schema: str, table: str, columns: dict[str, str]) -> None:
        for column, kind in columns.items():  # one column per ALTER, no IF NOT EXISTS
            target = sql.qualified(schema, table)
            self.conn.execute(f"ALTER TABLE {target} ADD COLUMN {sql.quote(column)} {TYPES[kind]}")

    def widen_columns(self, schema: str, table: str, columns: dict[str, str]) -> None:
        raise NotImplementedError("Redshift cannot change a column's type; the loader rejects instead")

    def _merge(self, schema: str, table: StagedTable, stage: str) -> None:
        target, columns = sql.qualified(schema, table.name), list(table.columns)
        self.conn.execute(f"CREATE TEMPORARY TABLE {stage} (LIKE {target})")
        with open(table.path, "rb") as staged:
            rows = [orjson.loads(line) for line in staged]
        step = max(1, PARAMETERS_PER_INSERT // len(columns))
        for start in range(0, len(rows), step):
            self._insert(stage, columns, rows[start:start + step])
        if table.upsert:
            self.conn.execute(sql.update_existing(target, stage, columns, table.key))
        self.conn.execute(sql.insert_missing(target, stage, columns, table.key))
        self.conn.execute(f"DROP TABLE {stage}")

    def _insert(self, stage: str, columns: list[str], rows: list[dict]) -> None:
        placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
        values = ", ".join([placeholders] * len(rows))
        params = [row.get(column) for row in rows for column in columns]
        self.conn.execute(f"INSERT INTO {stage} ({sql.names(columns)}) VALUES {values}", params)
