"""Migrations, opening and engine settings of the config store."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import inspect, text

from segue.config import Settings
from segue.errors import ConfigError
from segue.store import Store
from segue.store.engine import current_revision, normalize_url

SEGUE_TABLES = {"workspaces", "sources"}
CONTROL_PLANE_TABLES = {
    "destinations", "destination_filters", "destination_mappings", "warehouses", "users", "api_tokens", "audit_events",
}
HEAD = "0004"


def _tables(store: Store) -> set[str]:
    return set(inspect(store.engine).get_table_names())


def test_migrations_upgrade_from_empty_and_downgrade_to_base(store_url):
    store = Store(store_url)
    try:
        assert current_revision(store.engine) is None
        store.migrate()
        assert SEGUE_TABLES | CONTROL_PLANE_TABLES <= _tables(store)
        assert current_revision(store.engine) == HEAD
        store.downgrade("base")
        assert _tables(store) & (SEGUE_TABLES | CONTROL_PLANE_TABLES) == set()
        assert current_revision(store.engine) is None
        store.migrate()
        assert current_revision(store.engine) == HEAD
    finally:
        store.close()


def test_open_is_idempotent_and_keeps_one_default_workspace(store_url, tmp_path):
    settings = Settings.load(environ={}, data_dir=tmp_path / "data", database_url=store_url)
    first = Store.open(settings)
    second = Store.open(settings)
    try:
        assert first.workspace_id == second.workspace_id
        with first.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM workspaces")).scalar_one() == 1
    finally:
        first.close()
        second.close()


def test_open_creates_the_data_dir_and_a_sqlite_file_in_wal_mode(tmp_path):
    settings = Settings.load(environ={}, data_dir=tmp_path / "nested" / "data")
    with Store.open(settings) as store:
        assert (tmp_path / "nested" / "data" / "config.db").exists()
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000


def test_concurrent_sqlite_writers_wait_instead_of_failing(tmp_path):
    settings = Settings.load(environ={}, data_dir=tmp_path)
    stores = [Store.open(settings) for _ in range(4)]
    errors: list[Exception] = []

    def create_many(store: Store, worker: int) -> None:
        try:
            for number in range(10):
                store.create_source(f"w{worker} s{number}", "http")
        except Exception as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=create_many, args=(store, n)) for n, store in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert stores[0].config_version() == 40
    for store in stores:
        store.close()


def test_a_store_without_migrations_says_how_to_open_it(sqlite_url):
    store = Store(sqlite_url)
    store.migrate()
    try:
        with pytest.raises(ConfigError, match="no default workspace"):
            store.create_source("web", "http")
    finally:
        store.close()


@pytest.mark.parametrize("url", ["nonsense", "nosuchdb://x/y"])
def test_bad_database_urls_raise_config_error(url):
    with pytest.raises(ConfigError):
        Store(url)


def test_unreachable_postgres_raises_config_error_without_the_password(tmp_path):
    url = "postgresql://someone:hunter2@127.0.0.1:1/nothing?connect_timeout=2"
    settings = Settings.load(environ={}, data_dir=tmp_path, database_url=url)
    with pytest.raises(ConfigError, match="cannot open the config store") as caught:
        Store.open(settings)
    assert "hunter2" not in caught.value.message


def test_postgres_urls_use_psycopg_3():
    assert normalize_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"


def test_migration_0002_goes_down_to_0001_and_back_keeping_sources(store):
    source = store.create_source("web", "javascript")
    store.create_destination(source_id=source.id, catalog_slug="x", name="X", mode="cloud", enabled=True,
                             settings={}, secrets={}, actor="a")  # fmt: skip
    store.downgrade("0001")
    assert current_revision(store.engine) == "0001"
    assert _tables(store) & CONTROL_PLANE_TABLES == set()
    assert [row.id for row in store.list_sources()] == [source.id]
    store.migrate()
    assert current_revision(store.engine) == HEAD and CONTROL_PLANE_TABLES <= _tables(store)
    assert store.list_destinations() == [] and store.list_audit() == []
    assert store.create_warehouse(engine="postgres", name="W", settings={}, secrets={}, sync_interval_seconds=60,
                                  max_warehouses=None, actor="a").selective_sync == {}  # fmt: skip


def test_migration_0003_goes_down_to_0002_and_back_keeping_destinations(store):
    source = store.create_source("web", "javascript")
    destination = store.create_destination(source_id=source.id, catalog_slug="x", name="X", mode="cloud", enabled=True,
                                           settings={}, secrets={}, actor="a")  # fmt: skip
    store.create_mapping(destination.id, name="Track", trigger='type = "track"', action="track", fields={}, actor="a")
    store.downgrade("0002")
    assert current_revision(store.engine) == "0002" and "destination_mappings" not in _tables(store)
    assert [row.id for row in store.list_destinations()] == [destination.id]
    store.migrate()
    assert current_revision(store.engine) == HEAD and store.list_mappings(destination.id) == []
    again = store.create_mapping(destination.id, name="T", trigger="true", action="track", fields={}, actor="a")
    assert (again.enabled, again.position) == (True, 0)


def test_the_migrations_build_exactly_the_models_schema(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from segue.store.models import Base

    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


async def test_the_delivery_layers_tables_beside_the_store_are_not_the_migrations_business(postgres_url, tmp_path):
    """A cluster's retry queue and statistics live in the config store's database: comparing the
    migrations with the models leaves them out (autogenerate would otherwise drop them)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from segue.pipeline.retries_postgres import PostgresRetryQueue
    from segue.pipeline.stats import PostgresStatsStore
    from segue.store.engine import is_config_store_name
    from segue.store.models import Base

    settings = Settings.load(environ={}, data_dir=tmp_path / "data", database_url=postgres_url)
    store = Store.open(settings)
    queue, stats = PostgresRetryQueue(postgres_url), PostgresStatsStore(postgres_url)
    await queue.count("dst_a")
    stats.record_delivered("dst_a", 5.0)
    await stats.flush()
    await queue.close()
    await stats.close()
    try:
        with store.engine.connect() as connection:
            assert {"parked", "delivery_counts"} <= set(inspect(connection).get_table_names())
            context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": is_config_store_name})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        store.close()


def test_server_defaults_fill_what_older_writers_leave_out(store):
    now = "2025-01-01 00:00:00"
    with store.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO warehouses (id, workspace_id, engine, name, settings, sync_interval_seconds, created_at,"
                " updated_at) VALUES ('wh_raw', :ws, 'postgres', 'Raw', '{}', 60, :now, :now)"
            ),
            {"ws": store.workspace_id, "now": now},
        )
    warehouse = store.get_warehouse("wh_raw")
    assert (warehouse.selective_sync, warehouse.enabled, warehouse.source_ids) == ({}, True, None)
