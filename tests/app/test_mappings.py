"""Mappings on a destination's page: edit one and see the preview change, inline errors, order and
switches, and an edited mapping taking effect on delivery."""

from __future__ import annotations

import time

from playwright.sync_api import expect

from tests.app.conftest import screenshot, send_track, wait_for, write_key
from tests.app.test_delivery import webhook_for

HOSTILE = "<script>window.__pwned = 1</script>"
BOUGHT = '{"event": {"@template": "Bought {{properties.sku}}"}}'


def key_of(page, instance_id: str) -> str:
    page.goto(f"/destinations/{instance_id}")
    page.locator("p.muted a[href^='/sources/']").click()
    key = write_key(page)
    page.goto(f"/destinations/{instance_id}")
    return key


def test_editing_a_mapping_changes_the_preview_and_what_is_delivered(page, app_server, hook):
    instance_id = webhook_for(page, "Mapping Source", hook.url)
    key = key_of(page, instance_id)
    time.sleep(1.5)  # a newly enabled destination receives what arrives once the router has started it
    send_track(app_server, key, {"userId": "m1", "event": "Order Completed", "properties": {"sku": HOSTILE}})
    wait_for(lambda: len(hook.bodies) == 1, what="the first delivery")
    assert hook.bodies[0]["event"] == "Order Completed"

    mappings = page.get_by_role("region", name="Mappings")
    expect(mappings.locator("tr", has_text="Track Calls")).to_contain_text("default")
    mappings.get_by_role("link", name="Edit Track Calls").click()
    page.wait_for_url("**/mappings/map_*")
    preview = page.get_by_role("region", name="Preview")
    expect(preview.get_by_test_id("preview-sample")).to_contain_text("newest event of the source")
    expect(preview.get_by_test_id("preview-payload")).to_contain_text('"event": "Order Completed"')

    page.get_by_label("Fields (mapping-kit JSON)").fill(BOUGHT)
    preview.get_by_role("button", name="Preview").click()
    expect(preview.get_by_test_id("preview-request")).to_contain_text(f"Bought {HOSTILE}")
    assert page.evaluate("window.__pwned") is None  # shown as text, never run
    expect(preview.get_by_test_id("preview-outcome")).to_contain_text("Sent as 1 request")
    screenshot(page, "mapping-editor")

    page.get_by_role("button", name="Save mapping").click()
    page.get_by_text("Mapping 'Track Calls' saved.").wait_for()
    row = page.get_by_role("region", name="Mappings").locator("tr", has_text="Track Calls")
    expect(row).to_contain_text("Bought {{properties.sku}}")
    expect(row).not_to_contain_text("default")  # edited: no longer the preset as it came
    section = page.get_by_role("region", name="Mappings")
    section.get_by_label("A built-in sample").check()
    section.get_by_label("Sample method").select_option("track")
    expect(section.get_by_test_id("preview-request")).to_contain_text("Bought")
    screenshot(page, "destination-mappings")

    time.sleep(1.5)  # the router follows configuration changes within a second
    send_track(app_server, key, {"userId": "m1", "event": "Order Completed", "properties": {"sku": "SKU-2"}})
    wait_for(lambda: len(hook.bodies) == 2, what="the delivery with the edited mapping")
    assert hook.bodies[1]["event"] == "Bought SKU-2"


def test_a_bad_trigger_is_shown_beside_its_field_and_mappings_can_be_ordered_switched_and_deleted(page, hook):
    instance_id = webhook_for(page, "Mapping Rules Source", hook.url)
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("link", name="Add mapping").click()
    page.get_by_label("Name").fill("Checkout")
    page.get_by_label("Trigger (FQL)").fill("event = ")
    page.get_by_role("button", name="Save mapping").click()
    error = page.locator("#m-trigger-error")
    expect(error).to_contain_text("invalid FQL at position 9")
    assert page.get_by_label("Trigger (FQL)").get_attribute("aria-invalid") == "true"
    expect(page.get_by_test_id("preview-error")).to_contain_text("invalid FQL")
    screenshot(page, "mapping-error")

    page.get_by_label("Trigger (FQL)").fill('type = "track" and event = "A" and userId != null')
    page.get_by_role("button", name="Save mapping").click()
    expect(page.locator("#m-trigger-error")).to_contain_text("free plan allows 2 conditions")
    page.get_by_label("Trigger (FQL)").fill('event = "Checkout"')
    page.get_by_label("Fields (mapping-kit JSON)").fill('{"event": ')
    page.get_by_role("button", name="Save mapping").click()
    expect(page.locator("#m-fields-error")).to_contain_text("not valid JSON")
    page.get_by_label("Fields (mapping-kit JSON)").fill('{"event": {"@nope": 1}}')
    page.get_by_role("button", name="Save mapping").click()
    expect(page.locator("#m-fields-error")).to_contain_text("@nope")
    page.get_by_label("Fields (mapping-kit JSON)").fill("{}")
    page.get_by_role("button", name="Save mapping").click()
    page.get_by_text("Mapping 'Checkout' saved.").wait_for()

    names = lambda: page.get_by_test_id("mappings").locator("tbody tr td[data-label=Name] a").all_inner_texts()  # noqa: E731
    assert names()[-1] == "Checkout"
    page.get_by_role("button", name="Move Checkout up").click()
    page.get_by_text("Mapping 'Checkout' moved up.").wait_for()
    assert names()[-2:] == ["Checkout", "Alias Calls"]
    assert page.get_by_role("button", name="Move Track Calls up").is_disabled()
    switch = page.get_by_role("button", name="Mapping Checkout enabled")
    switch.focus()
    page.keyboard.press("Enter")  # the keyboard reaches every control
    page.get_by_text("Mapping 'Checkout' is disabled.").wait_for()
    expect(page.get_by_role("button", name="Mapping Checkout enabled")).to_have_attribute("aria-pressed", "false")
    page.get_by_role("button", name="Delete Checkout").click()
    page.get_by_text("Mapping 'Checkout' was deleted.").wait_for()
    assert "Checkout" not in names()
    for name in list(names()):
        page.get_by_role("button", name=f"Delete {name}").click()
        page.get_by_text(f"Mapping '{name}' was deleted.").wait_for()
    page.get_by_role("button", name="Add the default mappings").click()
    page.get_by_text("The default mappings were added.").wait_for()
    assert names()[0] == "Track Calls" and len(names()) == 6
