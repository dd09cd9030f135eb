"""The Connections home's lines and live counts, and a destination's delivery chart."""

from __future__ import annotations

from tests.app import test_delivery as delivery
from tests.app.conftest import screenshot, send_track, wait_for, write_key


def test_lines_and_live_counts_on_the_connections_home(page, app_server, hook):
    instance_id = delivery.webhook_for(page, "Lines Source", hook.url)
    page.goto("/sources")
    page.get_by_role("link", name="Lines Source").click()
    source_id, key = page.url.rsplit("/", 1)[1], write_key(page)
    page.goto("/")
    line = page.locator(f"svg[data-testid=connection-lines] path[data-source='{source_id}'][data-target='{instance_id}']")
    assert line.count() == 1 and "off" not in line.get_attribute("class")
    node = page.locator(".source-node", has_text="Lines Source")
    text = node.get_by_test_id("connection-text").text_content()
    assert "Lines Source sends events to" in " ".join(text.split()) and "Webhooks" in text
    counts = node.get_by_test_id("live-counts")
    assert counts.get_by_test_id("count-hour").inner_text() == "0"
    assert send_track(app_server, key, {"userId": "c1", "event": "Counted Event"}) == 200
    # no reload: the htmx poll (every 5 s) brings the new count
    counts.get_by_test_id("count-hour").filter(has_text="1").wait_for(timeout=15_000)
    assert node.get_by_test_id("count-day").inner_text() == "1"
    wait_for(lambda: len(hook.bodies) == 1, what="the delivery")
    screenshot(page, "connections-lines")


def test_the_delivery_chart_shows_bars_after_deliveries(page, app_server, hook):
    instance_id = delivery.webhook_for(page, "Chart Source", hook.url)
    page.goto(f"/destinations/{instance_id}")
    chart = page.get_by_role("region", name="Event delivery").locator("figure.chart")
    assert chart.get_by_test_id("chart-empty").is_visible() and chart.locator("rect.bar").count() == 0
    page.goto("/sources")
    page.get_by_role("link", name="Chart Source").click()
    key = write_key(page)
    for n in range(3):
        send_track(app_server, key, {"userId": f"chart{n}", "event": "Charted Event"})
    wait_for(lambda: len(hook.bodies) == 3, what="three deliveries")
    hook.status = 400  # a permanent refusal: one failure
    send_track(app_server, key, {"userId": "chart-bad", "event": "Refused Event"})
    wait_for(lambda: len(hook.bodies) == 4, what="the refused delivery")
    page.goto(f"/destinations/{instance_id}")
    delivered = chart.locator("rect.bar-delivered")
    wait_for(lambda: page.reload() or (delivered.count() == 1 and chart.locator("rect.bar-failed").count() == 1),
             what="the delivered and failed bars")  # (one bar each unless the hour turned mid-test: rare)
    assert float(delivered.get_attribute("height")) > float(chart.locator("rect.bar-failed").get_attribute("height")) > 0
    assert delivered.locator("title").text_content().endswith("3 delivered")
    chart.get_by_text("Show as a table").click()
    rows = [[int(cell) for cell in row.locator("td").all_inner_texts()] for row in chart.locator("tbody tr").all()]
    assert len(rows) == 24 and [sum(column) for column in zip(*rows)] == [3, 0, 1]
    screenshot(page, "destination-chart")
