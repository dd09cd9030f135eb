"""Segment's own browser library, @segment/analytics-next from npm, pointed at Segue with `cdnURL`.

The test page (on another origin than Segue) loads the package's UMD build (`dist/umd/index.js`
defines the global `AnalyticsNext`; its lazy chunks sit beside it, loaded relative to the page),
calls `AnalyticsBrowser.load({writeKey, cdnURL})`, then page, track and identify. Each call must
arrive in Segue's event log field by field, with the default delivery strategy (one request per
call to /v1/p, /v1/t, /v1/i) and with batching (one request to /v1/b). The recorder destination,
enabled in device mode, is a `remotePlugins` entry: analytics-next loads it from Segue too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.device.conftest import RECORDER, add_device_destination, js_source, wait_for

PACKAGE = Path(__file__).parent / "node" / "node_modules" / "@segment" / "analytics-next"
UMD = PACKAGE / "dist" / "umd"
VERSION = json.loads((PACKAGE / "package.json").read_text())["version"] if PACKAGE.exists() else ""
PAGE = """<!doctype html>
<html><head><title>Analytics Next Shop</title><script src="index.js"></script></head>
<body><h1>Shop</h1></body></html>
"""
SEND_CALLS = """async ({writeKey, cdnURL, strategy}) => {
  const options = strategy ? {integrations: {"Segment.io": {deliveryStrategy: strategy}}} : {};
  const [analytics] = await AnalyticsNext.AnalyticsBrowser.load({writeKey, cdnURL}, options);
  await Promise.all([
    analytics.page("Docs", "Install", {plan: "pro"}),
    analytics.track("Order Completed", {order_id: "o-17", revenue: 42.5, products: [{sku: "s-1", quantity: 2}]}),
    analytics.identify("user-42", {email: "ada@example.com", plan: "pro"}),
  ]);
  return {anonymousId: analytics.user().anonymousId(), userAgent: navigator.userAgent,
          recorded: window.deviceRecorderCalls || []};
}"""
BATCHING = {"strategy": "batching", "config": {"size": 3, "timeout": 60_000}}

pytestmark = pytest.mark.skipif(not (UMD / "index.js").exists(),
                                reason="@segment/analytics-next is not installed: run `make node-deps`")


@pytest.fixture
def shop_page(site):
    """The site serving analytics-next's UMD build and the test page; the page's URL (with UTM fields)."""
    for built in UMD.iterdir():
        (site.root / built.name).symlink_to(built)
    return site.write("index.html", PAGE) + "?utm_source=newsletter&utm_medium=email&utm_campaign=launch"


def run_calls(tab, server, page_url: str, strategy: dict | None, name: str) -> tuple[dict, dict, list[str]]:
    """Load analytics-next on the page and send the calls from a new source named `name`;
    (what the page saw, events by type, API paths hit)."""
    source = js_source(server, name)
    add_device_destination(server, source["id"], RECORDER, {"siteId": "next-site"})
    posts: list[str] = []
    tab.on("request", lambda request: request.method == "POST" and posts.append(request.url))
    tab.goto(page_url)
    seen = tab.evaluate(SEND_CALLS, {"writeKey": source["write_key"], "cdnURL": server.url, "strategy": strategy})
    wait_for(lambda: len(server.events(source["id"])) >= 3, what="three events in Segue")
    events = {event["type"]: event for event in server.events(source["id"])}
    return seen, events, [url.removeprefix(server.url) for url in posts if url.startswith(server.url)]


@pytest.mark.parametrize("strategy", [None, BATCHING], ids=["default", "batching"])
def test_calls_arrive_field_by_field(device_server, tab, shop_page, strategy):
    seen, events, paths = run_calls(tab, device_server, shop_page, strategy, f"Next Shop {strategy is None}")
    assert sorted(paths) == (["/v1/b"] if strategy else ["/v1/i", "/v1/p", "/v1/t"])
    assert sorted(events) == ["identify", "page", "track"]
    for event in events.values():
        assert_common_fields(event, seen, shop_page)
    assert_page(events["page"])
    assert_track(events["track"])
    assert_identify(events["identify"])


def test_remote_plugin_gets_the_calls(device_server, tab, shop_page):
    """The device-mode destination, as a remote plugin, runs in analytics-next with its settings."""
    seen, _, _ = run_calls(tab, device_server, shop_page, None, "Next Shop Plugins")
    by_type = {call["type"]: call for call in seen["recorded"]}
    assert sorted(by_type) == ["identify", "page", "track"]
    assert by_type["track"]["event"] == "Order Completed" and by_type["track"]["siteId"] == "next-site"
    assert by_type["identify"]["userId"] == "user-42" and by_type["identify"]["traits"]["plan"] == "pro"


def assert_common_fields(event: dict, seen: dict, page_url: str) -> None:
    assert event["anonymousId"] == seen["anonymousId"]
    assert event["messageId"].startswith("ajs-next-")
    assert event["context"]["library"] == {"name": "analytics.js", "version": f"next-{VERSION}"}  # the UMD build; npm bundles say npm:next-
    assert event["context"]["userAgent"] == seen["userAgent"]
    assert event["context"]["locale"]
    assert event["context"]["page"]["url"] == page_url
    assert event["context"]["page"]["path"] == "/index.html"
    assert event["context"]["page"]["title"] == "Analytics Next Shop"
    assert event["context"]["campaign"] == {"source": "newsletter", "medium": "email", "name": "launch"}
    for moment in ("timestamp", "sentAt", "receivedAt"):
        assert event[moment], moment


def assert_page(event: dict) -> None:
    assert (event["category"], event["name"]) == ("Docs", "Install")
    properties = event["properties"]
    assert properties["plan"] == "pro" and properties["title"] == "Analytics Next Shop"
    assert (properties["category"], properties["name"], properties["path"]) == ("Docs", "Install", "/index.html")


def assert_track(event: dict) -> None:
    assert event["event"] == "Order Completed"
    assert event["properties"] == {"order_id": "o-17", "revenue": 42.5, "products": [{"sku": "s-1", "quantity": 2}]}


def assert_identify(event: dict) -> None:
    assert event["userId"] == "user-42"
    assert event["traits"] == {"email": "ada@example.com", "plan": "pro"}
