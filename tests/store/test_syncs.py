"""Warehouse sync history in the config store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect

from segue.errors import NotFound
from segue.store import Store
from segue.store.engine import current_revision


def _warehouse(store, name: str = "wh"):
    return store.create_warehouse(engine="duckdb", name=name, settings={}, secrets={}, sync_interval_seconds=3600,
                                  max_warehouses=None, actor="alice")  # fmt: skip


def test_migration_0004_adds_and_removes_the_history_table(store_url):
    store = Store(store_url)
    try:
        store.migrate()
        assert current_revision(store.engine) == "0004"
        assert "warehouse_syncs" in inspect(store.engine).get_table_names()
        store.downgrade("0003")
        assert "warehouse_syncs" not in inspect(store.engine).get_table_names()
    finally:
        store.downgrade("base")
        store.close()


def test_a_scheduled_sync_runs_and_finishes(store):
    warehouse = _warehouse(store)
    start = datetime(2025, 1, 1, 12, tzinfo=UTC)
    running = store.start_sync(warehouse.id, at=start)
    assert (running.status, running.trigger, running.started_at) == ("Running", "schedule", start)
    store.record_sync_progress(running.id, {"tracks": 3})
    assert store.get_sync(running.id).rows == {"tracks": 3}
    done = store.finish_sync(running.id, status="Partial", rows={"tracks": 4, "pages": 1}, notices=["n"],
                             at=start + timedelta(seconds=2.5))  # fmt: skip
    assert (done.status, done.total_rows, done.notices, done.duration_seconds) == ("Partial", 5, ["n"], 2.5)
    assert done.finished and store.last_started_sync(warehouse.id) == done


def test_sync_now_is_a_pending_request_that_bumps_the_config_version(store):
    warehouse = _warehouse(store)
    version = store.config_version()
    pending = store.request_sync(warehouse.id, actor="bob")
    assert (pending.status, pending.trigger, pending.requested_by) == ("Pending", "manual", "bob")
    assert store.config_version() > version
    assert store.request_sync(warehouse.id, actor="carol").id == pending.id  # one pending at a time
    assert store.pending_syncs() == [pending]
    assert store.last_started_sync(warehouse.id) is None
    taken = store.start_sync(warehouse.id, sync_id=pending.id)
    assert (taken.id, taken.status, taken.trigger) == (pending.id, "Running", "manual")
    assert store.pending_syncs() == []
    assert store.list_audit(limit=1)[0].action == "warehouse.sync_requested"


def test_history_is_newest_first_and_goes_with_its_warehouse(store):
    warehouse, other = _warehouse(store), _warehouse(store, "other")
    ids = [store.start_sync(warehouse.id).id for _ in range(3)]
    store.start_sync(other.id)
    assert [sync.id for sync in store.list_syncs(warehouse.id)] == ids[::-1]
    assert len(store.list_syncs(warehouse.id, limit=2)) == 2
    store.delete_warehouse(warehouse.id, actor="alice")
    assert store.list_syncs(warehouse.id) == []
    with pytest.raises(NotFound):
        store.get_sync(ids[0])


def test_syncs_left_running_by_a_stopped_process_are_marked_failed(store):
    warehouse = _warehouse(store)
    running = store.start_sync(warehouse.id)
    assert store.interrupt_running_syncs("the server stopped") == 1
    failed = store.get_sync(running.id)
    assert (failed.status, failed.error) == ("Failure", "the server stopped")
