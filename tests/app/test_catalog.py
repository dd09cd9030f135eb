"""The catalog: search and filters update the tiles in place (htmx); the Warehouses tab."""

from __future__ import annotations

from tests.app.conftest import screenshot, wait_for


def tile_names(page) -> list[str]:
    return page.locator("#tiles .tile-name").all_inner_texts()


def test_search_narrows_the_tiles_without_a_page_load(page):
    page.goto("/catalog")
    everything = len(tile_names(page))
    assert everything > 20
    screenshot(page, "catalog")
    page.evaluate("window.__samePage = true")
    page.get_by_label("Search").fill("mixpanel")
    wait_for(lambda: tile_names(page) == ["Mixpanel"], what="the search result")
    assert page.evaluate("window.__samePage") is True, "updated in place, not reloaded"
    assert "search=mixpanel" in page.url, "the filter is in the address, so it can be shared"
    page.get_by_label("Search").fill("no-such-tool-anywhere")
    page.get_by_text("No destination matches").wait_for()


DEVICE_TILES = {"Crisp", "Facebook Pixel", "FullStory", "Google Analytics 4", "Google Tag Manager", "Hotjar", "Intercom",
                "Mixpanel", "Customer.io"}


def test_category_method_mode_and_platform_filters(page):
    page.goto("/catalog")
    page.get_by_label("Category").select_option("Livechat")
    wait_for(lambda: "Intercom" in tile_names(page) and "Mixpanel" not in tile_names(page), what="the Livechat tiles")
    for tile in page.locator("#tiles .tile-cats").all_inner_texts():
        assert "Livechat" in tile
    page.get_by_label("Category").select_option("")
    page.get_by_label("Connection mode").select_option("device")
    wait_for(lambda: set(tile_names(page)) == DEVICE_TILES, what="the device-mode tiles")
    page.get_by_label("Connection mode").select_option("")
    page.get_by_label("Platform").select_option("mobile")
    wait_for(lambda: "TikTok Events API" not in tile_names(page) and len(tile_names(page)) > 10, what="mobile tiles")
    page.get_by_label("Method").select_option("alias")
    wait_for(lambda: "Attio" not in tile_names(page) and "Braze" in tile_names(page), what="tiles taking alias")


def test_tiles_show_logo_name_categories_and_a_line_and_the_warehouses_tab(page):
    page.goto("/catalog?search=slack")
    tile = page.locator("#tiles .tile").first
    assert tile.locator("img.logo").get_attribute("src").startswith("data:image/svg+xml;base64,")
    assert tile.locator(".tile-name").inner_text() == "Slack"
    assert tile.locator(".tile-cats").inner_text()
    assert tile.locator(".tile-line").inner_text()
    page.get_by_role("link", name="Warehouses").last.click()
    for engine in ("DuckDB", "PostgreSQL"):
        assert page.locator(".tile-name", has_text=engine).first.is_visible()
    screenshot(page, "catalog-warehouses")


def test_the_summary_page_shows_the_generated_documentation(page):
    page.goto("/catalog/customerio")
    page.get_by_text("Full documentation").click()
    docs = page.locator(".docs-page")
    assert docs.locator("h2", has_text="Segment methods").is_visible()
    assert docs.locator("td", has_text="siteId").first.is_visible()
    assert "not sent" in docs.inner_text()
