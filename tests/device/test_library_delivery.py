"""Segue's browser library delivering: batches by size and by time, retries (5xx, 429), the
offline queue, and beacons when the page is left or hidden (Chromium, against a live Segue)."""

from __future__ import annotations

import json

from tests.device.conftest import wait_for
from tests.device.library_support import ISO_TIME, NEVER, batching, load_script, publish, settings_for, stored


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
