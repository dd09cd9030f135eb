"""`segue destinations mappings ...`: Actions-style mappings of a destination instance."""

from __future__ import annotations

import json

import pytest

FIELDS = {"event": {"@template": "Viewed {{name}}"}, "type": "track"}
PRESETS = ["Track Calls", "Identify Calls", "Page Calls", "Screen Calls", "Group Calls", "Alias Calls"]


@pytest.fixture
def hook(segue, web) -> dict:
    return segue.one("destinations", "create", "webhook", "--source", "web", "--setting", "url=http://example.test/")


def _mappings(segue, hook) -> list[dict]:
    return segue.json_lines("destinations", "mappings", "list", hook["id"])


def test_a_new_instance_lists_its_presets(segue, hook):
    assert [item["name"] for item in _mappings(segue, hook)] == PRESETS
    table = segue.ok("destinations", "mappings", "list", hook["id"], env={"COLUMNS": "200"}).stdout
    assert "Track Calls" in table and 'type = "track"' in table


def test_create_update_disable_enable_delete(segue, hook, tmp_path):
    created = segue.one(
        "destinations", "mappings", "create", hook["id"], "--name", "Pages as tracks", "--trigger", 'type = "page"',
        "--action", "track", "--fields-json", json.dumps(FIELDS),
    )
    assert (created["name"], created["trigger"], created["action"]) == ("Pages as tracks", 'type = "page"', "track")
    assert (created["fields"], created["enabled"], created["position"], created["destinationId"]) == (FIELDS, True, 6, hook["id"])
    assert _mappings(segue, hook)[-1]["id"] == created["id"]
    (tmp_path / "fields.json").write_text('{"event": "Viewed"}')
    changed = segue.one("destinations", "mappings", "update", hook["id"], created["id"], "--fields-json", f"@{tmp_path / 'fields.json'}",
                        "--name", "Views", "--position", "0")  # fmt: skip
    assert (changed["fields"], changed["name"], changed["position"]) == ({"event": "Viewed"}, "Views", 0)
    assert [item["name"] for item in _mappings(segue, hook)] == ["Views", *PRESETS]
    assert segue.one("destinations", "mappings", "disable", hook["id"], created["id"])["enabled"] is False
    assert "Enabled mapping Views" in segue.ok("destinations", "mappings", "enable", hook["id"], created["id"]).stdout
    assert "Deleted mapping Views" in segue.ok("destinations", "mappings", "delete", hook["id"], created["id"]).stdout
    assert [item["name"] for item in _mappings(segue, hook)] == PRESETS


def test_create_prints_the_id_and_reads_fields_from_stdin(segue, hook):
    output = segue.ok("destinations", "mappings", "create", hook["id"], "--name", "Orders", "--trigger", 'event = "Order Completed"',
                      "--action", "track", "--fields-json", "-", "--disabled", input='{"event": "Purchase"}').stdout  # fmt: skip
    mapping_id = output.strip().splitlines()[-1]
    [stored] = [item for item in _mappings(segue, hook) if item["id"] == mapping_id]
    assert stored["fields"] == {"event": "Purchase"} and stored["enabled"] is False


def test_an_instance_without_mappings_says_what_happens(segue, hook):
    for item in _mappings(segue, hook):
        segue.ok("destinations", "mappings", "delete", hook["id"], item["id"])
    assert "No mappings" in segue.ok("destinations", "mappings", "list", hook["id"]).stdout
    assert _mappings(segue, hook) == []


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--trigger", 'type = "page'], "trigger: invalid FQL at position 8"),
        (["--fields-json", '{"a": {"@nope": 1}}'], "fields: invalid mapping at $.a"),
        (["--fields-json", "[1]"], "--fields-json must be a JSON object"),
        (["--fields-json", "{nope"], "--fields-json is not valid JSON"),
        (["--trigger", 'type = "track" and event = "A" and userId != null'], "the free plan allows 2 conditions per trigger"),
    ],
)
def test_invalid_mappings_name_the_field(segue, hook, flags, message):
    base = {"--name": "M", "--trigger": 'type = "page"', "--action": "track"}
    base.update(dict(zip(flags[::2], flags[1::2])))
    args = [item for pair in base.items() for item in pair]
    assert message in segue.fails("destinations", "mappings", "create", hook["id"], *args)


def test_an_unknown_action_is_refused(segue, web):
    slack = segue.one("destinations", "create", "slack", "--source", "web")
    stderr = segue.fails("destinations", "mappings", "create", slack["id"], "--name", "M", "--trigger", "true", "--action", "page")
    assert "action: Slack has no 'page' action" in stderr
    assert segue("destinations", "mappings", "create", slack["id"], "--name", "M", "--trigger", "true", "--action", "fly").exit_code == 2


def test_business_plan_triggers_take_more_conditions(segue, hook):
    segue.ok("workspace", "set-plan", "business")
    trigger = 'type = "track" and (event = "A" or event = "B")'
    created = segue.one("destinations", "mappings", "create", hook["id"], "--name", "M", "--trigger", trigger, "--action", "track")
    assert created["trigger"] == trigger


def test_update_needs_a_change_and_ids_must_exist(segue, hook):
    first = _mappings(segue, hook)[0]
    assert "nothing to change" in segue.fails("destinations", "mappings", "update", hook["id"], first["id"])
    assert "no mapping 'map_nope'" in segue.fails("destinations", "mappings", "delete", hook["id"], "map_nope")
    assert "no destination" in segue.fails("destinations", "mappings", "list", "dst_nope")


def test_changes_are_audited_as_the_cli(segue, hook):
    first = _mappings(segue, hook)[0]
    segue.ok("destinations", "mappings", "disable", hook["id"], first["id"])
    [event] = segue.json_lines("audit", "--resource", first["id"], "--limit", "1")
    assert (event["action"], event["actor"], event["details"]["changed"]) == ("mapping.updated", "cli", ["enabled"])
