"""Destination mappings (Actions-style subscriptions) in the config store, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from segue.errors import ConfigError, NotFound
from segue.store import MappingRecord
from segue.store.mappings import MAX_MAPPINGS

TRIGGER = 'type = "page"'
FIELDS = {"event": {"@template": "Viewed {{name}}"}, "type": "track"}


def _destination(store, source_id: str, name: str = "Hook"):
    return store.create_destination(source_id=source_id, catalog_slug="webhook", name=name, mode="cloud",
                                    enabled=True, settings={}, secrets={}, actor="alice")  # fmt: skip


def _mapping(store, destination_id: str, **overrides) -> MappingRecord:
    values = dict(name="Pages as tracks", trigger=TRIGGER, action="track", fields=FIELDS, actor="alice")
    return store.create_mapping(destination_id, **{**values, **overrides})


def test_create_list_update_delete(store, source):
    destination = _destination(store, source.id)
    version = store.config_version()
    created = _mapping(store, destination.id)
    assert store.config_version() == version + 1
    assert re.fullmatch(r"map_[a-z0-9]{16}", created.id)
    assert (created.destination_id, created.name, created.trigger, created.action) == (
        destination.id, "Pages as tracks", TRIGGER, "track")
    assert (created.fields, created.enabled, created.position) == (FIELDS, True, 0)
    assert created.created_at == created.updated_at and created.to_json()["created_at"].endswith("Z")
    second = _mapping(store, destination.id, name="Tracks", trigger='type = "track"', fields={}, enabled=False)
    assert second.position == 1 and second.enabled is False
    assert store.list_mappings(destination.id) == [created, second]
    updated = store.update_mapping(created.id, actor="bob", enabled=False, fields={"type": "track"})
    assert (updated.enabled, updated.fields, updated.name, updated.position) == (False, {"type": "track"}, created.name, 0)
    assert updated.updated_at > created.updated_at
    assert store.delete_mapping(second.id, actor="bob") == second
    assert store.list_mappings(destination.id) == [updated]
    third = _mapping(store, destination.id, name="Third")
    assert third.position == 1


def test_bulk_create_keeps_the_order_in_one_change(store, source):
    destination = _destination(store, source.id)
    version = store.config_version()
    items = [dict(name=f"M{n}", trigger=f'event = "E{n}"', action="track", fields={}) for n in range(3)]
    created = store.create_mappings(destination.id, items, actor="cli")
    assert store.config_version() == version + 1
    assert [(item.name, item.position, item.enabled) for item in created] == [("M0", 0, True), ("M1", 1, True), ("M2", 2, True)]
    assert store.list_mappings(destination.id) == created


def test_reorder_sets_positions_and_needs_every_mapping_once(store, source):
    destination = _destination(store, source.id)
    a, b, c = (_mapping(store, destination.id, name=name) for name in "abc")
    reordered = store.reorder_mappings(destination.id, [c.id, a.id, b.id], actor="bob")
    assert [(item.name, item.position) for item in reordered] == [("c", 0), ("a", 1), ("b", 2)]
    assert [item.name for item in store.list_mappings(destination.id)] == ["c", "a", "b"]
    for wrong in ([a.id, b.id], [a.id, a.id, b.id], [a.id, b.id, c.id, "map_nope"]):
        with pytest.raises(ConfigError, match="each of the destination's 3 mappings once"):
            store.reorder_mappings(destination.id, wrong, actor="bob")
    assert store.list_audit(limit=1)[0].action == "mapping.reordered"


def test_at_most_50_mappings_per_destination(store, source):
    destination = _destination(store, source.id)
    items = [dict(name=f"M{n}", trigger="true", action="track", fields={}) for n in range(MAX_MAPPINGS)]
    store.create_mappings(destination.id, items, actor="a")
    version = store.config_version()
    with pytest.raises(ConfigError, match="at most 50 mappings"):
        _mapping(store, destination.id)
    assert store.config_version() == version
    other = _destination(store, source.id, "Other")
    with pytest.raises(ConfigError, match="at most 50 mappings"):
        store.create_mappings(other.id, [*items, items[0]], actor="a")
    assert store.list_mappings(other.id) == []


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"name": " "}, "mapping name needs 1 to 100"),
        ({"name": "n" * 101}, "mapping name needs 1 to 100"),
        ({"trigger": "é" * 5121}, "1 to 5120 characters"),
        ({"action": "a" * 33}, "mapping action needs 1 to 32"),
        ({"fields": ["not", "an", "object"]}, "mapping fields must be a JSON object"),
        ({"fields": {"when": object()}}, "only JSON values"),
        ({"enabled": "yes"}, "enabled must be true or false"),
    ],
)
def test_create_rejects_bad_values_without_a_change(store, source, overrides, message):
    destination = _destination(store, source.id)
    version = store.config_version()
    with pytest.raises(ConfigError, match=message):
        _mapping(store, destination.id, **overrides)
    assert store.config_version() == version and store.list_mappings(destination.id) == []


def test_unknown_ids_raise_not_found(store, source):
    with pytest.raises(NotFound):
        _mapping(store, "dst_nope")
    with pytest.raises(NotFound):
        store.list_mappings("dst_nope")
    with pytest.raises(NotFound):
        store.update_mapping("map_nope", actor="a", name="x")
    with pytest.raises(NotFound):
        store.delete_mapping("map_nope", actor="a")
    with pytest.raises(NotFound):
        store.reorder_mappings("dst_nope", [], actor="a")


def test_mapping_changes_are_audited(store, source):
    destination = _destination(store, source.id)
    created = _mapping(store, destination.id)
    store.update_mapping(created.id, actor="bob", trigger='type = "screen"')
    store.delete_mapping(created.id, actor="carol")
    events = store.list_audit(resource_id=created.id)
    assert [(event.action, event.actor, event.resource_type) for event in events] == [
        ("mapping.deleted", "carol", "mapping"),
        ("mapping.updated", "bob", "mapping"),
        ("mapping.created", "alice", "mapping"),
    ]
    assert events[0].details == {"destination_id": destination.id, "name": "Pages as tracks"}
    assert events[1].details == {"destination_id": destination.id, "changed": ["trigger"], "trigger": 'type = "screen"'}
    assert events[2].details["fields"] == FIELDS and events[2].details["action"] == "track"


def test_deleting_a_destination_or_its_source_deletes_its_mappings(store, source):
    other = store.create_source("Backend", "python")
    doomed, kept = _destination(store, source.id), _destination(store, other.id)
    _mapping(store, doomed.id)
    kept_mapping = _mapping(store, kept.id)
    store.delete_source(source.id)
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT id FROM destination_mappings")).scalars().all() == [kept_mapping.id]
    store.delete_destination(kept.id, actor="bob")
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM destination_mappings")).scalar_one() == 0
