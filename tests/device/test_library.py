"""Segue's own browser library (segue/web/browser/analytics.js) in Chromium, against a live Segue:
the snippet, the calls field by field, identity, campaigns, plugins, and the same messages as
Segment's analytics-next. Delivery (batches, retries, the offline queue, beacons) is in
test_library_delivery.py; the shared relay and helpers in library_support.py.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.device.conftest import js_source, wait_for
from tests.device.library_support import (
    ISO_TIME, PAGES, UUID, assert_browser_fields, by_type, counter, load_script, publish, settings_for, stored,
)


# ----------------------------------------------------------------------------------- tests

def test_snippet_stub_is_taken_over_and_its_queued_calls_replayed(device_server, site, tab, relay, source):
    queued = """
      window.seen = [];
      analytics.on("track", function (name, properties) { window.seen.push([name, properties]); });
      analytics.ready(function () { window.readyCalled = true; });
      analytics.identify("user-1", {plan: "pro"});
      analytics.track("Signed Up", {via: "snippet"});
      analytics.page("Home");
    """
    url = publish(site, "snippet.html", settings_for(source["write_key"], relay), queued,
                  key=source["write_key"], load_options={})
    tab.goto(url)
    events = stored(device_server, source, 3, relay)

    # One request per call, sent side by side as analytics.js does: Segue may store them in any
    # order; the replay order shows in the track call carrying the userId identify set first.
    kinds = by_type(events)
    assert sorted(kinds) == ["identify", "page", "track"]
    identify, track, page = kinds["identify"], kinds["track"], kinds["page"]
    assert identify["userId"] == "user-1" and identify["traits"] == {"plan": "pro"}
    assert track["event"] == "Signed Up" and track["properties"] == {"via": "snippet"}
    assert track["userId"] == "user-1" and track["anonymousId"] == identify["anonymousId"]
    assert page["name"] == "Home" and page["properties"]["name"] == "Home"
    assert page["context"]["page"] == {"path": "/index.html", "referrer": "", "search": "",
                                       "title": "Snippet test page", "url": url}
    for event in events:
        assert_browser_fields(event, tab)
    assert tab.evaluate("window.seen") == [["Signed Up", {"via": "snippet"}]]
    wait_for(lambda: tab.evaluate("window.readyCalled === true"), what="the ready callback")
    assert tab.evaluate("window.analytics.initialized && !Array.isArray(window.analytics)")


def test_the_snippet_cdn_and_load_options_are_honoured(device_server, site, tab, relay, source):
    """Settings fetched from the snippet's `analytics._cdn`; its load options override their apiHost."""
    options = {"integrations": {"Segment.io": {"apiHost": relay.api_host, "protocol": "http"}}}
    script = f"analytics._cdn = {json.dumps(device_server.url)}; analytics.track('Via CDN');"
    tab.goto(publish(site, "snippet.html", {}, script, key=source["write_key"], load_options=options))
    [event] = stored(device_server, source, 1, relay)
    assert event["event"] == "Via CDN"
    assert event["integrations"] == {"Segment.io": True}  # load options' integrations, as booleans
    assert [request["path"] for request in relay.posts()] == ["/v1/t"]


