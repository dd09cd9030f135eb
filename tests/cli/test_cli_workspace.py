"""`segue workspace ...` and `segue audit`."""

from __future__ import annotations


def test_show(segue):
    workspace = segue.one("workspace", "show")
    assert workspace["plan"] == "free" and workspace["slug"] == "default"
    assert workspace["limits"] == {"maxWarehouses": 1, "minSyncIntervalSeconds": 86_400, "features": [], "maxTriggerConditions": 2}
    output = segue.ok("workspace", "show").stdout
    assert "free" in output and "24 h" in output and "Conditions per mapping trigger" in output


def test_set_plan_and_rename(segue):
    business = segue.one("workspace", "set-plan", "business")
    assert business["plan"] == "business" and business["limits"]["maxWarehouses"] is None
    assert "selective_sync" in business["limits"]["features"]
    assert "now on the team plan" in segue.ok("workspace", "set-plan", "team").stdout
    assert segue.one("workspace", "rename", "Acme")["name"] == "Acme"
    assert "Renamed the workspace to Data Team" in segue.ok("workspace", "rename", "Data Team").stdout
    assert segue.one("workspace", "show")["name"] == "Data Team"


def test_unknown_plan_is_a_usage_error(segue):
    result = segue("workspace", "set-plan", "platinum")
    assert result.exit_code == 2 and "business" in result.output


def test_downgrading_lowers_warehouse_sync_frequency(segue):
    segue.ok("workspace", "set-plan", "business")
    segue.ok("warehouses", "create", "duckdb", "--name", "w", "--sync-interval", "1h")
    segue.ok("workspace", "set-plan", "free")
    assert segue.one("warehouses", "show", "w")["syncIntervalSeconds"] == 86_400


def test_audit_lists_changes_newest_first(segue, web):
    segue.ok("sources", "rename", "web", "site")
    segue.ok("workspace", "set-plan", "team")
    events = segue.json_lines("audit")
    assert [event["action"] for event in events][:3] == ["workspace.plan_changed", "source.updated", "source.created"]
    assert all(event["actor"] == "cli" for event in events)
    assert len(segue.json_lines("audit", "--limit", "1")) == 1
    assert {event["resourceId"] for event in segue.json_lines("audit", "--resource", web["id"])} == {web["id"]}
    older = segue.json_lines("audit", "--before", str(events[0]["id"]))
    assert [event["id"] for event in older] == [event["id"] for event in events[1:]]


def test_audit_human_output(segue, web):
    output = segue.ok("audit", env={"COLUMNS": "200"}).stdout
    assert "source.created" in output and web["id"] in output and 'name="web"' in output


def test_audit_when_nothing_happened(segue):
    assert "No changes recorded" in segue.ok("audit").stdout
    assert segue.json_lines("audit") == []
