"""Store fixtures: each test gets a fresh, migrated store on SQLite and on PostgreSQL.

PostgreSQL: one uniquely named database per test run (dropped at the end), one schema per
test inside it. Set SEGUE_TEST_POSTGRES_URL to point elsewhere than the local default.
"""

from __future__ import annotations

import contextlib
import os
import uuid

import pytest

from segue.config import Settings
from segue.store import Store

POSTGRES_URL = os.environ.get("SEGUE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _server_url(database: str) -> str:
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + database


def _admin_connection():
    import psycopg

    return psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)


@contextlib.contextmanager
def fresh_database(prefix: str):
    """URL of a new, uniquely named database, dropped on exit; skips when PostgreSQL is unreachable."""
    try:
        admin = _admin_connection()
    except Exception as error:  # no driver, no server, no permission
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {error}")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        yield _server_url(name)
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_database():
    """URL of a database created for this test run."""
    with fresh_database("segue_test") as url:
        yield url


@pytest.fixture
def postgres_url(postgres_database):
    """A fresh schema in the run's database, as the connection's search_path."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_database, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    return f"{postgres_database}?options=-csearch_path%3D{schema}"


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'config.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request):
    """The URL of an empty config store, once per engine."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def store(store_url, tmp_path):
    """A migrated store with its default workspace."""
    settings = Settings.load(environ={}, data_dir=tmp_path / "data", database_url=store_url)
    opened = Store.open(settings)
    yield opened
    opened.close()


@pytest.fixture
def source(store):
    """A source to connect destinations to."""
    return store.create_source("Web", "javascript")


def raw_database_bytes(store: Store) -> bytes:
    """What the database holds: SQLite's file and write-ahead log byte for byte; on PostgreSQL
    every row of every table, as text."""
    if store.engine.dialect.name != "sqlite":
        return _every_row(store).encode()
    path = store.engine.url.database
    chunks = []
    for suffix in ("", "-wal"):
        if os.path.exists(path + suffix):
            with open(path + suffix, "rb") as file:
                chunks.append(file.read())
    assert chunks and len(chunks[0]) > 0
    return b"".join(chunks)


def _every_row(store: Store) -> str:
    from sqlalchemy import inspect, text

    with store.engine.connect() as connection:
        tables = inspect(connection).get_table_names()
        return repr([connection.execute(text(f"SELECT * FROM {table}")).all() for table in tables])


def all_details_text(store: Store) -> str:
    """The audit trail's details, as one string to search."""
    return repr([event.details for event in store.list_audit(limit=1000)])