def test_each_call_arrives_field_by_field(device_server, site, tab, relay, source):
    calls = """
      analytics.page("Docs", "Install", {section: "browser"}, {context: {ip: "203.0.113.9"}});
      analytics.track("Order Completed", {revenue: 12.5, products: [{sku: "a-1"}]},
                      {integrations: {"Mixpanel": false}, messageId: "ajs-next-1700000000000-fixed"});
      analytics.identify("u-42", {email: "ada@example.com"});
      analytics.group("g-7", {name: "Initech"});
      analytics.alias("u-43", "u-42");
    """
    tab.goto(publish(site, "library.html", settings_for(source["write_key"], relay),
                     load_script(source["write_key"], calls)))
    events = by_type(stored(device_server, source, 5, relay))

    page = events["page"]
    assert (page["name"], page["category"]) == ("Install", "Docs")
    assert page["properties"]["section"] == "browser" and page["properties"]["category"] == "Docs"
    assert page["properties"]["title"] == "Library test page" and page["properties"]["path"] == "/index.html"
    assert page["context"]["ip"] == "203.0.113.9"
    track = events["track"]
    assert track["event"] == "Order Completed"
    assert track["properties"] == {"revenue": 12.5, "products": [{"sku": "a-1"}]}
    assert track["integrations"] == {"Mixpanel": False}
    assert track["messageId"] == "ajs-next-1700000000000-fixed"
    assert "userId" not in track  # identify came later
    assert events["identify"]["userId"] == "u-42" and events["identify"]["traits"] == {"email": "ada@example.com"}
    assert events["group"]["groupId"] == "g-7" and events["group"]["traits"] == {"name": "Initech"}
    assert events["group"]["userId"] == "u-42"
    assert (events["alias"]["userId"], events["alias"]["previousId"]) == ("u-43", "u-42")
    for event in events.values():
        assert_browser_fields(event, tab)
        assert event["context"]["page"]["url"].endswith("/index.html")

    posts = relay.posts()
    assert sorted(request["path"] for request in posts) == ["/v1/a", "/v1/g", "/v1/i", "/v1/p", "/v1/t"]
    for request in posts:
        assert request["headers"]["content-type"].startswith("text/plain")
        assert request["body"]["writeKey"] == source["write_key"]
        assert ISO_TIME.match(request["body"]["sentAt"])
    assert not [request for request in relay.requests if request["method"] == "OPTIONS"], "no CORS preflight"


def test_identity_is_kept_across_reloads_and_forgotten_on_reset(device_server, site, tab, relay, source):
    url = publish(site, "library.html", settings_for(source["write_key"], relay), load_script(source["write_key"]))
    tab.goto(url)
    tab.evaluate("analytics.identify('u-1', {plan: 'pro'}).then(() => analytics.group('g-1', {seats: 3}))")
    wait_for(lambda: len(relay.accepted()) >= 2, what="identify and group")
    cookies = {cookie["name"]: cookie for cookie in tab.context.cookies()}
    anonymous_id = cookies["ajs_anonymous_id"]["value"]
    assert UUID.match(anonymous_id)
    assert cookies["ajs_user_id"]["value"] == "u-1" and cookies["ajs_group_id"]["value"] == "g-1"
    assert cookies["ajs_user_id"]["sameSite"] == "Lax" and cookies["ajs_user_id"]["path"] == "/"
    assert cookies["ajs_user_id"]["expires"] > time.time() + 360 * 86400  # a year
    storage = tab.evaluate("Object.fromEntries(Object.entries(localStorage))")
    assert json.loads(storage["ajs_anonymous_id"]) == anonymous_id and json.loads(storage["ajs_user_id"]) == "u-1"
    assert json.loads(storage["ajs_user_traits"]) == {"plan": "pro"}
    assert json.loads(storage["ajs_group_properties"]) == {"seats": 3}

    tab.reload()
    user = tab.evaluate("(() => { const u = analytics.user(); return [u.id(), u.anonymousId(), u.traits()]; })()")
    assert user == ["u-1", anonymous_id, {"plan": "pro"}]
    tab.evaluate("analytics.track('After Reload')")
    tab.evaluate("analytics.reset()")
    assert not {"ajs_anonymous_id", "ajs_user_id", "ajs_group_id"} & {c["name"] for c in tab.context.cookies()}
    tab.evaluate("analytics.track('After Reset')")
    events = {event.get("event"): event for event in stored(device_server, source, 4, relay)}
    assert (events["After Reload"]["userId"], events["After Reload"]["anonymousId"]) == ("u-1", anonymous_id)
    assert "userId" not in events["After Reset"]
    assert UUID.match(events["After Reset"]["anonymousId"]) and events["After Reset"]["anonymousId"] != anonymous_id


def test_utm_parameters_become_the_campaign(device_server, site, tab, relay, source):
    url = publish(site, "library.html", settings_for(source["write_key"], relay),
                  load_script(source["write_key"], "analytics.page();"))
    query = "?utm_source=newsletter&utm_medium=email&utm_campaign=spring+sale&utm_term=shoes&utm_content=banner%201"
    tab.goto(url + query + "#top")
    [page] = stored(device_server, source, 1, relay)
    assert page["context"]["campaign"] == {"source": "newsletter", "medium": "email", "name": "spring sale",
                                           "term": "shoes", "content": "banner 1"}
    assert page["context"]["page"]["search"] == query
    assert page["context"]["page"]["url"] == url + query  # without the #hash


