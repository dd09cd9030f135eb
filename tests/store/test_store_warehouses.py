"""Warehouses in the config store, with the plan's limit, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import threading
import time

import pytest

from segue.errors import ConfigError, NotFound, PlanLimit
from segue.store import Store, WarehouseRecord
from segue.store.warehouses import WarehouseCommands

PASSWORD = "pg-password-PLAINTEXT-41c2"


def _create(store, name: str = "Analytics", **overrides) -> WarehouseRecord:
    values = dict(
        engine="postgres",
        name=name,
        settings={"host": "db.example.com", "database": "analytics"},
        secrets={"password": PASSWORD},
        sync_interval_seconds=3600,
        max_warehouses=None,
        actor="alice",
    )
    return store.create_warehouse(**{**values, **overrides})


def test_create_get_and_list(store):
    created = _create(store)
    assert re.fullmatch(r"wh_[a-z0-9]{16}", created.id)
    assert (created.engine, created.name, created.enabled) == ("postgres", "Analytics", True)
    assert created.sync_interval_seconds == 3600
    assert created.source_ids is None and created.selective_sync == {}
    assert created.secrets == {"password": PASSWORD} and created.workspace_id == store.workspace_id
    assert store.get_warehouse(created.id) == created == store.get_warehouse("Analytics")
    second = _create(store, "Lake", engine="bigquery", enabled=False, selective_sync={"collections": ["pages"]})
    assert store.list_warehouses() == [created, second]


def test_to_json_leaves_the_secrets_out(store):
    data = _create(store).to_json()
    assert "secrets" not in data and PASSWORD not in repr(data)
    assert data["source_ids"] is None and data["updated_at"].endswith("Z")


def test_source_ids_are_resolved_to_ids_and_must_exist(store, source):
    backend = store.create_source("Backend", "python")
    created = _create(store, source_ids=["web", backend.id, "WEB"])
    assert created.source_ids == [source.id, backend.id]
    with pytest.raises(NotFound, match="nope"):
        _create(store, "Other", source_ids=["nope"])
    assert _create(store, "None", source_ids=[]).source_ids == []


def test_deleting_a_source_takes_it_off_the_warehouses(store, source):
    backend = store.create_source("Backend", "python")
    some = _create(store, source_ids=[source.id, backend.id])
    every = _create(store, "Every")
    store.delete_source(source.id)
    assert store.get_warehouse(some.id).source_ids == [backend.id]
    assert store.get_warehouse(every.id).source_ids is None


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"sync_interval_seconds": 0}, "at least 1"),
        ({"sync_interval_seconds": True}, "whole number"),
        ({"engine": ""}, "engine needs 1 to 32"),
        ({"name": "n" * 101}, "name needs 1 to 100"),
        ({"source_ids": "web"}, "source_ids must be a list"),
        ({"selective_sync": []}, "selective_sync must be a JSON object"),
    ],
)
def test_create_rejects_bad_values(store, overrides, message):
    with pytest.raises(ConfigError, match=message):
        _create(store, **overrides)
    assert store.config_version() == 0


def test_names_are_unique(store):
    _create(store)
    with pytest.raises(ConfigError, match="a warehouse named 'Analytics' already exists"):
        _create(store)
    other = _create(store, "Other")
    with pytest.raises(ConfigError, match="already exists"):
        store.update_warehouse(other.id, actor="bob", name="Analytics")


def test_update_changes_only_the_given_fields(store, source):
    created = _create(store)
    updated = store.update_warehouse(
        "Analytics", actor="bob", source_ids=["web"], sync_interval_seconds=600, secrets={"password": "rotated"}
    )
    assert (updated.source_ids, updated.sync_interval_seconds) == ([source.id], 600)
    assert updated.secrets == {"password": "rotated"}
    assert (updated.name, updated.settings, updated.enabled) == (created.name, created.settings, True)
    again = store.update_warehouse(created.id, actor="bob", source_ids=None, enabled=False, selective_sync={"x": 1})
    assert (again.source_ids, again.enabled, again.selective_sync) == (None, False, {"x": 1})
    event = store.list_audit(limit=2)[1]
    assert event.details == {"changed": ["source_ids", "sync_interval_seconds", "secrets"], "source_ids": [source.id],
                             "sync_interval_seconds": 600}  # fmt: skip
    assert "rotated" not in repr(store.list_audit())


def test_delete_and_unknown_warehouses(store):
    created = _create(store)
    assert store.delete_warehouse("Analytics", actor="bob") == created
    for call in (lambda: store.get_warehouse(created.id), lambda: store.delete_warehouse(created.id, actor="bob"),
                 lambda: store.update_warehouse(created.id, actor="bob", enabled=False)):  # fmt: skip
        with pytest.raises(NotFound):
            call()
    assert [event.action for event in store.list_audit()] == ["warehouse.deleted", "warehouse.created"]


def test_the_plan_limit_refuses_one_warehouse_too_many(store):
    _create(store, "One", max_warehouses=2)
    _create(store, "Two", max_warehouses=2)
    with pytest.raises(PlanLimit, match=r"this workspace's plan allows 2 warehouse\(s\)") as caught:
        _create(store, "Three", max_warehouses=2)
    assert caught.value.code == "plan_limit" and caught.value.status == 403
    assert isinstance(caught.value, ConfigError)
    assert len(store.list_warehouses()) == 2 and store.config_version() == 2
    assert _create(store, "Unlimited", max_warehouses=None).name == "Unlimited"


def test_the_plan_limit_is_counted_inside_the_write_transaction(store, monkeypatch):
    """Two stores create at the same moment with max 1; the count is held slow to force overlap."""
    original = WarehouseCommands._refuse_over_limit

    def slow_check(self, session, max_warehouses):
        original(self, session, max_warehouses)
        time.sleep(0.3)  # both would pass a count taken outside the transaction's lock

    monkeypatch.setattr(WarehouseCommands, "_refuse_over_limit", slow_check)
    stores = [store, Store(store.url, store.secret_box)]
    barrier, outcomes = threading.Barrier(2), []

    def create(one: Store, number: int) -> None:
        barrier.wait()
        try:
            outcomes.append(_create(one, f"W{number}", max_warehouses=1))
        except PlanLimit as error:
            outcomes.append(error)

    threads = [threading.Thread(target=create, args=(one, n)) for n, one in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stores[1].close()
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["PlanLimit", "WarehouseRecord"]
    assert len(store.list_warehouses()) == 1
