"""Connection settings: inline validation errors, secrets masked, required before enabling,
Test connection showing the destination's response."""

from __future__ import annotations

import re

from tests.app.conftest import add_source

SECRET = "hook-shared-secret-0042"


def new_webhook(page, source_name: str) -> None:
    add_source(page, source_name)
    page.get_by_role("link", name="Add destination").click()
    page.locator(".tile a[href^='/catalog/webhook']").click()
    page.get_by_role("link", name="Configure Webhooks").click()
    page.get_by_role("button", name="Confirm source").click()
    page.wait_for_url(re.compile(r"/destinations/dst_\w+"))


def test_invalid_settings_are_shown_beside_their_fields(page):
    new_webhook(page, "Settings Errors Source")
    page.get_by_label("Webhook URL").fill("not a url")
    page.get_by_label("Headers").fill("[1, 2]")
    page.get_by_role("button", name="Save settings").click()
    url_error = page.locator("#f-url-error")
    assert "absolute http:// or https:// URL" in url_error.inner_text()
    assert page.get_by_label("Webhook URL").input_value() == "not a url", "what was typed is kept"
    assert page.get_by_label("Webhook URL").get_attribute("aria-describedby").endswith("f-url-error")
    page.get_by_label("Headers").fill("")
    page.get_by_label("Webhook URL").fill("")
    page.get_by_role("button", name="Save settings").click()
    page.get_by_text("Settings saved.").wait_for()
    page.get_by_role("switch").click()
    assert page.get_by_role("alert").filter(has_text="Fill in the required settings").is_visible()
    assert page.get_by_role("switch").get_attribute("aria-checked") == "false"


def test_secrets_are_password_inputs_and_shown_only_masked(page, hook):
    new_webhook(page, "Settings Secret Source")
    secret = page.get_by_label("Shared Secret")
    assert secret.get_attribute("type") == "password"
    page.get_by_label("Webhook URL").fill(hook.url)
    secret.fill(SECRET)
    page.get_by_role("button", name="Save settings").click()
    page.get_by_text("Settings saved.").wait_for()
    assert SECRET not in page.content()
    assert page.get_by_label("Shared Secret").input_value() == ""
    assert page.get_by_test_id("mask-sharedSecret").inner_text() == "Saved: ••••42"
    page.get_by_role("button", name="Save settings").click()  # left empty: the secret is kept
    page.get_by_text("Settings saved.").wait_for()
    assert page.get_by_test_id("mask-sharedSecret").inner_text() == "Saved: ••••42"
    page.get_by_role("button", name="Test connection").click()
    outcome = page.get_by_test_id("test-outcome")
    outcome.wait_for()
    assert "Delivered" in outcome.inner_text()
    assert "HTTP 200" in page.get_by_test_id("test-response").inner_text()
    assert SECRET not in page.content(), "the test report masks secrets too"
    assert hook.bodies and hook.bodies[-1]["event"] == "Segue Test Event"
