"""Engines for the config store and the Alembic migrations that shape its schema.

SQLite (the default) runs in WAL mode with a busy timeout, so the CLI can write while a server
polls. Segue issues SQLite's `BEGIN` itself (pysqlite's own transaction handling skips DDL and
reads), and write transactions use `BEGIN IMMEDIATE` so concurrent writers queue on the busy
timeout instead of failing. PostgreSQL URLs without a driver get psycopg 3.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_MS = 10_000
BEGIN_MODE = "segue_sqlite_begin"  # execution option: "IMMEDIATE" for write transactions
_MIGRATION_LOCK_ID = 0x5E6E_C0F6  # PostgreSQL advisory lock held while migrating


def normalize_url(url: str) -> str:
    """`postgres://` and `postgresql://` mean psycopg 3 (the `postgres` extra)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


# Tables that share the config store's PostgreSQL database but are not its own: the delivery
# layer's retry queue and statistics (segue/pipeline/retries_postgres.py, stats.py) create and
# own them. Alembic's autogenerate must neither drop nor report them.
DELIVERY_TABLES = ("parked", "delivery_")


def is_config_store_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic's `include_name`: everything but the delivery layer's tables."""
    return not (type_ == "table" and name is not None and name.startswith(DELIVERY_TABLES))


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and make_url(normalize_url(url)).get_backend_name() == "postgresql"


def libpq_conninfo(url: str) -> str:
    """`url` as psycopg's own `connect` takes it (no SQLAlchemy driver name)."""
    return make_url(normalize_url(url)).set(drivername="postgresql").render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    """An engine for `url`, with Segue's SQLite settings when it is SQLite."""
    url = normalize_url(url)
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def _configure_sqlite_connection(dbapi_connection, connection_record) -> None:
    dbapi_connection.isolation_level = None  # Segue emits BEGIN itself, see _begin_sqlite_transaction
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", f"busy_timeout={BUSY_TIMEOUT_MS}", "foreign_keys=ON", "synchronous=NORMAL"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _begin_sqlite_transaction(connection: Connection) -> None:
    mode = connection.get_execution_options().get(BEGIN_MODE, "")
    connection.exec_driver_sql(f"BEGIN {mode}".strip())


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration without an alembic.ini: the packaged scripts, this connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the schema up to `revision`, in one transaction that other migrators wait on."""
    _run_locked(engine, lambda config: command.upgrade(config, revision))


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Migrate the schema down to `revision` (`base`: no tables left but alembic_version)."""
    _run_locked(engine, lambda config: command.downgrade(config, revision))


def current_revision(engine: Engine) -> str | None:
    """The schema's revision, None when it was never migrated."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _run_locked(engine: Engine, run) -> None:
    with engine.connect() as connection:
        connection.execution_options(**{BEGIN_MODE: "IMMEDIATE"})
        with connection.begin():
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})")
            run(alembic_config(connection))
