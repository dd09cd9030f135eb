"""The source overview: write key, install code, and the live debugger (server-sent events),
which shows payloads as text: a payload with HTML and script tags never runs."""

from __future__ import annotations

import re

from tests.app.conftest import add_source, screenshot, send_track, write_key

HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"><b>bold</b>'


def test_overview_shows_key_install_code_and_rotates_the_key(page, app_server):
    add_source(page, "Overview Node Service", "Node.js")
    key = write_key(page)
    install = page.get_by_role("region", name="Install")
    node = install.locator("details[open]")
    assert "Node.js" in node.locator("summary").inner_text()
    assert f'writeKey: "{key}"' in node.inner_text() and app_server.url in node.inner_text()
    install.get_by_text("Website: analytics.js").click()
    assert f'cdnURL: "{app_server.url}"' in install.inner_text()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Rotate").click()
    page.get_by_text("A new write key is active").wait_for()
    assert write_key(page) != key


def test_the_debugger_shows_events_sent_after_the_page_opened(page, app_server):
    add_source(page, "Debugger Live Source")
    key = write_key(page)
    debugger = page.get_by_role("region", name="Debugger")
    debugger.get_by_text("Live").wait_for()
    send_track(app_server, key, {"userId": "debug-user", "event": "Debugged Live", "properties": {"plan": "pro"}})
    event = debugger.locator("li.event", has_text="Debugged Live")
    event.wait_for()
    event.locator("summary").click()
    assert '"plan": "pro"' in event.locator("pre").inner_text()
    screenshot(page, "source-overview")


def test_pause_holds_events_and_the_type_filter_hides_others(page, app_server):
    add_source(page, "Debugger Pause Source")
    key = write_key(page)
    debugger = page.get_by_role("region", name="Debugger")
    debugger.get_by_text("Live").wait_for()
    debugger.get_by_role("button", name="Pause").click()
    send_track(app_server, key, {"userId": "u1", "event": "Held Back"})
    page.wait_for_timeout(1500)
    assert debugger.locator("li.event", has_text="Held Back").count() == 0
    debugger.get_by_role("button", name="Resume").click()
    debugger.locator("li.event", has_text="Held Back").wait_for()
    debugger.get_by_label("Type").select_option("identify")
    assert not debugger.locator("li.event", has_text="Held Back").is_visible()
    debugger.get_by_label("Type").select_option("track")
    assert debugger.locator("li.event", has_text="Held Back").is_visible()


def test_a_payload_with_html_and_script_tags_is_shown_as_text_and_never_runs(page, app_server):
    source_id = add_source(page, "Debugger Hostile Source")
    key = write_key(page)
    debugger = page.get_by_role("region", name="Debugger")
    debugger.get_by_text("Live").wait_for()
    send_track(app_server, key, {"userId": "x", "event": HOSTILE, "properties": {"html": HOSTILE}})
    event = debugger.locator("li.event").first
    event.wait_for()
    event.locator("summary").click()
    assert HOSTILE in event.locator(".event-title").inner_text()
    assert HOSTILE.replace('"', '\\"') in event.locator("pre").inner_text()
    assert event.locator("script, img, b").count() == 0, "no element was made from the payload"
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned") is None
    page.reload()
    debugger.locator("li.event").first.wait_for()
    assert page.evaluate("window.__pwned") is None, "nor when the debugger replays recent events"
    assert re.search(rf"/sources/{source_id}$", page.url)
