"""Destinations list and an instance's event delivery: counts, and a failure opening its sample."""

from __future__ import annotations

import re
import time

from tests.app.conftest import add_source, screenshot, send_track, wait_for, write_key


def webhook_for(page, source_name: str, url: str) -> str:
    """A new source with an enabled webhook destination to `url`; the instance id."""
    add_source(page, source_name)
    page.get_by_role("link", name="Add destination").click()
    page.locator(".tile a[href^='/catalog/webhook']").click()
    page.get_by_role("link", name="Configure Webhooks").click()
    page.get_by_role("button", name="Confirm source").click()
    page.wait_for_url(re.compile(r"/destinations/dst_\w+"))
    page.get_by_label("Webhook URL").fill(url)
    page.get_by_role("button", name="Save settings").click()
    page.get_by_text("Settings saved.").wait_for()
    page.get_by_role("switch").click()
    page.get_by_text("is enabled.").wait_for()
    return page.url.split("/destinations/")[1].split("?")[0]


def test_delivered_and_failed_events_with_the_failure_sample(page, app_server, hook):
    hook.status = 400  # a permanent refusal: counted as failed at once, with a sample
    instance_id = webhook_for(page, "Delivery Source", hook.url)
    page.goto("/sources")
    page.get_by_role("link", name="Delivery Source").click()
    key = write_key(page)
    time.sleep(1.5)
    send_track(app_server, key, {"userId": "d1", "event": "Refused <b>Event</b>"})
    wait_for(lambda: len(hook.bodies) == 1, what="the refused delivery")
    hook.status = 200
    send_track(app_server, key, {"userId": "d2", "event": "Accepted Event"})
    wait_for(lambda: len(hook.bodies) == 2, what="the accepted delivery")
    page.goto(f"/destinations/{instance_id}")
    delivery = page.get_by_role("region", name="Event delivery")
    wait_for(lambda: page.reload() or delivery.get_by_test_id("delivered").inner_text() == "1", what="the counts")
    failure = delivery.locator("tbody tr").first
    assert "Refused <b>Event</b>" not in failure.inner_html()
    failure.get_by_text("Open sample").click()
    sample = failure.inner_text()
    assert "Refused <b>Event</b>" in sample and "400" in sample
    screenshot(page, "destination-delivery")
    page.goto("/destinations")
    row = page.locator("tr", has_text="Delivery Source")
    assert "1 failed" in row.inner_text() and row.get_by_role("switch").get_attribute("aria-checked") == "true"
    screenshot(page, "destinations")
    row.get_by_role("switch").click()
    page.get_by_text("is disabled.").wait_for()
    assert page.locator("tr", has_text="Delivery Source").get_by_role("switch").get_attribute("aria-checked") == "false"
