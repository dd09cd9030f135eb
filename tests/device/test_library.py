"""Segue's own browser library (segue/web/browser/analytics.js) in Chromium, against a live Segue.

Test pages (tests/device/pages/) are served from `site` (another origin than Segue), with the
library file loaded as it is. The settings' apiHost points at `relay`, a local HTTP server that
forwards to Segue and records each request (and can answer 503 instead, to test retries).
Assertions read what Segue stored, field by field, from `segue events list --json`.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.device.conftest import js_source, wait_for

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "segue" / "web" / "browser" / "analytics.js"
PAGES = Path(__file__).parent / "pages"
MESSAGE_ID = re.compile(r"^ajs-next-\d{13}-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
NEVER = 600_000  # a batch timeout no test waits for


# ----------------------------------------------------------------------------- the relay

class _RelayHandler(BaseHTTPRequestHandler):
    def do_OPTIONS(self) -> None:  # noqa: N802 (http.server naming)
        self.server.record("OPTIONS", self.path, self.headers, None, 204)
        self._answer(204, b"")

    def do_POST(self) -> None:  # noqa: N802
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.server.failures_left > 0:
            self.server.failures_left -= 1
            status, body = self.server.failure_status, b'{"success":false}'
        else:
            status, body = self.server.forward(self.path, raw)
        self.server.record("POST", self.path, self.headers, json.loads(raw or b"null"), status)
        self._answer(status, body)

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class Relay(ThreadingHTTPServer):
    """Forwards POSTs to Segue and records them as dicts: method, path, headers, body, status.
    `fail(n, status)` makes it answer the next n POSTs itself with `status`."""

    def __init__(self, target: str) -> None:
        super().__init__(("127.0.0.1", 0), _RelayHandler)
        self.target = target
        self.requests: list[dict] = []
        self.failures_left, self.failure_status = 0, 503
        self.lock = threading.Lock()
        self.api_host = f"127.0.0.1:{self.server_address[1]}/v1"

    def fail(self, times: int, status: int = 503) -> None:
        self.failures_left, self.failure_status = times, status

    def record(self, method: str, path: str, headers, body, status: int) -> None:
        with self.lock:
            self.requests.append({"method": method, "path": path, "headers": {k.lower(): v for k, v in headers.items()},
                                  "body": body, "status": status})

    def forward(self, path: str, raw: bytes) -> tuple[int, bytes]:
        request = urllib.request.Request(self.target + path, data=raw, method="POST",
                                         headers={"Content-Type": "text/plain"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def posts(self) -> list[dict]:
        with self.lock:
            return [request for request in self.requests if request["method"] == "POST"]

    def accepted(self) -> list[dict]:
        """Every message Segue accepted through the relay, in the order of the requests."""
        messages = []
        for request in self.posts():
            if request["status"] == 200:
                body = request["body"]
                messages.extend(body["batch"] if "batch" in body else [body])
        return messages


@pytest.fixture
def relay(device_server):
    server = Relay(device_server.url)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


# ------------------------------------------------------------------------ pages and events

@pytest.fixture
def source(device_server):
    return js_source(device_server, f"website-{next(_counter)}")


_counter = iter(range(1_000_000))


def settings_for(key: str, relay: Relay, remote_plugins: list | None = None, **segment) -> dict:
    """CDN settings as Segue serves them, with apiHost pointing at the relay."""
    return {
        "integrations": {"Segment.io": {"apiKey": key, "apiHost": relay.api_host, "protocol": "http",
                                        "unbundledIntegrations": [], "addBundledMetadata": True,
                                        "maybeBundledConfigIds": {}, **segment}},
        "plan": {"track": {"__default": {"enabled": True, "integrations": {}}}},
        "remotePlugins": remote_plugins or [],
    }


def batching(size: int, timeout: int) -> dict:
    return {"deliveryStrategy": {"strategy": "batching", "config": {"size": size, "timeout": timeout}}}


def publish(site, page: str, settings: dict, script: str = "", name: str = "index.html", **fields) -> str:
    """Write test page `page` (with the library and test plugins) into the site; its URL."""
    for file in ("test-plugins.js", "remote-plugin.js"):
        site.write(file, (PAGES / file).read_text())
    site.write("analytics.js", LIBRARY.read_text())
    html = (PAGES / page).read_text().replace("{{SETTINGS}}", _inline(settings)).replace("{{SCRIPT}}", script)
    for field, value in fields.items():
        html = html.replace("{{" + field.upper() + "}}", _inline(value))
    return site.write(name, html)


def _inline(value) -> str:
    return json.dumps(value).replace("</", "<\\/")


def load_script(key: str, calls: str = "", options: dict | None = None) -> str:
    return f"analytics.load({json.dumps(key)}, {json.dumps(options or {})});\n{calls}"


def stored(server, source: dict, count: int, relay: Relay) -> list[dict]:
    """The source's messages in Segue's log, once the relay saw `count` of them accepted."""
    wait_for(lambda: len(relay.accepted()) >= count, what=f"{count} messages accepted by Segue")
    return server.events(source["id"])


def by_type(events: list[dict]) -> dict[str, dict]:
    return {event["type"]: event for event in events}


def assert_browser_fields(event: dict, tab) -> None:
    """The fields analytics.js gives every message (but a messageId the call chose)."""
    assert MESSAGE_ID.match(event["messageId"]) or event["messageId"].endswith("-fixed"), event["messageId"]
    assert ISO_TIME.match(event["originalTimestamp"]) and ISO_TIME.match(event["sentAt"])
    assert event["context"]["library"] == {"name": "analytics.js", "version": "segue-0.1.0"}
    assert event["context"]["userAgent"] == tab.evaluate("navigator.userAgent")
    assert event["context"]["locale"] == tab.evaluate("navigator.language")
    assert event["context"]["timezone"] == tab.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
    assert UUID.match(event["anonymousId"])
    assert "writeKey" not in event


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
    by_type = {event["type"]: event for event in events}
    assert sorted(by_type) == ["identify", "page", "track"]
    identify, track, page = by_type["identify"], by_type["track"], by_type["page"]
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


def test_a_batch_leaves_when_it_reaches_its_size(device_server, site, tab, relay, source):
    settings = settings_for(source["write_key"], relay, **batching(size=3, timeout=NEVER))
    calls = "analytics.track('One'); analytics.track('Two'); analytics.track('Three');"
    tab.goto(publish(site, "library.html", settings, load_script(source["write_key"], calls)))
    events = stored(device_server, source, 3, relay)
    assert [event["event"] for event in events] == ["One", "Two", "Three"]
    [request] = relay.posts()
    assert request["path"] == "/v1/b" and len(request["body"]["batch"]) == 3
    assert request["body"]["writeKey"] == source["write_key"] and ISO_TIME.match(request["body"]["sentAt"])
    assert all("sentAt" not in message for message in request["body"]["batch"])
    assert all(event["sentAt"] == request["body"]["sentAt"] for event in events)


def test_a_batch_leaves_when_its_time_is_up(device_server, site, tab, relay, source):
    settings = settings_for(source["write_key"], relay, **batching(size=100, timeout=300))
    calls = "analytics.track('One'); analytics.track('Two');"
    tab.goto(publish(site, "library.html", settings, load_script(source["write_key"], calls)))
    assert [event["event"] for event in stored(device_server, source, 2, relay)] == ["One", "Two"]
    [request] = relay.posts()
    assert request["path"] == "/v1/b" and len(request["body"]["batch"]) == 2


def test_failed_requests_are_retried_until_segue_takes_them(device_server, site, tab, relay, source):
    relay.fail(2, status=503)
    tab.goto(publish(site, "library.html", settings_for(source["write_key"], relay),
                     load_script(source["write_key"], "analytics.track('Retried');")))
    [event] = stored(device_server, source, 1, relay)
    attempts = relay.posts()
    assert [request["status"] for request in attempts] == [503, 503, 200]
    assert len({request["body"]["messageId"] for request in attempts}) == 1
    assert event["event"] == "Retried" and event["messageId"] == attempts[0]["body"]["messageId"]
    assert tab.evaluate(f"localStorage.getItem('segue:outbox:{source['write_key']}')") is None


def test_a_rate_limited_batch_is_sent_again(device_server, site, tab, relay, source):
    relay.fail(1, status=429)
    settings = settings_for(source["write_key"], relay, **batching(size=2, timeout=NEVER))
    tab.goto(publish(site, "library.html", settings,
                     load_script(source["write_key"], "analytics.track('A'); analytics.track('B');")))
    assert [event["event"] for event in stored(device_server, source, 2, relay)] == ["A", "B"]
    assert [request["status"] for request in relay.posts()] == [429, 200]


def test_offline_calls_wait_for_the_online_event(device_server, site, tab, relay, source):
    tab.goto(publish(site, "library.html", settings_for(source["write_key"], relay), load_script(source["write_key"])))
    tab.evaluate("analytics.ready().then(() => true)")
    tab.context.set_offline(True)
    tab.evaluate("Promise.all([analytics.track('Offline 1'), analytics.track('Offline 2')])")
    outbox = json.loads(tab.evaluate(f"localStorage.getItem('segue:outbox:{source['write_key']}')"))
    assert sorted(entry["message"]["event"] for entry in outbox.values()) == ["Offline 1", "Offline 2"]
    assert relay.posts() == []
    tab.context.set_offline(False)
    assert sorted(event["event"] for event in stored(device_server, source, 2, relay)) == ["Offline 1", "Offline 2"]


def test_the_offline_queue_is_sent_by_the_next_page_load(device_server, site, tab, relay, source):
    url = publish(site, "library.html", settings_for(source["write_key"], relay), load_script(source["write_key"]))
    tab.goto(url)
    tab.evaluate("analytics.ready().then(() => true)")
    tab.context.set_offline(True)
    tab.evaluate("analytics.track('Queued Offline')")
    tab.goto("about:blank")  # the page goes away while offline: nothing can leave
    tab.context.set_offline(False)
    assert relay.posts() == []
    tab.goto(url)
    [event] = stored(device_server, source, 1, relay)
    assert event["event"] == "Queued Offline"
    wait_for(lambda: tab.evaluate(f"localStorage.getItem('segue:outbox:{source['write_key']}')") is None,
             what="the outbox to empty")


def test_waiting_messages_leave_by_beacon_when_the_page_is_left(device_server, site, tab, relay, source):
    settings = settings_for(source["write_key"], relay, **batching(size=100, timeout=NEVER))
    tab.goto(publish(site, "library.html", settings, load_script(source["write_key"])))
    tab.evaluate("analytics.ready().then(() => Promise.all([analytics.track('Before Leaving'), analytics.page()])).then(() => true)")
    assert relay.posts() == []
    tab.goto("about:blank")
    events = stored(device_server, source, 2, relay)
    assert [event["type"] for event in events] == ["track", "page"]
    [beacon] = relay.posts()
    assert beacon["path"] == "/v1/b" and beacon["headers"]["sec-fetch-mode"] == "no-cors"  # a beacon
    assert beacon["headers"]["content-type"].startswith("text/plain")


def test_a_hidden_page_flushes_with_send_beacon(device_server, site, tab, relay, source):
    settings = settings_for(source["write_key"], relay, **batching(size=100, timeout=NEVER))
    tab.goto(publish(site, "library.html", settings, load_script(source["write_key"])))
    tab.evaluate("""analytics.ready().then(() => analytics.track('Tab Switched')).then(() => {
        const send = navigator.sendBeacon.bind(navigator);
        window.beacons = [];
        navigator.sendBeacon = (url, data) => { window.beacons.push(url); return send(url, data); };
        Object.defineProperty(document, "visibilityState", {value: "hidden", configurable: true});
        document.dispatchEvent(new Event("visibilitychange"));
    })""")
    [event] = stored(device_server, source, 1, relay)
    assert event["event"] == "Tab Switched"
    assert tab.evaluate("window.beacons") == [f"http://{relay.api_host}/b"]


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
    source = js_source(server, f"side-by-side-{next(_counter)}")
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
