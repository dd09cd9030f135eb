"""The warehouse page: Sync now and the sync history, BI connection details, Selective Sync's plan rule."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.app.conftest import add_source, screenshot, send_track, write_key

SYNC_SECONDS = 60_000


def open_default_warehouse(page) -> str:
    page.goto("/warehouses")
    page.get_by_role("link", name="warehouse", exact=True).click()
    page.wait_for_url("**/warehouses/wh_*")
    return page.url.rsplit("/", 1)[1]


def set_plan(page, plan: str) -> None:
    page.goto("/settings")
    page.get_by_label("Plan", exact=True).select_option(plan)
    page.get_by_role("button", name="Change plan").click()
    page.get_by_text("Plan changed.").wait_for()


def test_sync_now_loads_a_tracked_event_and_shows_the_history_and_duckdb_details(page, app_server):
    add_source(page, "Warehouse Page Web")
    send_track(app_server, write_key(page), {"userId": "wh-user", "event": "Order Completed", "properties": {"total": 12.5}})
    warehouse_id = open_default_warehouse(page)
    assert page.get_by_test_id("engine").inner_text() == "DuckDB"
    assert "warehouse_page_web" in page.get_by_role("region", name="Overview").inner_text()

    page.get_by_role("button", name="Sync now").click()
    page.get_by_text("Sync requested").wait_for()
    newest = page.locator("[data-testid=sync-history] tbody tr").first
    expect(newest.get_by_test_id("sync-status")).to_have_text("Success", timeout=SYNC_SECONDS)  # htmx polled it there
    assert "manual" in newest.inner_text()
    assert page.locator("#sync-history").get_attribute("data-active") == "false", "polling stops once it ended"
    history = page.get_by_test_id("sync-history").inner_text()
    assert "order_completed" in history and "tracks" in history, history

    path = page.get_by_test_id("duckdb-path").inner_text()
    assert path.endswith("warehouse.duckdb")
    example = page.get_by_test_id("bi-example").inner_text()
    # The example queries one of the warehouse's sources (the first; other tests add sources too).
    assert re.fullmatch(rf'duckdb -readonly {re.escape(path)} "SELECT \* FROM [a-z0-9_]+\.tracks LIMIT 10"', example)
    screenshot(page, "warehouse-page")

    page.goto(f"/warehouses/{warehouse_id}/syncs")
    assert "Success" in page.content()


def test_selective_sync_is_refused_on_free_and_saved_on_business(page):
    warehouse_id = open_default_warehouse(page)
    rule = page.get_by_test_id("selective-rule").inner_text()
    assert "Selective Sync needs the business plan" in rule and "free plan" in rule
    assert page.get_by_role("button", name="Save Selective Sync").is_disabled()
    csrf = page.locator("input[name=csrf]").first.input_value()
    forged = page.request.post(f"/warehouses/{warehouse_id}/selective-sync",
                               form={"csrf": csrf, "table": "pages"})  # "pages" shown, not ticked: off
    assert forged.status == 403 and "needs the business plan" in forged.text()

    set_plan(page, "business")
    try:
        page.goto(f"/warehouses/{warehouse_id}")
        assert page.get_by_test_id("selective-rule").count() == 0
        page.get_by_label("pages", exact=True).uncheck()
        page.get_by_label("screens", exact=True).uncheck()
        page.get_by_role("button", name="Save Selective Sync").click()
        page.get_by_text("Selective Sync saved: 2 table(s) turned off.").wait_for()
        assert not page.get_by_label("pages", exact=True).is_checked()
        assert not page.get_by_label("screens", exact=True).is_checked()
        assert page.get_by_label("tracks", exact=True).is_checked()
        screenshot(page, "warehouse-selective-sync")
        page.get_by_label("pages", exact=True).check()
        page.get_by_label("screens", exact=True).check()
        page.get_by_role("button", name="Save Selective Sync").click()
        page.get_by_text("Selective Sync saved: every table loads.").wait_for()
    finally:
        set_plan(page, "free")  # the other tests of this package expect the free plan
