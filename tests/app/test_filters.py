"""Destination Filters on a destination's page: the Free plan says why and which plan allows them;
on Business a filter added in the app drops the events it matches."""

from __future__ import annotations

import time

from playwright.sync_api import expect

from tests.app.conftest import screenshot, send_track, wait_for
from tests.app.test_delivery import webhook_for
from tests.app.test_mappings import key_of
from tests.app.test_warehouse_page import set_plan


def test_the_free_plan_shows_why_filters_need_business(page, hook):
    instance_id = webhook_for(page, "Free Filters Source", hook.url)
    filters = page.get_by_role("region", name="Filters")
    rule = filters.get_by_test_id("filter-rule").inner_text()
    assert "Destination Filters needs the business plan" in rule and "free plan" in rule
    assert filters.get_by_role("link", name="Add filter").count() == 0
    page.goto(f"/destinations/{instance_id}/filters/new")
    assert "needs the business plan" in page.get_by_test_id("filter-rule").inner_text()
    assert page.get_by_role("button", name="Save filter").is_disabled()
    csrf = page.locator("input[name=csrf]").first.input_value()
    forged = page.request.post(f"/destinations/{instance_id}/filters",
                               form={"csrf": csrf, "title": "x", "condition": "type = 'track'", "drop": "on"})
    assert forged.status == 403 and "needs the business plan" in forged.text()
    screenshot(page, "filter-plan-rule")


def test_a_filter_added_in_the_app_drops_matching_events(page, app_server, hook):
    instance_id = webhook_for(page, "Filters Source", hook.url)
    key = key_of(page, instance_id)
    page.on("dialog", lambda dialog: dialog.accept())
    set_plan(page, "business")
    try:
        page.goto(f"/destinations/{instance_id}")
        page.get_by_role("region", name="Filters").get_by_role("link", name="Add filter").click()
        page.get_by_label("Title").fill("No tests")
        page.get_by_label("Condition (FQL)").fill('event = "Test Event')
        page.get_by_role("button", name="Save filter").click()
        expect(page.get_by_test_id("filter-error")).to_contain_text("condition: invalid FQL")
        page.get_by_label("Condition (FQL)").fill('event = "Test Event"')
        page.get_by_label("Drop the event").check()
        page.get_by_role("button", name="Save filter").click()
        page.get_by_text("Filter 'No tests' saved.").wait_for()
        row = page.get_by_test_id("filters").locator("tr", has_text="No tests")
        expect(row).to_contain_text("Drop the event")
        screenshot(page, "destination-filters")

        section = page.get_by_role("region", name="Mappings")
        section.get_by_label("An event I paste").check()
        section.get_by_label("Pasted event (JSON)").fill('{"type": "track", "event": "Test Event", "userId": "f1"}')
        section.get_by_role("button", name="Preview").click()
        expect(section.get_by_test_id("preview-outcome")).to_contain_text("filtered (filter 'No tests': DROP)")

        time.sleep(1.5)  # the router follows configuration changes within a second
        send_track(app_server, key, {"userId": "f1", "event": "Test Event"})
        send_track(app_server, key, {"userId": "f1", "event": "Real Event"})  # same user: delivered after the first
        wait_for(lambda: any(body["event"] == "Real Event" for body in hook.bodies), what="the unfiltered event")
        assert [body["event"] for body in hook.bodies] == ["Real Event"]

        row.get_by_role("link", name="Edit No tests").click()
        page.get_by_label("Drop the event").uncheck()
        page.get_by_label("Drop properties").check()
        page.get_by_label("Properties to drop, one a line").fill("properties.email\nuserId")
        page.get_by_role("button", name="Save filter").click()
        page.get_by_text("Filter 'No tests' saved.").wait_for()
        expect(page.get_by_test_id("filters")).to_contain_text("Drop properties.email, userId")
        page.get_by_role("button", name="Filter No tests enabled").click()
        page.get_by_text("Filter 'No tests' is disabled.").wait_for()
        page.get_by_role("button", name="Delete No tests").click()
        page.get_by_text("Filter 'No tests' was deleted.").wait_for()
    finally:
        set_plan(page, "free")  # the other tests of this package expect the free plan
