"""Segue's own bundle, loaded by the standard Segment snippet with only its host changed.

The page (on another origin than Segue) has the snippet's queue stub, `analytics.load(key)` and
page, track and identify calls queued before the bundle arrives. The calls must reach Segue field
by field; Hotjar, enabled in device mode, must get them mapped to its browser API (the page
pre-defines `hj` as a recorder: Hotjar's own script is out of reach offline); disabling Hotjar in
the app must take it out of the next bundle.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.device.conftest import add_device_destination, js_source, log_in, wait_for

SNIPPET_PAGE = """<!doctype html>
<html><head><title>Bundle Shop</title>
<script>
  // Vendor globals as recorders: Hotjar's own script cannot load offline.
  window.hjCalls = [];
  window.hj = function () { window.hjCalls.push(Array.prototype.slice.call(arguments)); };
</script>
<script>
  // What Segment's standard snippet does, host changed to Segue's: a queue stub whose methods
  // record [method, ...args], and load(key) adding the bundle's script tag before the first one.
  (function () {
    var analytics = (window.analytics = window.analytics || []);
    if (analytics.initialize || analytics.invoked) return;
    analytics.invoked = true;
    analytics.methods = ["trackSubmit", "trackClick", "trackLink", "trackForm", "pageview", "identify", "reset",
      "group", "track", "ready", "alias", "debug", "page", "once", "off", "on", "addSourceMiddleware",
      "addIntegrationMiddleware", "setAnonymousId", "addDestinationMiddleware"];
    analytics.factory = function (method) {
      return function () {
        var args = Array.prototype.slice.call(arguments);
        args.unshift(method);
        analytics.push(args);
        return analytics;
      };
    };
    for (var i = 0; i < analytics.methods.length; i++) {
      analytics[analytics.methods[i]] = analytics.factory(analytics.methods[i]);
    }
    analytics.load = function (key, options) {
      var script = document.createElement("script");
      script.type = "text/javascript";
      script.async = true;
      script.src = "SEGUE_URL/analytics.js/v1/" + key + "/analytics.min.js";
      var first = document.getElementsByTagName("script")[0];
      first.parentNode.insertBefore(script, first);
      analytics._loadOptions = options;
    };
    analytics._writeKey = "WRITE_KEY";
    analytics.SNIPPET_VERSION = "4.15.3";
    analytics.load("WRITE_KEY");
    analytics.page("Docs", "Install", {plan: "pro"});
    analytics.track("Order Completed", {order_id: "o-17", revenue: 42.5});
    analytics.identify("user-42", {email: "ada@example.com", plan: "pro"});
  })();
</script>
</head><body><h1>Shop</h1></body></html>
"""
HOTJAR_SITE = "1234567"


@pytest.fixture(scope="module")
def shop(device_server):
    """A website source with Hotjar enabled in device mode; (source, instance)."""
    source = js_source(device_server, "Bundle Shop")
    instance = add_device_destination(device_server, source["id"], "hotjar", {"siteId": HOTJAR_SITE})
    return source, instance


def open_shop(browser, site, server, key: str, name: str = "index.html"):
    """A new browser (empty cache) on the snippet page; the tab, once the library has taken over."""
    url = site.write(name, SNIPPET_PAGE.replace("SEGUE_URL", server.url).replace("WRITE_KEY", key))
    context = browser.new_context()
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(url)
    tab.wait_for_function("() => window.analytics && !Array.isArray(window.analytics) && window.analytics.initialized")
    tab.errors = errors
    return tab


def stored(server, source_id: str, count: int) -> dict:
    wait_for(lambda: len(server.events(source_id)) >= count, what=f"{count} events in Segue")
    return {event["type"]: event for event in server.events(source_id)}


def test_snippet_calls_arrive_in_segue(browser, site, device_server, shop):
    source, _ = shop
    tab = open_shop(browser, site, device_server, source["write_key"])
    anonymous_id = tab.evaluate("() => window.analytics.user().anonymousId()")
    user_agent = tab.evaluate("() => navigator.userAgent")
    events = stored(device_server, source["id"], 3)
    assert sorted(events) == ["identify", "page", "track"]
    for event in events.values():
        assert event["anonymousId"] == anonymous_id and event["messageId"]
        assert event["context"]["library"]["name"] == "analytics.js"
        assert event["context"]["userAgent"] == user_agent
        assert event["context"]["page"]["title"] == "Bundle Shop"
        assert event["context"]["page"]["url"] == f"{site.url}/index.html"
        assert event["timestamp"] and event["sentAt"]
    assert (events["page"]["category"], events["page"]["name"], events["page"]["properties"]["plan"]) == ("Docs", "Install", "pro")
    assert events["track"]["event"] == "Order Completed"
    assert events["track"]["properties"] == {"order_id": "o-17", "revenue": 42.5}
    assert events["identify"]["userId"] == "user-42"
    assert events["identify"]["traits"] == {"email": "ada@example.com", "plan": "pro"}
    assert not tab.errors
    tab.context.close()


def test_device_destination_gets_mapped_calls(browser, site, device_server, shop):
    source, _ = shop
    tab = open_shop(browser, site, device_server, source["write_key"], "hotjar.html")
    tab.wait_for_function("() => window.hjCalls.length >= 2")
    calls = tab.evaluate("() => window.hjCalls")
    assert ["event", "Order Completed"] in calls
    assert ["identify", "user-42", {"email": "ada@example.com", "plan": "pro"}] in calls
    assert tab.evaluate("() => window._hjSettings") == {"hjid": int(HOTJAR_SITE), "hjsv": 6}
    assert not tab.errors
    tab.context.close()


def test_disabling_in_the_app_removes_it_from_the_next_bundle(browser, site, device_server):
    source = js_source(device_server, "Switch Shop")
    instance = add_device_destination(device_server, source["id"], "hotjar", {"siteId": HOTJAR_SITE})
    bundle_path = f"/analytics.js/v1/{source['write_key']}/analytics.min.js"
    _, before_headers, before = device_server.get(bundle_path)
    assert b"window.segueDevice_hotjar = function" in before

    switch_off_in_the_app(browser, device_server, instance["id"])

    status, after_headers, after = device_server.get(bundle_path, {"If-None-Match": before_headers["etag"]})
    assert status == 200 and after_headers["etag"] != before_headers["etag"]
    assert b"segueDevice_hotjar" not in after
    first_line = after.decode().split("\n", 1)[0]
    assert json.loads(first_line.removeprefix("window.segueSettings = ")[:-1])["remotePlugins"] == []
    tab = open_shop(browser, site, device_server, source["write_key"], "switched.html")
    stored(device_server, source["id"], 3)
    assert tab.evaluate("() => [typeof window.segueDevice_hotjar, window.hjCalls]") == ["undefined", []]
    tab.context.close()


def switch_off_in_the_app(browser, server, instance_id: str) -> None:
    context = browser.new_context(base_url=server.url)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    log_in(tab)
    tab.goto(f"/destinations/{instance_id}")
    switch = tab.get_by_role("switch", name=re.compile("Hotjar"))
    assert switch.get_attribute("aria-checked") == "true"
    switch.click()
    tab.get_by_text("Hotjar is disabled.").wait_for()
    context.close()