def remote_plugins(site) -> list[dict]:
    return [
        {"name": "Recorder", "creationName": "Recorder", "libraryName": "segueTestRecorder",
         "url": f"{site.url}/not-needed.js", "settings": {"siteId": "rec-1"}},
        {"name": "Thrower", "creationName": "Thrower", "libraryName": "segueTestThrower",
         "url": f"{site.url}/not-needed.js", "settings": {}},
        {"name": "Remote", "creationName": "Remote", "libraryName": "segueTestRemote",
         "url": f"{site.url}/remote-plugin.js", "settings": {"appId": "rem-9"}},
    ]


def plugin_calls(tab, plugin: str) -> list:
    return [[method, what] for name, method, what in tab.evaluate("window.pluginCalls") if name == plugin]


def test_remote_plugins_get_every_call_and_a_failing_one_harms_nothing(device_server, site, tab, relay, source):
    calls = """analytics.page('Home'); analytics.track('Clicked', {button: 'buy'});
               analytics.identify('u-5', {name: 'Ada'}); analytics.group('g-5'); analytics.alias('u-6');"""
    settings = settings_for(source["write_key"], relay, remote_plugins(site))
    tab.goto(publish(site, "library.html", settings, load_script(source["write_key"], calls)))
    events = by_type(stored(device_server, source, 5, relay))  # sent side by side: any order
    assert set(events) == {"page", "track", "identify", "group", "alias"}

    wait_for(lambda: len(plugin_calls(tab, "Remote")) == 6, what="the remote plugin's calls")
    for plugin, settings_seen in (("Recorder", {"siteId": "rec-1"}), ("Remote", {"appId": "rem-9"})):
        calls_seen = plugin_calls(tab, plugin)
        assert calls_seen[0] == ["load", {"settings": settings_seen, "hasTrack": True}]
        assert [method for method, _ in calls_seen[1:]] == ["page", "track", "identify", "group", "alias"]
        for method, seen in calls_seen[1:]:
            event = events[method]
            assert seen["messageId"] == event["messageId"] and seen["anonymousId"] == event["anonymousId"]
            assert seen["context"]["page"] == event["context"]["page"]
        assert calls_seen[2][1]["event"] == "Clicked" and calls_seen[2][1]["properties"] == {"button": "buy"}
        assert calls_seen[3][1]["userId"] == "u-5" and calls_seen[3][1]["traits"] == {"name": "Ada"}
    assert tab.evaluate("document.querySelectorAll('script[src$=\"remote-plugin.js\"]').length") == 1


def test_the_integrations_option_picks_the_plugins(device_server, site, tab, relay, source):
    calls = """
      analytics.track('Only Recorder', {}, {integrations: {All: false, Recorder: true}});
      analytics.track('Not Recorder', {}, {integrations: {Recorder: false}});
      analytics.track('Not Segue', {}, {integrations: {'Segment.io': false}});
      analytics.track('Everyone');
    """
    settings = settings_for(source["write_key"], relay, remote_plugins(site))
    tab.goto(publish(site, "library.html", settings,
                     load_script(source["write_key"], calls, {"integrations": {"Thrower": False}})))
    events = {event["event"]: event for event in stored(device_server, source, 3, relay)}
    wait_for(lambda: len(plugin_calls(tab, "Remote")) == 4, what="the remote plugin's calls")

    def tracked(plugin):
        return [what["event"] for method, what in plugin_calls(tab, plugin) if method == "track"]

    assert tracked("Recorder") == ["Only Recorder", "Not Segue", "Everyone"]
    assert tracked("Remote") == ["Not Recorder", "Not Segue", "Everyone"]
    assert set(events) == {"Only Recorder", "Not Recorder", "Everyone"}
    assert events["Only Recorder"]["integrations"] == {"Thrower": False, "All": False, "Recorder": True}
    assert events["Everyone"]["integrations"] == {"Thrower": False}


