"""Store fixtures: each test gets a fresh, migrated store on SQLite and on PostgreSQL
(`postgres_url`, tests/conftest.py: one schema per test in a database made for the run)."""

from __future__ import annotations

import os

import pytest

from segue.config import Settings
from segue.store import Store


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
