"""Warehouses: the connect form and the plan rule for a second one; Settings: plan, users, tokens, audit."""

from __future__ import annotations

from tests.app.conftest import screenshot


def connect_duckdb(page, name: str) -> None:
    page.goto("/warehouses/new?engine=duckdb")
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Connect DuckDB").click()


def test_a_second_warehouse_on_the_free_plan_says_why_and_which_plan_allows_it(page):
    page.goto("/warehouses")
    if page.locator("tbody tr").count() == 0:
        connect_duckdb(page, "First warehouse")
        page.get_by_text("Warehouse First warehouse connected").wait_for()
    screenshot(page, "warehouses")
    page.goto("/warehouses/new?engine=duckdb")
    rule = page.get_by_test_id("plan-rule")
    assert "the business plan allows as many as needed" in rule.inner_text()
    assert "free plan allows 1 warehouse" in rule.inner_text().lower()
    page.get_by_label("Name").fill("Second warehouse")
    page.get_by_role("button", name="Connect DuckDB").click()
    refusal = page.get_by_test_id("form-error")
    assert "the business plan allows as many as needed" in refusal.inner_text()
    page.goto("/warehouses")
    assert "Second warehouse" not in page.locator("table").inner_text()
    screenshot(page, "warehouse-connect")


def test_warehouse_settings_errors_and_service_user_sql(page):
    page.goto("/warehouses/new?engine=postgres")
    assert "CREATE USER segue" in page.locator("pre.code").inner_text()
    assert page.get_by_label("Password").get_attribute("type") == "password"
    page.get_by_label("Port").fill("99999")
    page.get_by_role("button", name="Connect PostgreSQL").click()
    assert page.locator("#f-host-error").inner_text() == "This field is required."
    assert "less than or equal to 65535" in page.locator("#f-port-error").inner_text()


def test_settings_show_plan_users_tokens_and_the_audit_trail(page):
    page.goto("/settings")
    assert page.get_by_test_id("plan").inner_text() == "free"
    page.get_by_label("Token name").fill("ci-token")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_label("New token").input_value()
    assert len(token) > 20
    page.goto("/settings")
    assert token not in page.content(), "a token is shown once"
    assert page.locator("td", has_text="ci-token").is_visible()
    page.get_by_label("User name").fill("casey")
    page.get_by_label("Password", exact=True).fill("a-long-enough-password")
    page.get_by_role("button", name="Add user").click()
    page.get_by_text("User casey added.").wait_for()
    audit = page.get_by_role("region", name="Audit trail").inner_text()
    assert "token.created" in audit and "user:admin" in audit
    screenshot(page, "settings")