def test_without_inline_settings_they_are_fetched_from_segue(device_server, site, tab, source):
    script = load_script(source["write_key"], "analytics.track('Fetched Settings');", {"cdnURL": device_server.url})
    tab.goto(publish(site, "library.html", {"integrations": {}}, script))
    wait_for(lambda: [e for e in device_server.events(source["id"]) if e.get("event") == "Fetched Settings"],
             what="the track call in Segue")
    [event] = device_server.events(source["id"])
    assert event["context"]["library"]["name"] == "analytics.js"


# ------------------------------------------------------- side by side with Segment's library

NEXT_BUILD = Path(__file__).parent / "node" / "node_modules" / "@segment" / "analytics-next" / "dist" / "umd"
SAME_CALLS = """async ({writeKey, cdnURL, next}) => {
  let analytics = window.analytics;
  if (next) [analytics] = await AnalyticsNext.AnalyticsBrowser.load({writeKey, cdnURL});
  else await analytics.load(writeKey, {cdnURL}).ready();
  const user = analytics.user();
  const before = {id: user.id(), anonymousId: user.anonymousId(), traits: user.traits()};
  await analytics.identify("u-1", {plan: "pro"});
  await analytics.page("Docs", "Install", {section: "a"});
  await analytics.track("Clicked", {button: "buy"}, {context: {ip: "203.0.113.9"}, integrations: {Intercom: false}});
  await analytics.group("g-1", {seats: 3});
  await analytics.alias("u-2", "u-1");
  return before;
}"""
DIFFERENT_BY_NATURE = {"messageId", "timestamp", "originalTimestamp", "sentAt", "receivedAt"}


def send_same_calls(server, site, tab, page: str, next_: bool) -> tuple[dict, dict]:
    """Run SAME_CALLS on the page at one URL; (the user before the calls, stored events by type)."""
    source = js_source(server, f"side-by-side-{next(counter)}")
    url = site.write("index.html", (PAGES / page).read_text().replace("{{SETTINGS}}", "{}").replace("{{SCRIPT}}", ""))
    tab.goto(url + "?utm_source=newsletter&utm_campaign=launch")
    before = tab.evaluate(SAME_CALLS, {"writeKey": source["write_key"], "cdnURL": server.url, "next": next_})
    wait_for(lambda: len(server.events(source["id"])) >= 5, what="five events in Segue")
    return before, by_type(server.events(source["id"]))


@pytest.mark.skipif(not (NEXT_BUILD / "index.js").exists(), reason="@segment/analytics-next is not installed: "
                    "run `make node-deps`")
def test_same_messages_and_shared_identity_with_analytics_next(device_server, site, tab):
    """The same calls through Segment's analytics-next, then Segue's library on the same site:
    Segue stores messages with the same fields and values, and the visitor keeps their ids."""
    for built in NEXT_BUILD.iterdir():
        (site.root / built.name).symlink_to(built)
    publish(site, "library.html", {})  # the library and test plugins beside it
    _, by_next = send_same_calls(device_server, site, tab, "next.html", next_=True)
    before, by_segue = send_same_calls(device_server, site, tab, "library.html", next_=False)

    assert before == {"id": "u-1", "anonymousId": by_next["page"]["anonymousId"], "traits": {"plan": "pro"}}
    for kind, theirs in by_next.items():
        ours = by_segue[kind]
        assert set(ours) - DIFFERENT_BY_NATURE == set(theirs) - DIFFERENT_BY_NATURE - {"_metadata"}, kind
        for field in set(theirs) - DIFFERENT_BY_NATURE - {"context", "_metadata"}:
            if (kind, field) == ("alias", "userId"):  # analytics-next puts the *current* user id
                assert (ours[field], theirs[field]) == ("u-2", "u-1")  # there; Segue the new one
                continue
            assert ours[field] == theirs[field], (kind, field)
        assert set(ours["context"]) == set(theirs["context"]), kind
        for field in set(theirs["context"]) - {"library"}:
            assert ours["context"][field] == theirs["context"][field], (kind, field)
        assert ours["context"]["library"]["name"] == theirs["context"]["library"]["name"] == "analytics.js"
