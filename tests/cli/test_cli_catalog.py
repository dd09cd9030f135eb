"""`segue catalog ...`: the destination catalog and the warehouse engines."""

from __future__ import annotations


def test_list_json_has_every_destination_with_its_metadata(segue):
    destinations = segue.json_lines("catalog", "list")
    slugs = {destination["slug"] for destination in destinations}
    assert "webhook" in slugs
    webhook = next(item for item in destinations if item["slug"] == "webhook")
    assert {"name", "categories", "methods", "settings", "docsUrl", "connectionModes"} <= set(webhook)


def test_list_filters(segue):
    assert [item["slug"] for item in segue.json_lines("catalog", "list", "--search", "webhook")] == ["webhook"]
    for item in segue.json_lines("catalog", "list", "--category", "Analytics"):
        assert "Analytics" in item["categories"]
    for item in segue.json_lines("catalog", "list", "--method", "alias"):
        assert item["methods"]["alias"] is True
    device = segue.json_lines("catalog", "list", "--mode", "device")
    assert "webhook" not in {item["slug"] for item in device}
    assert segue.json_lines("catalog", "list", "--search", "no-such-thing-anywhere") == []
    assert "No destination matches" in segue.ok("catalog", "list", "--search", "no-such-thing-anywhere").stdout


def test_list_refuses_unknown_choices(segue):
    assert segue("catalog", "list", "--mode", "sideways").exit_code == 2
    assert segue("catalog", "list", "--method", "shout").exit_code == 2


def test_list_human_output_is_a_table(segue):
    output = segue.ok("catalog", "list").stdout
    for text in ("Slug", "webhook", "Webhooks", "Raw Data"):
        assert text in output


def test_show_is_a_docs_page_with_the_settings(segue):
    output = segue.ok("catalog", "show", "webhook").stdout
    for text in ("Webhooks", "Raw Data", "track", "cloud", "Docs: https://", "url", "sharedSecret", "password", "Required"):
        assert text in output


def test_show_json_is_the_catalog_entry(segue):
    webhook = segue.one("catalog", "show", "webhook")
    settings = {field["name"]: field for field in webhook["settings"]}
    assert settings["url"]["required"] is True and settings["sharedSecret"]["secret"] is True


def test_show_unknown_destination(segue):
    assert "nope" in segue.fails("catalog", "show", "nope")


def test_catalog_commands_leave_the_data_dir_alone(segue):
    segue.ok("catalog", "list")
    segue.ok("catalog", "show", "webhook")
    segue.ok("catalog", "warehouses")
    assert not segue.data_dir.exists()


def test_warehouse_engines(segue):
    engines = segue.json_lines("catalog", "warehouses")
    assert "duckdb" in {engine["slug"] for engine in engines}
    assert "DuckDB" in segue.ok("catalog", "warehouses").stdout
    duckdb = segue.one("catalog", "warehouses", "duckdb")
    assert duckdb["slug"] == "duckdb" and isinstance(duckdb["settings"], list)
    assert "Settings" in segue.ok("catalog", "warehouses", "duckdb").stdout
    assert "oracle" in segue.fails("catalog", "warehouses", "oracle")


def test_docs_prints_a_page_and_writes_every_page_with_an_index(segue, tmp_path):
    assert "Connection settings" in segue.ok("catalog", "docs", "webhook").stdout
    segue.ok("catalog", "docs", "--all", "--out", str(tmp_path / "pages"))
    written = {path.name for path in (tmp_path / "pages").iterdir()}
    assert {"README.md", "webhook.md", "hubspot.md"} <= written
    assert segue("catalog", "docs").exit_code == 2  # neither a slug nor --all
