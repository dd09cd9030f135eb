"""`segue destinations filters ...`: Destination Filters, a Business feature."""

from __future__ import annotations

import pytest

from segue.cli.filters import build_actions, describe_action, field_map
from segue.errors import ConfigError


@pytest.fixture
def hook(segue, web) -> dict:
    return segue.one("destinations", "create", "webhook", "--source", "web", "--setting", "url=http://example.test/")


def test_filters_need_the_business_plan(segue, hook):
    stderr = segue.fails("destinations", "filters", "create", hook["id"], "--title", "t", "--if", 'type = "track"', "--action", "DROP")
    assert "business plan" in stderr and "set-plan business" in stderr


def test_create_list_disable_enable_delete(segue, hook):
    segue.ok("workspace", "set-plan", "business")
    created = segue.one(
        "destinations", "filters", "create", hook["id"], "--title", "No tests", "--if", 'event = "Test"', "--action", "DROP"
    )
    assert created["actions"] == [{"type": "DROP"}] and created["if"] == 'event = "Test"' and created["enabled"] is True
    assert created["destinationId"] == hook["id"]
    assert [item["id"] for item in segue.json_lines("destinations", "filters", "list", hook["id"])] == [created["id"]]
    table = segue.ok("destinations", "filters", "list", hook["id"]).stdout
    assert "No tests" in table and "DROP" in table
    assert segue.one("destinations", "filters", "disable", hook["id"], created["id"])["enabled"] is False
    assert "Enabled filter No tests" in segue.ok("destinations", "filters", "enable", hook["id"], created["id"]).stdout
    assert "Deleted filter No tests" in segue.ok("destinations", "filters", "delete", hook["id"], created["id"]).stdout
    assert segue.json_lines("destinations", "filters", "list", hook["id"]) == []
    assert "No filters" in segue.ok("destinations", "filters", "list", hook["id"]).stdout


def test_create_maps_the_flags_to_actions(segue, hook):
    segue.ok("workspace", "set-plan", "business")
    created = segue.one(
        "destinations", "filters", "create", hook["id"], "--title", "trim", "--if", 'type = "identify"', "--disabled",
        "--sample", "0.25", "--drop-properties", "traits.email", "--drop-properties", "userId",
        "--allow-properties", "context.page.url",
    )
    assert created["enabled"] is False
    assert created["actions"] == [
        {"type": "SAMPLE", "percent": 0.25},
        {"type": "DROP_PROPERTIES", "fields": {"traits": ["email"], "": ["userId"]}},
        {"type": "ALLOW_PROPERTIES", "fields": {"context.page": ["url"]}},
    ]


@pytest.mark.parametrize(
    "flags, message",
    [
        ([], "needs an action"),
        (["--action", "EXPLODE"], "DROP or an action as JSON"),
        (["--action", '{"type": "SAMPLE", "percent": 2}'], "percent"),
        (["--action", '{"type": "NOPE"}'], "must be one of"),
    ],
)
def test_invalid_filters(segue, hook, flags, message):
    segue.ok("workspace", "set-plan", "business")
    stderr = segue.fails("destinations", "filters", "create", hook["id"], "--title", "t", "--if", 'type = "track"', *flags)
    assert message in stderr


def test_unknown_filter_and_destination(segue, hook):
    segue.ok("workspace", "set-plan", "business")
    assert "no filter" in segue.fails("destinations", "filters", "delete", hook["id"], "df_nope")
    assert "no destination" in segue.fails("destinations", "filters", "list", "dst_nope")


def test_sample_must_be_a_fraction(segue, hook):
    result = segue("destinations", "filters", "create", hook["id"], "--title", "t", "--if", "x", "--sample", "1.5")
    assert result.exit_code == 2


def test_action_helpers():
    assert build_actions(["drop", '{"type": "SAMPLE", "percent": 0.5}'], None, [], []) == [
        {"type": "DROP"}, {"type": "SAMPLE", "percent": 0.5}
    ]
    assert field_map(["properties.email", "properties.phone", "userId"]) == {"properties": ["email", "phone"], "": ["userId"]}
    assert describe_action({"type": "DROP_PROPERTIES", "fields": {"properties": ["email"], "": ["userId"]}}) == (
        "DROP_PROPERTIES properties.email, userId"
    )
    assert describe_action({"type": "SAMPLE", "percent": 0.1}) == "SAMPLE 0.1"
    with pytest.raises(ConfigError):
        field_map(["properties."])
