"""Destinations and their filters in the config store, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from segue.errors import ConfigError, NotFound
from segue.store import UNSET, DestinationRecord, FilterRecord

SECRET = "sk_live_PLAINTEXT_7f3a9c"


def _create(store, source_id: str, name: str = "Mixpanel", **overrides) -> DestinationRecord:
    values = dict(
        source_id=source_id,
        catalog_slug="mixpanel",
        name=name,
        mode="cloud",
        enabled=True,
        settings={"region": "eu"},
        secrets={"api_secret": SECRET},
        actor="alice",
    )
    return store.create_destination(**{**values, **overrides})


def test_create_returns_the_destination_with_its_secrets_decrypted(store, source):
    destination = _create(store, "web")
    assert re.fullmatch(r"dst_[a-z0-9]{16}", destination.id)
    assert destination.source_id == source.id and destination.workspace_id == store.workspace_id
    assert (destination.catalog_slug, destination.name, destination.mode) == ("mixpanel", "Mixpanel", "cloud")
    assert destination.enabled is True
    assert destination.settings == {"region": "eu"}
    assert destination.secrets == {"api_secret": SECRET}
    assert destination.created_at == destination.updated_at
    assert store.get_destination(destination.id) == destination


def test_to_json_leaves_the_secrets_out(store, source):
    data = _create(store, source.id).to_json()
    assert "secrets" not in data and SECRET not in repr(data)
    assert set(data) == set(DestinationRecord.__dataclass_fields__) - {"secrets"}
    assert data["created_at"].endswith("Z") and data["source_id"] == source.id


def test_create_refuses_an_unknown_source_and_a_duplicate_name(store, source):
    with pytest.raises(NotFound, match="nope"):
        _create(store, "nope")
    _create(store, source.id)
    with pytest.raises(ConfigError, match="a destination named 'Mixpanel' is already connected to source 'Web'"):
        _create(store, source.id)
    other = store.create_source("Backend", "python")
    assert _create(store, other.id).source_id == other.id


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"mode": "hybrid"}, "unknown connection mode 'hybrid'"),
        ({"name": "  "}, "destination name needs 1 to 100"),
        ({"catalog_slug": "x" * 65}, "catalog slug needs 1 to 64"),
        ({"settings": ["not", "a", "dict"]}, "settings must be a JSON object"),
        ({"settings": {"when": object()}}, "only JSON values"),
        ({"secrets": None}, "secrets must be a JSON object"),
        ({"enabled": "yes"}, "enabled must be true or false"),
    ],
)
def test_create_rejects_bad_values_without_a_change(store, source, overrides, message):
    version = store.config_version()
    with pytest.raises(ConfigError, match=message):
        _create(store, source.id, **overrides)
    assert store.config_version() == version and store.list_destinations() == []


def test_list_all_or_one_sources_destinations_oldest_first(store, source):
    backend = store.create_source("Backend", "python")
    first, second = _create(store, source.id, "A"), _create(store, source.id, "B")
    third = _create(store, backend.id, "C")
    assert store.list_destinations() == [first, second, third]
    assert store.list_destinations("web") == [first, second]
    assert store.list_destinations(backend.id) == [third]
    with pytest.raises(NotFound):
        store.list_destinations("nope")


def test_get_unknown_destination_raises_not_found(store):
    with pytest.raises(NotFound, match="dst_nope"):
        store.get_destination("dst_nope")


def test_update_changes_only_the_given_fields(store, source):
    created = _create(store, source.id)
    updated = store.update_destination(created.id, actor="bob", enabled=False, secrets={"api_secret": "new"})
    assert updated.enabled is False and updated.secrets == {"api_secret": "new"}
    assert (updated.name, updated.mode, updated.settings) == (created.name, created.mode, created.settings)
    assert updated.updated_at > created.updated_at
    renamed = store.update_destination(created.id, actor="bob", name="EU Mixpanel", mode="device", settings={})
    assert (renamed.name, renamed.mode, renamed.settings) == ("EU Mixpanel", "device", {})
    assert renamed.secrets == {"api_secret": "new"}
    assert store.get_destination(created.id) == renamed


def test_update_refuses_a_taken_name_and_unknown_ids(store, source):
    _create(store, source.id, "A")
    b = _create(store, source.id, "B")
    with pytest.raises(ConfigError, match="already connected"):
        store.update_destination(b.id, actor="bob", name="A")
    assert store.update_destination(b.id, actor="bob", name="B").name == "B"
    with pytest.raises(NotFound):
        store.update_destination("dst_nope", actor="bob", enabled=True)


def test_update_with_everything_unset_changes_nothing(store, source):
    created = _create(store, source.id)
    assert store.update_destination(created.id, actor="bob", name=UNSET) == created
    assert store.list_audit(limit=1)[0].details == {"changed": []}


def test_delete_returns_what_it_was(store, source):
    created = _create(store, source.id)
    assert store.delete_destination(created.id, actor="bob") == created
    assert store.list_destinations() == []
    with pytest.raises(NotFound):
        store.delete_destination(created.id, actor="bob")


def test_destination_changes_are_audited_without_secrets(store, source):
    created = _create(store, source.id)
    store.update_destination(created.id, actor="bob", enabled=False, secrets={"api_secret": "other-secret"})
    store.delete_destination(created.id, actor="carol")
    events = store.list_audit(resource_id=created.id)
    assert [(event.action, event.actor, event.resource_type) for event in events] == [
        ("destination.deleted", "carol", "destination"),
        ("destination.updated", "bob", "destination"),
        ("destination.created", "alice", "destination"),
    ]
    assert events[1].details == {"changed": ["enabled", "secrets"], "enabled": False}
    assert events[2].details["settings"] == {"region": "eu"} and events[2].details["source_id"] == source.id
    assert SECRET not in repr(events) and "other-secret" not in repr(events)


# ---- filters ---------------------------------------------------------------------------------

CONDITION = 'type = "track" and event = "Order Completed"'


def _filter(store, destination_id: str, **overrides) -> FilterRecord:
    values = dict(title="Drop orders", condition=CONDITION, actions=[{"type": "drop"}], actor="alice")
    return store.create_filter(destination_id, **{**values, **overrides})


def test_filters_create_list_update_delete(store, source):
    destination = _create(store, source.id)
    created = _filter(store, destination.id)
    assert re.fullmatch(r"df_[a-z0-9]{16}", created.id)
    assert (created.destination_id, created.enabled, created.actions) == (destination.id, True, [{"type": "drop"}])
    second = _filter(store, destination.id, title="Sample", enabled=False)
    assert store.list_filters(destination.id) == [created, second]
    updated = store.update_filter(created.id, actor="bob", enabled=False, actions=[{"type": "sample", "percent": 10}])
    assert (updated.enabled, updated.title) == (False, "Drop orders")
    assert updated.actions == [{"type": "sample", "percent": 10}]
    assert store.delete_filter(second.id, actor="bob") == second
    assert store.list_filters(destination.id) == [updated]
    assert created.to_json()["created_at"].endswith("Z")
    actions = [event.action for event in store.list_audit(limit=4)]
    assert actions == ["filter.deleted", "filter.updated", "filter.created", "filter.created"]


def test_filters_refuse_bad_values_and_unknown_ids(store, source):
    destination = _create(store, source.id)
    with pytest.raises(ConfigError, match="1 to 5120 characters"):
        _filter(store, destination.id, condition="é" * 5121)
    with pytest.raises(ConfigError, match="1 to 64"):
        _filter(store, destination.id, title="t" * 65)
    with pytest.raises(ConfigError, match="JSON array"):
        _filter(store, destination.id, actions={"type": "drop"})
    with pytest.raises(NotFound):
        _filter(store, "dst_nope")
    with pytest.raises(NotFound):
        store.list_filters("dst_nope")
    with pytest.raises(NotFound):
        store.update_filter("df_nope", actor="a", title="x")
    with pytest.raises(NotFound):
        store.delete_filter("df_nope", actor="a")
    assert _filter(store, destination.id, condition="é" * 5120).condition == "é" * 5120  # characters, not bytes


def test_deleting_a_source_deletes_its_destinations_and_their_filters(store, source):
    other = store.create_source("Backend", "python")
    doomed, kept = _create(store, source.id), _create(store, other.id)
    _filter(store, doomed.id)
    kept_filter = _filter(store, kept.id)
    store.delete_source(source.id)
    assert store.list_destinations() == [kept]
    with store.engine.connect() as connection:
        filter_ids = connection.execute(text("SELECT id FROM destination_filters")).scalars().all()
    assert filter_ids == [kept_filter.id]


def test_deleting_a_destination_deletes_its_filters(store, source):
    destination = _create(store, source.id)
    _filter(store, destination.id)
    store.delete_destination(destination.id, actor="bob")
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM destination_filters")).scalar_one() == 0
