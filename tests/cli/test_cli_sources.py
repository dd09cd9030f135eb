"""`segue sources ...`: output formats, settings from flags and environment, errors."""

from __future__ import annotations

import json
import re

import pytest

CREATE_FIELDS = {"id", "name", "slug", "type", "write_key", "writeKeys", "enabled", "createdAt", "updatedAt"}


def test_create_json_prints_exactly_one_object(segue):
    [source] = segue.json_lines("sources", "create", "My Web", "--type", "javascript")
    assert CREATE_FIELDS <= set(source)
    assert source["name"] == "My Web" and source["slug"] == "my-web"
    assert source["type"] == "javascript" and source["enabled"] is True
    assert re.fullmatch(r"[A-Za-z0-9]{32}", source["write_key"])


def test_create_human_output_shows_the_write_key(segue):
    result = segue.ok("sources", "create", "web", "--type", "javascript")
    [source] = segue.json_lines("sources", "list")
    assert "Created source web" in result.stdout
    assert source["write_key"] in result.stdout.split()


def test_list_json_prints_one_object_per_line(segue):
    segue.ok("sources", "create", "web", "--type", "javascript")
    segue.ok("sources", "create", "backend", "--type", "python")
    sources = segue.json_lines("sources", "list")
    assert [(source["name"], source["type"]) for source in sources] == [("web", "javascript"), ("backend", "python")]


def test_list_human_output_is_a_table_with_full_write_keys(segue):
    [created] = segue.json_lines("sources", "create", "web", "--type", "javascript")
    output = segue.ok("sources", "list").stdout
    assert "Write key" in output and created["write_key"] in output


def test_list_without_sources_says_how_to_create_one(segue):
    assert "segue sources create" in segue.ok("sources", "list").stdout


def test_rotate_key_json_returns_the_new_key(segue):
    [created] = segue.json_lines("sources", "create", "web", "--type", "javascript")
    [rotated] = segue.json_lines("sources", "rotate-key", "web")
    assert rotated["id"] == created["id"] and rotated["write_key"] != created["write_key"]
    assert segue.ok("sources", "rotate-key", "web").stdout.split()[-1] not in (created["write_key"], rotated["write_key"])


def test_disable_enable_and_delete(segue):
    segue.ok("sources", "create", "web", "--type", "javascript")
    assert "Disabled source web" in segue.ok("sources", "disable", "web").stdout
    assert segue.json_lines("sources", "list")[0]["enabled"] is False
    assert "Enabled source web" in segue.ok("sources", "enable", "WEB").stdout
    assert segue.json_lines("sources", "list")[0]["enabled"] is True
    assert "Deleted source web" in segue.ok("sources", "delete", "web").stdout
    assert segue.json_lines("sources", "list") == []


def test_data_dir_comes_from_the_environment(segue, tmp_path):
    segue.ok("sources", "create", "web", "--type", "http")
    assert (segue.data_dir / "config.db").exists()


def test_data_dir_flag_beats_the_environment(segue, tmp_path):
    other = tmp_path / "other"
    segue.ok("sources", "create", "web", "--type", "http", "--data-dir", str(other))
    assert (other / "config.db").exists() and not segue.data_dir.exists()


def test_database_url_flag_and_environment(segue, tmp_path):
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    segue.ok("sources", "create", "web", "--type", "http", "--database-url", url)
    assert (tmp_path / "elsewhere.db").exists()
    assert [source["name"] for source in segue.json_lines("sources", "list", "--database-url", url)] == ["web"]
    result = segue.ok("sources", "list", "--json", env={"SEGUE_DATABASE_URL": url})
    assert json.loads(result.stdout)["name"] == "web"


@pytest.mark.parametrize(
    "args, message",
    [
        (["sources", "create", "web", "--type", "http"], "already exists"),
        (["sources", "disable", "nope"], "no source with name or id 'nope'"),
        (["sources", "rotate-key", "nope", "--json"], "no source with name or id 'nope'"),
        (["sources", "delete", "nope"], "no source"),
        (["sources", "create", "   ", "--type", "http"], "1 to 100 characters"),
        (["sources", "list", "--database-url", "nonsense"], "invalid database URL"),
    ],
)
def test_errors_print_one_red_line_and_exit_1(segue, args, message):
    segue.ok("sources", "create", "web", "--type", "http")
    result = segue(*args)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_invalid_environment_setting_is_an_error_not_a_traceback(segue):
    result = segue("sources", "list", env={"SEGUE_MAX_BATCH_MESSAGES": "lots"})
    assert result.exit_code == 1 and "invalid setting" in result.stderr


def test_unknown_type_is_a_usage_error(segue):
    result = segue("sources", "create", "web", "--type", "php")
    assert result.exit_code == 2 and "javascript" in result.output


def test_json_is_the_control_plane_view_plus_write_key(segue, web):
    assert web["writeKeys"] == [web["write_key"]]
    assert web["createdAt"].endswith("Z") and "created_at" not in web
    assert segue.one("sources", "show", "web") == web


def test_show_human_output(segue, web):
    output = segue.ok("sources", "show", "web").stdout
    for text in ("web", web["id"], "javascript", web["write_key"], "Destinations"):
        assert text in output


def test_show_lists_the_connected_destinations(segue, web):
    created = segue.one("destinations", "create", "webhook", "--source", "web")
    assert created["id"] in segue.ok("sources", "show", "web").stdout


def test_rename_keeps_id_and_write_key(segue, web):
    renamed = segue.one("sources", "rename", "web", "Website")
    assert (renamed["id"], renamed["write_key"]) == (web["id"], web["write_key"])
    assert (renamed["name"], renamed["slug"]) == ("Website", "website")
    assert "Renamed source to site" in segue.ok("sources", "rename", "website", "site").stdout
    assert "no source" in segue.fails("sources", "show", "web")


def test_enable_disable_and_delete_print_the_view_with_json(segue, web):
    assert segue.one("sources", "disable", "web")["enabled"] is False
    assert segue.one("sources", "enable", "web")["enabled"] is True
    assert segue.one("sources", "delete", "web")["id"] == web["id"]
    assert segue.json_lines("sources", "list") == []


def test_changes_are_audited_as_the_cli(segue, web):
    segue.ok("sources", "rotate-key", "web")
    [rotated, created] = segue.json_lines("audit", "--resource", web["id"])
    assert (rotated["action"], created["action"]) == ("source.write_key_rotated", "source.created")
    assert rotated["actor"] == created["actor"] == "cli"
