"""The catalog through the API: list, filters, one entry."""

from __future__ import annotations

from tests.api.helpers import assert_error, data


def slugs(client, **params) -> set[str]:
    return {entry["slug"] for entry in data(client.get("/api/v1/catalog/destinations", params=params), "destinationsCatalog")}


def test_catalog_lists_and_filters(owner):
    everything = slugs(owner)
    assert {"webhook", "amplitude", "mixpanel", "slack", "customerio"} <= everything
    assert "amplitude" in slugs(owner, category="Analytics") and "webhook" not in slugs(owner, category="Analytics")
    assert slugs(owner, search="webhook") >= {"webhook"}
    assert slugs(owner, search="no such tool at all") == set()
    entries = data(owner.get("/api/v1/catalog/destinations"), "destinationsCatalog")
    for method in ("track", "identify", "screen", "alias"):
        expected = {entry["slug"] for entry in entries if entry["methods"][method]}
        assert slugs(owner, method=method) == expected
    cloud = {entry["slug"] for entry in entries if any(entry["connectionModes"]["cloud"].values())}
    assert slugs(owner, mode="cloud") == cloud
    server = {entry["slug"] for entry in entries if entry["platforms"]["server"]}
    assert slugs(owner, platform="server") == server


def test_one_catalog_entry(owner):
    entry = data(owner.get("/api/v1/catalog/destinations/webhook"), "destinationMetadata")
    assert entry["name"] == "Webhooks" and entry["methods"]["track"] is True
    secret = [field for field in entry["settings"] if field["name"] == "sharedSecret"]
    assert secret and secret[0]["secret"] is True and secret[0]["type"] == "password"
    assert entry["logo"].lstrip().startswith("<svg")
    assert_error(owner.get("/api/v1/catalog/destinations/nope"), 404, "not_found", "nope")


def test_warehouse_catalog(owner):
    engines = {entry["slug"] for entry in data(owner.get("/api/v1/catalog/warehouses"), "warehousesCatalog")}
    assert engines >= {"duckdb", "postgres", "mysql", "snowflake", "redshift"}
    postgres = data(owner.get("/api/v1/catalog/warehouses/postgres"), "warehouseMetadata")
    assert any(field["name"] == "password" and field["secret"] for field in postgres["settings"])


def test_a_destinations_docs_page(owner):
    response = owner.get("/api/v1/catalog/destinations/customerio/docs")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/markdown")
    page = response.text
    assert page.startswith("# Customer.io\n") and "| `apiKey` | API Key | secret | yes |" in page
    assert "- **group**: not sent" in page and "https://docs.customer.io/api/track/" in page
    assert_error(owner.get("/api/v1/catalog/destinations/nope/docs"), 404, "not_found", "nope")
