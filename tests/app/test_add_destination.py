"""The add-destination flow from its three entry points, each ending with an event sent by a
client arriving at a local webhook server; and the source chooser's rules."""

from __future__ import annotations

import re
import time
import uuid

from tests.app.conftest import add_source, screenshot, send_track, wait_for, write_key

CONFIG_PICKUP_SECONDS = 1.5  # a running server sees a config change within a second


def fill_settings_and_enable(page, hook_url: str) -> None:
    """On a new instance's page: the webhook URL, save, then switch it on."""
    assert page.get_by_text("Fill in the connection settings").is_visible()
    page.get_by_label("Webhook URL").fill(hook_url)
    page.get_by_role("button", name="Save settings").click()
    page.get_by_text("Settings saved.").wait_for()
    page.get_by_role("switch").click()
    page.get_by_text("is enabled.").wait_for()
    assert page.get_by_role("switch").get_attribute("aria-checked") == "true"


def event_arrives(app_server, hook, key: str) -> None:
    """A client sends a track call; the webhook server receives it."""
    name = f"Flow Checked {uuid.uuid4().hex[:8]}"
    time.sleep(CONFIG_PICKUP_SECONDS)
    assert send_track(app_server, key, {"userId": "flow-user", "event": name, "properties": {"n": 1}}) == 200
    wait_for(lambda: any(body and body.get("event") == name for body in hook.bodies), what="the event at the webhook")


def test_from_the_catalog(page, app_server, hook):
    add_source(page, "Catalog Flow Backend")
    key = write_key(page)
    page.goto("/catalog")
    page.get_by_label("Search").fill("webhook")
    page.locator("#tiles .tile").first.wait_for()
    wait_for(lambda: page.locator("#tiles .tile").count() == 1, what="the search to narrow the tiles")
    page.locator("#tiles .tile a").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Webhooks"
    screenshot(page, "catalog-summary")
    page.get_by_role("link", name="Configure Webhooks").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Choose a source"
    page.get_by_label(re.compile("Catalog Flow Backend")).check()
    page.get_by_role("button", name="Confirm source").click()
    page.wait_for_url(re.compile(r"/destinations/dst_\w+\?setup=1"))
    fill_settings_and_enable(page, hook.url)
    event_arrives(app_server, hook, key)


def test_from_the_connections_home(page, app_server, hook):
    add_source(page, "Home Flow Backend", "Node.js")
    key = write_key(page)
    page.goto("/")
    page.locator(".page-head").get_by_role("link", name="Add destination").click()
    page.wait_for_url("**/catalog")
    page.locator(".tile a[href^='/catalog/webhook']").click()
    page.get_by_role("link", name="Configure Webhooks").click()
    page.get_by_label(re.compile("Home Flow Backend")).check()
    page.get_by_label("Destination name").fill("Home hook")
    page.get_by_role("button", name="Confirm source").click()
    page.wait_for_url(re.compile(r"/destinations/dst_\w+"))
    assert page.get_by_role("heading", level=1).inner_text() == "Home hook"
    fill_settings_and_enable(page, hook.url)
    event_arrives(app_server, hook, key)
    page.goto("/")
    assert page.locator(".source-node", has_text="Home Flow Backend").get_by_role("link", name="Home hook").is_visible()


def test_from_a_source_overview_skips_the_source_step(page, app_server, hook):
    source_id = add_source(page, "Overview Flow Site", "Website (analytics.js)")
    key = write_key(page)
    page.get_by_role("link", name="Add destination").click()
    page.wait_for_url(re.compile(rf"/catalog\?source={source_id}$"))
    assert page.get_by_text("Adding a destination to Overview Flow Site").is_visible()
    page.locator(".tile a[href^='/catalog/webhook']").click()
    page.get_by_role("link", name="Configure Webhooks").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Confirm source"
    radios = page.get_by_role("radio")
    assert radios.count() == 1 and radios.first.is_checked()
    page.get_by_role("button", name="Confirm source").click()
    page.wait_for_url(re.compile(r"/destinations/dst_\w+"))
    fill_settings_and_enable(page, hook.url)
    notice = page.get_by_text("remove Webhooks's own snippet")
    assert notice.is_visible(), "a website source gets the duplicate-data reminder"
    screenshot(page, "destination-instance")
    event_arrives(app_server, hook, key)
    page.goto(f"/sources/{source_id}")
    assert page.get_by_role("region", name="Connected destinations").get_by_role("link", name="Webhooks").is_visible()


def test_sources_that_cannot_be_served_are_disabled_and_unaccepted_methods_warned(page, app_server):
    add_source(page, "Chooser iOS App", "iOS")
    add_source(page, "Chooser Server")
    key = write_key(page)
    assert send_track(app_server, key, {"userId": "u", "event": "Ordered"}) == 200
    page.goto("/catalog/tiktok-events-api/configure")
    ios = page.get_by_label(re.compile("Chooser iOS App"))
    assert ios.is_disabled()
    assert page.get_by_text(re.compile("does not take events from mobile app sources")).is_visible()
    page.goto("/catalog/attio/configure")
    warning = page.locator(".choice", has_text="Chooser Server").locator(".warning-text")
    assert "has received track events, which Attio does not take" in warning.inner_text()
