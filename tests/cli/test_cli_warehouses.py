"""`segue warehouses ...`: CRUD and the plan rules (one warehouse, sync interval, Selective Sync)."""

from __future__ import annotations

import pytest


def _duckdb(segue, name: str = "main", *more: str) -> dict:
    return segue.one("warehouses", "create", "duckdb", "--name", name, *more)


def test_create_list_show_update_enable_disable_delete(segue, tmp_path):
    path = str(tmp_path / "wh.duckdb")
    created = _duckdb(segue, "main", "--setting", f"path={path}")
    assert created["engine"] == "duckdb" and created["enabled"] is True and created["sourceIds"] is None
    assert created["settings"]["path"] == path and created["syncIntervalSeconds"] == 86_400
    assert segue.json_lines("warehouses", "list") == [created]
    assert segue.one("warehouses", "show", created["id"]) == segue.one("warehouses", "show", "main")
    table = segue.ok("warehouses", "list").stdout
    assert "main" in table and "duckdb" in table and "all" in table and "1d" in table
    assert "Settings" in segue.ok("warehouses", "show", "main").stdout
    renamed = segue.one("warehouses", "update", "main", "--name", "lake")
    assert renamed["name"] == "lake" and renamed["id"] == created["id"]
    assert segue.one("warehouses", "disable", "lake")["enabled"] is False
    assert "Enabled warehouse lake" in segue.ok("warehouses", "enable", "lake").stdout
    assert "Deleted warehouse lake" in segue.ok("warehouses", "delete", "lake").stdout
    assert segue.json_lines("warehouses", "list") == []
    assert "segue warehouses create" in segue.ok("warehouses", "list").stdout


def test_human_create_prints_the_id(segue):
    output = segue.ok("warehouses", "create", "duckdb", "--name", "main", "--disable").stdout
    [listed] = segue.json_lines("warehouses", "list")
    assert output.splitlines()[-1] == listed["id"] and listed["enabled"] is False


def test_free_plan_allows_one_warehouse(segue):
    _duckdb(segue)
    stderr = segue.fails("warehouses", "create", "duckdb", "--name", "second")
    assert "free plan allows 1 warehouse" in stderr
    assert len(segue.json_lines("warehouses", "list")) == 1


def test_business_plan_allows_more(segue):
    segue.ok("workspace", "set-plan", "business")
    _duckdb(segue, "one")
    _duckdb(segue, "two")
    assert len(segue.json_lines("warehouses", "list")) == 2
    assert "delete warehouses first" in segue.fails("workspace", "set-plan", "team")


def test_sync_interval_follows_the_plan(segue):
    assert "at most every 24 hours" in segue.fails("warehouses", "create", "duckdb", "--name", "w", "--sync-interval", "3600")
    segue.ok("workspace", "set-plan", "business")
    assert _duckdb(segue, "w", "--sync-interval", "3600")["syncIntervalSeconds"] == 3600
    assert segue.one("warehouses", "update", "w", "--sync-interval", "12h")["syncIntervalSeconds"] == 43_200
    assert "at least weekly" in segue.fails("warehouses", "update", "w", "--sync-interval", "30d")
    assert "invalid interval" in segue.fails("warehouses", "update", "w", "--sync-interval", "soon")


def test_selective_sync_is_refused_on_free_and_allowed_on_business(segue, web):
    segue.ok("sources", "create", "backend", "--type", "python")
    assert "Selective Sync needs the business plan" in segue.fails("warehouses", "create", "duckdb", "--name", "w", "--source", "web")
    segue.ok("workspace", "set-plan", "business")
    created = _duckdb(segue, "w", "--source", "web", "--source", "backend")
    assert set(created["sourceIds"]) == {web["id"], segue.one("sources", "show", "backend")["id"]}
    assert "web, backend" in segue.ok("warehouses", "show", "w").stdout
    assert segue.one("warehouses", "update", "w", "--source", "web")["sourceIds"] == [web["id"]]
    assert segue.one("warehouses", "update", "w", "--all-sources")["sourceIds"] is None


def test_selective_sync_update_is_refused_on_free(segue, web):
    _duckdb(segue)
    assert "business plan" in segue.fails("warehouses", "update", "main", "--source", "web")


@pytest.mark.parametrize(
    "args, message",
    [
        (["warehouses", "create", "oracle", "--name", "w"], "no warehouse engine 'oracle'"),
        (["warehouses", "create", "duckdb", "--name", "w", "--setting", "colour=red"], "colour"),
        (["warehouses", "show", "nope"], "nope"),
        (["warehouses", "update", "nope", "--name", "x"], "nope"),
        (["warehouses", "delete", "nope"], "nope"),
    ],
)
def test_errors(segue, args, message):
    assert message in segue.fails(*args)


def test_update_needs_a_change(segue, web):
    _duckdb(segue)
    assert "nothing to change" in segue.fails("warehouses", "update", "main")
    assert "not both" in segue.fails("warehouses", "update", "main", "--source", "web", "--all-sources")


def test_postgres_password_is_masked(segue):
    secret = "pg-password-never-shown"
    settings = f'{{"host": "db.test", "database": "analytics", "user": "segue", "password": "{secret}"}}'
    created = segue.one("warehouses", "create", "postgres", "--name", "pg", "--settings-json", settings)
    assert created["settings"]["password"].startswith("••••")
    for args in (("warehouses", "show", "pg"), ("warehouses", "list", "--json"), ("audit", "--json")):
        output = segue.ok(*args).stdout
        assert secret not in output


def test_backfill_is_refused_below_the_business_plan(segue):
    segue.ok("warehouses", "create", "duckdb", "--name", "lake")
    result = segue("warehouses", "backfill", "lake", "--start", "2024-05-01T00:00:00Z", "--end", "2024-05-02T00:00:00Z")
    assert result.exit_code == 1 and "business plan" in result.output
