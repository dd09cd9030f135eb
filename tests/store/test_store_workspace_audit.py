"""The workspace, the audit trail and the config version, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from segue.errors import ConfigError, NotFound
from segue.store import AuditRecord, WorkspaceRecord


def test_get_workspace(store):
    workspace = store.get_workspace()
    assert isinstance(workspace, WorkspaceRecord)
    assert (workspace.id, workspace.name, workspace.slug) == (store.workspace_id, "Default", "default")
    assert workspace.plan == "free"
    assert workspace.config_version == 0 and workspace.to_json()["created_at"].endswith("Z")


def test_set_plan_and_rename(store):
    changed = store.set_plan("business", actor="alice")
    assert changed.plan == "business" and changed.config_version == 1
    renamed = store.rename_workspace("  Acme  ", actor="bob")
    assert (renamed.name, renamed.slug, renamed.plan) == ("Acme", "default", "business")
    assert store.get_workspace() == renamed
    events = store.list_audit()
    assert [(event.action, event.actor, event.resource_type, event.resource_id) for event in events] == [
        ("workspace.renamed", "bob", "workspace", store.workspace_id),
        ("workspace.plan_changed", "alice", "workspace", store.workspace_id),
    ]
    assert events[1].details == {"from": "free", "to": "business"}


def test_unknown_plans_and_empty_names_are_refused(store):
    with pytest.raises(ConfigError, match="unknown plan 'enterprise'; use one of: free, team, business"):
        store.set_plan("enterprise", actor="alice")
    with pytest.raises(ConfigError, match="1 to 100"):
        store.rename_workspace("", actor="alice")
    assert store.config_version() == 0 and store.list_audit() == []


def test_rename_source_changes_name_and_slug_but_keeps_the_key(store):
    created = store.create_source("Web", "javascript")
    renamed = store.rename_source("web", "Marketing Site", actor="alice")
    assert (renamed.id, renamed.write_key) == (created.id, created.write_key)
    assert (renamed.name, renamed.slug) == ("Marketing Site", "marketing-site")
    assert store.get_source("marketing-site") == renamed
    store.create_source("Backend", "python")
    with pytest.raises(ConfigError, match="already exists"):
        store.rename_source("backend", "marketing site", actor="alice")
    assert store.rename_source("marketing-site", "MARKETING SITE", actor="alice").slug == "marketing-site"
    with pytest.raises(ConfigError, match="1 to 100"):
        store.rename_source("backend", " ", actor="alice")


def test_source_changes_are_audited_without_the_write_key(store):
    source = store.create_source("Web", "javascript")
    store.rotate_write_key("web", actor="alice")
    store.set_source_enabled("web", False, actor="bob")
    store.rename_source("web", "Site", actor="carol")
    deleted = store.delete_source("site")
    events = store.list_audit(resource_id=source.id)
    assert [(event.action, event.actor) for event in events] == [
        ("source.deleted", "system"),
        ("source.updated", "carol"),
        ("source.updated", "bob"),
        ("source.write_key_rotated", "alice"),
        ("source.created", "system"),
    ]
    assert events[-1].details == {"name": "Web", "slug": "web", "type": "javascript"}
    assert events[3].details == {"changed": ["write_key"]}
    assert events[2].details == {"changed": ["enabled"], "enabled": False}
    assert events[1].details == {"changed": ["name", "slug"], "name": "Site", "slug": "site"}
    assert source.write_key not in repr(events) and deleted.write_key not in repr(events)


def test_list_audit_pages_newest_first(store):
    for number in range(5):
        store.create_source(f"s{number}", "http", actor=f"user{number}")
    events = store.list_audit()
    assert [event.actor for event in events] == [f"user{n}" for n in (4, 3, 2, 1, 0)]
    assert all(isinstance(event, AuditRecord) and event.resource_type == "source" for event in events)
    page = store.list_audit(limit=2)
    assert [event.id for event in page] == [events[0].id, events[1].id]
    assert store.list_audit(limit=2, before_id=page[-1].id) == events[2:4]
    assert store.list_audit(before_id=events[-1].id) == []
    data = events[0].to_json()
    assert set(data) == {"id", "at", "actor", "action", "resource_type", "resource_id", "details"}
    assert data["at"].endswith("Z")


def test_every_change_bumps_the_config_version_and_writes_one_audit_event(store):
    steps = [
        lambda: store.create_source("web", "javascript", actor="a"),
        lambda: store.rename_source("web", "site", actor="a"),
        lambda: store.create_destination(source_id="site", catalog_slug="x", name="X", mode="cloud", enabled=False,
                                         settings={}, secrets={"k": "v"}, actor="a"),  # fmt: skip
        lambda: store.update_destination(store.list_destinations()[0].id, enabled=True, actor="a"),
        lambda: store.create_filter(store.list_destinations()[0].id, title="t", condition="type = 'track'",
                                    actions=[], actor="a"),  # fmt: skip
        lambda: store.update_filter(_filter_id(store), enabled=False, actor="a"),
        lambda: store.delete_filter(_filter_id(store), actor="a"),
        lambda: store.delete_destination(store.list_destinations()[0].id, actor="a"),
        lambda: store.create_warehouse(engine="postgres", name="W", settings={}, secrets={}, sync_interval_seconds=60,
                                       max_warehouses=1, actor="a"),  # fmt: skip
        lambda: store.update_warehouse("W", enabled=False, actor="a"),
        lambda: store.delete_warehouse("W", actor="a"),
        lambda: store.set_plan("team", actor="a"),
        lambda: store.rename_workspace("Acme", actor="a"),
        lambda: store.create_user("alice", "long enough", "owner", actor="a"),
        lambda: store.create_user("bob", "long enough", "member", actor="a"),
        lambda: store.set_user_role("bob", "read_only", actor="a"),
        lambda: store.set_user_password("bob", "other long one", actor="a"),
        lambda: store.delete_user("bob", actor="a"),
        lambda: store.create_token("ci", "member", actor="a"),
        lambda: store.delete_token("ci", actor="a"),
        lambda: store.rotate_write_key("site", actor="a"),
        lambda: store.set_source_enabled("site", False, actor="a"),
        lambda: store.delete_source("site", actor="a"),
    ]
    for number, step in enumerate(steps, start=1):
        step()
        assert store.config_version() == number
        assert len(store.list_audit(limit=1000)) == number
    assert {event.actor for event in store.list_audit(limit=1000)} == {"a"}


def _filter_id(store) -> str:
    return store.list_filters(store.list_destinations()[0].id)[0].id


def test_failed_changes_write_no_audit_event(store):
    for failing in (
        lambda: store.rotate_write_key("nope", actor="a"),
        lambda: store.delete_destination("dst_nope", actor="a"),
        lambda: store.set_user_role("nobody", "owner", actor="a"),
    ):
        with pytest.raises(NotFound):
            failing()
    assert store.list_audit() == [] and store.config_version() == 0


def test_long_actors_are_cut_to_fit(store):
    store.create_source("web", "http", actor="x" * 300)
    assert store.list_audit()[0].actor == "x" * 100
