"""Login: every page needs it; CSRF tokens guard every form post; the layout and Connections home."""

from __future__ import annotations

import re

from tests.app.conftest import PASSWORD, WIDE, log_in, screenshot


def test_every_page_needs_a_login_and_returns_there_after(browser, app_server):
    context = browser.new_context(viewport=WIDE, base_url=app_server.url)
    tab = context.new_page()
    for path in ("/", "/sources", "/catalog", "/destinations", "/warehouses", "/settings"):
        tab.goto(path)
        assert "/login" in tab.url, path
    tab.goto("/catalog?category=Analytics")
    screenshot(tab, "login")
    tab.get_by_label("User name").fill("admin")
    tab.get_by_label("Password").fill("not-the-password")
    tab.get_by_role("button", name="Log in").click()
    assert tab.get_by_role("alert").inner_text() == "Wrong user name or password."
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    tab.wait_for_url(re.compile(r"/catalog\?category=Analytics$"))
    tab.get_by_role("button", name="Log out").click()
    tab.wait_for_url("**/login")
    tab.goto("/settings")
    assert "/login" in tab.url
    context.close()


def test_a_form_post_without_the_session_csrf_token_is_refused(browser, app_server):
    context = browser.new_context(base_url=app_server.url)
    tab = context.new_page()
    log_in(tab)
    refused = context.request.post("/sources", form={"name": "Forged", "type": "python"})
    assert refused.status == 403
    wrong = context.request.post("/sources", form={"name": "Forged", "type": "python", "csrf": "guess"})
    assert wrong.status == 403
    tab.goto("/sources")
    assert "Forged" not in tab.content()
    context.close()


def test_connections_home_has_the_layout_and_recommends_first_destinations(page):
    page.goto("/")
    nav = page.get_by_role("navigation", name="Main")
    for label in ("Connections", "Sources", "Destinations", "Catalog", "Warehouses", "Settings"):
        assert nav.get_by_role("link", name=label).is_visible()
    for action in ("Add source", "Add destination", "Add warehouse"):
        assert page.get_by_role("link", name=action).first.is_visible()
    panel = page.get_by_role("region", name="Recommended destinations")
    text = panel.inner_text()
    for category in ("Analytics:", "Email marketing:", "Live chat:"):
        assert category in text
    screenshot(page, "connections")


def test_the_keyboard_reaches_the_navigation_and_the_skip_link(page):
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Connections"
