"""Sources in the config store, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC

import pytest

from segue.errors import ConfigError, NotFound
from segue.store import SourceRecord
from segue.store.models import SOURCE_TYPES


def test_create_returns_an_enabled_source_with_a_fresh_write_key(store):
    source = store.create_source("  My Web App! ", "javascript")
    assert source.name == "My Web App!"
    assert source.slug == "my-web-app"
    assert source.type == "javascript" and source.enabled
    assert re.fullmatch(r"src_[a-z0-9]{16}", source.id)
    assert re.fullmatch(r"[A-Za-z0-9]{32}", source.write_key)
    assert source.workspace_id == store.workspace_id
    assert source.created_at.tzinfo is not None and source.created_at == source.updated_at


@pytest.mark.parametrize("type", SOURCE_TYPES)
def test_every_source_type_is_accepted(store, type):
    assert store.create_source(f"{type} app", type).type == type


def test_list_returns_sources_oldest_first(store):
    names = ["web", "ios app", "backend"]
    for name in names:
        store.create_source(name, "http")
    assert [source.name for source in store.list_sources()] == names


def test_get_finds_a_source_by_id_name_or_slug(store):
    created = store.create_source("My Web", "javascript")
    for key in (created.id, "My Web", "my-web", "MY WEB"):
        assert store.get_source(key) == created


def test_get_unknown_source_raises_not_found(store):
    with pytest.raises(NotFound, match="nope"):
        store.get_source("nope")


@pytest.mark.parametrize(
    "name, type, message",
    [
        ("web", "php", "unknown source type 'php'"),
        ("   ", "http", "1 to 100 characters"),
        ("x" * 101, "http", "1 to 100 characters"),
    ],
)
def test_create_rejects_bad_names_and_types(store, name, type, message):
    with pytest.raises(ConfigError, match=message):
        store.create_source(name, type)
    assert store.config_version() == 0


@pytest.mark.parametrize(
    "name, slug",
    [("Café Crème", "cafe-creme"), ("  iOS App  ", "ios-app"), ("Сайт", None), ("!!!", None)],
)
def test_every_name_gets_a_stable_ascii_slug(store, name, slug):
    source = store.create_source(name, "http")
    assert source.slug == (slug or source.slug) and source.slug.isascii()
    if slug is None:
        assert source.slug.startswith("n") and len(source.slug) == 9, "no ASCII letter: a hash slug"
    assert store.get_source(name).id == source.id


def test_create_rejects_a_duplicate_name_or_slug(store):
    store.create_source("My Web", "javascript")
    for duplicate in ("My Web", "my-web", "MY  WEB"):
        with pytest.raises(ConfigError, match="already exists"):
            store.create_source(duplicate, "node")
    assert len(store.list_sources()) == 1


def test_rotate_write_key_replaces_the_key(store):
    created = store.create_source("web", "javascript")
    rotated = store.rotate_write_key("web")
    assert rotated.write_key != created.write_key
    assert rotated.updated_at > created.updated_at
    assert list(store.write_keys()) == [rotated.write_key]


def test_disable_and_enable(store):
    created = store.create_source("web", "javascript")
    assert store.set_source_enabled(created.id, False).enabled is False
    assert store.get_source("web").enabled is False
    assert store.set_source_enabled("web", True).enabled is True


def test_write_keys_include_disabled_sources(store):
    web = store.create_source("web", "javascript")
    server = store.set_source_enabled(store.create_source("server", "python").id, False)
    assert store.write_keys() == {web.write_key: web, server.write_key: server}


def test_delete_removes_the_source(store):
    store.create_source("web", "javascript")
    deleted = store.delete_source("web")
    assert deleted.name == "web"
    assert store.list_sources() == []
    with pytest.raises(NotFound):
        store.delete_source("web")


def test_every_change_bumps_the_config_version(store):
    assert store.config_version() == 0
    source = store.create_source("web", "javascript")
    store.rotate_write_key(source.id)
    store.set_source_enabled(source.id, False)
    store.set_source_enabled(source.id, True)
    store.delete_source(source.id)
    assert store.config_version() == 5


def test_failed_changes_do_not_bump_the_config_version(store):
    store.create_source("web", "javascript")
    for failing in (lambda: store.create_source("web", "http"), lambda: store.rotate_write_key("nope")):
        with pytest.raises((ConfigError, NotFound)):
            failing()
    assert store.config_version() == 1


def test_a_second_store_sees_changes_through_the_version(store):
    from segue.store import Store

    other = Store(store.url)
    try:
        before = other.config_version()
        store.create_source("web", "javascript")
        assert other.config_version() == before + 1
        assert [source.name for source in other.list_sources()] == ["web"]
    finally:
        other.close()


def test_source_record_to_json(store):
    source = store.create_source("web", "javascript")
    data = source.to_json()
    assert set(data) == set(SourceRecord.__dataclass_fields__)
    assert data["created_at"].endswith("Z")
    assert data["created_at"] == source.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    assert data["enabled"] is True and data["write_key"] == source.write_key
