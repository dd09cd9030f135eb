"""The CDN settings endpoint, the bundle and plugin routes of a running Segue: shape, CORS,
ETag/304, gzip, and no secret ever.

Uses the third-party `device-recorder` destination (tests/device/thirdparty/): `siteId` is
browser-safe, `apiSecret` is a secret and `serverRegion` is not listed as browser-safe; and
every device-mode destination of the catalog, each secret set.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from segue.destinations.registry import load_catalog
from segue.destinations.settings import secret_names
from segue.web.device import LIBRARY
from tests.device.conftest import RECORDER, add_device_destination, js_source, set_destination_enabled

SECRET = "recorder-secret-value-0123456789"
PRIVATE = "private-region-7"


@pytest.fixture(scope="module")
def shop(device_server):
    """A website source with the recorder enabled in device mode; (source, instance)."""
    source = js_source(device_server, "Settings Shop")
    settings = {"siteId": "site-123", "apiSecret": SECRET, "serverRegion": PRIVATE}
    instance = add_device_destination(device_server, source["id"], RECORDER, settings)
    return source, instance


def settings_of(server, key: str, headers: dict | None = None):
    return server.get(f"/v1/projects/{key}/settings", headers)


def test_settings_have_analytics_next_shape(device_server, shop):
    source, _ = shop
    status, headers, body = settings_of(device_server, source["write_key"])
    assert status == 200 and headers["content-type"].startswith("application/json")
    settings = json.loads(body)
    assert settings["integrations"] == {"Segment.io": {
        "apiKey": source["write_key"], "apiHost": f"127.0.0.1:{device_server.port}/v1", "protocol": "http",
        "unbundledIntegrations": [], "addBundledMetadata": True, "maybeBundledConfigIds": {}}}
    [plugin] = settings["remotePlugins"]
    assert plugin.pop("url").startswith(f"{device_server.url}/analytics.js/v1/plugins/{RECORDER}.js?v=")
    assert plugin == {"name": "Device Recorder", "creationName": "Device Recorder",
                      "libraryName": "segueDevice_device_recorder", "settings": {"siteId": "site-123"}}
    assert settings["plan"]["track"]["__default"] == {"enabled": True, "integrations": {}}
    assert settings["analyticsNextEnabled"] is True and settings["metrics"] == {"sampleRate": 0}
    assert settings["consentSettings"] == {"allCategories": [], "hasUnmappedDestinations": False}


def test_trailing_slash_answers_the_same(device_server, shop):
    key = shop[0]["write_key"]
    assert device_server.get(f"/v1/projects/{key}/settings/")[2] == settings_of(device_server, key)[2]


def test_cors_etag_and_not_modified(device_server, shop):
    key = shop[0]["write_key"]
    status, headers, _ = settings_of(device_server, key)
    assert headers["access-control-allow-origin"] == "*"
    assert headers["cache-control"] == "public, max-age=60"
    etag = headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    status, again, body = settings_of(device_server, key, {"If-None-Match": etag})
    assert (status, body, again["etag"]) == (304, b"", etag)
    assert settings_of(device_server, key, {"If-None-Match": '"something-else"'})[0] == 200


def test_a_change_shows_in_the_next_response_with_a_new_etag(device_server):
    source = js_source(device_server, "Changing Shop")
    instance = add_device_destination(device_server, source["id"], RECORDER, {"siteId": "before"})
    _, headers, _ = settings_of(device_server, source["write_key"])
    device_server.cli("destinations", "update", instance["id"], "--settings-json", '{"siteId": "after"}')
    status, changed, body = settings_of(device_server, source["write_key"], {"If-None-Match": headers["etag"]})
    assert status == 200 and changed["etag"] != headers["etag"]
    assert json.loads(body)["remotePlugins"][0]["settings"] == {"siteId": "after"}


def test_no_secret_in_settings_bundle_or_plugin(device_server, shop):
    key = shop[0]["write_key"]
    for path in (f"/v1/projects/{key}/settings", f"/analytics.js/v1/{key}/analytics.min.js",
                 f"/analytics.js/v1/{key}/analytics.js", f"/analytics.js/v1/plugins/{RECORDER}.js"):
        status, _, body = device_server.get(path)
        assert status == 200, path
        for hidden in (SECRET, PRIVATE, "apiSecret", "serverRegion"):
            assert hidden.encode() not in body, (path, hidden)


def test_only_enabled_device_instances_of_that_source(device_server, shop):
    source = js_source(device_server, "Quiet Shop")
    instance = add_device_destination(device_server, source["id"], RECORDER, {"siteId": "quiet"}, enable=False)
    add_device_destination(device_server, source["id"], "webhook", {"url": "https://example.com/hook"}, mode="cloud")
    assert json.loads(settings_of(device_server, source["write_key"])[2])["remotePlugins"] == []
    set_destination_enabled(device_server, instance["id"], True)
    [plugin] = json.loads(settings_of(device_server, source["write_key"])[2])["remotePlugins"]
    assert plugin["settings"] == {"siteId": "quiet"}


@pytest.mark.parametrize("path", ["/v1/projects/{key}/settings", "/analytics.js/v1/{key}/analytics.min.js"])
def test_unknown_and_disabled_write_keys_get_404(device_server, path):
    status, headers, body = device_server.get(path.format(key="no-such-write-key"))
    assert status == 404 and headers["access-control-allow-origin"] == "*"
    assert json.loads(body) == {"success": False, "code": "not_found", "message": "no such write key (unknown or disabled)"}
    source = js_source(device_server, f"Closed Shop {len(path)}")
    device_server.cli("sources", "disable", source["id"])
    assert device_server.get(path.format(key=source["write_key"]))[0] == 404


def test_bundle_inlines_settings_then_plugins(device_server, shop):
    key = shop[0]["write_key"]
    status, headers, body = device_server.get(f"/analytics.js/v1/{key}/analytics.min.js")
    assert status == 200 and headers["content-type"].startswith("application/javascript")
    assert headers["cache-control"] == "public, max-age=60" and headers["access-control-allow-origin"] == "*"
    text = body.decode()
    first_line = text.split("\n", 1)[0]
    assert first_line.startswith("window.segueSettings = ") and first_line.endswith(";")
    assert json.loads(first_line.removeprefix("window.segueSettings = ")[:-1]) == json.loads(settings_of(device_server, key)[2])
    plugin_at = text.index("window.segueDevice_device_recorder = ")
    if LIBRARY.exists():  # Segue's browser library comes last, once it is installed
        assert text.endswith(LIBRARY.read_text()) and plugin_at < len(text) - len(LIBRARY.read_text())
    assert device_server.get(f"/analytics.js/v1/{key}/analytics.min.js", {"If-None-Match": headers["etag"]})[0] == 304


def test_bundle_is_gzipped_for_clients_that_accept_it(device_server, shop):
    path = f"/analytics.js/v1/{shop[0]['write_key']}/analytics.min.js"
    _, plain_headers, plain = device_server.get(path)
    status, headers, body = device_server.get(path, {"Accept-Encoding": "gzip, deflate"})
    assert status == 200 and headers["content-encoding"] == "gzip" and gzip.decompress(body) == plain
    assert "content-encoding" not in plain_headers and headers["vary"] == "Accept-Encoding"
    assert headers["etag"] == plain_headers["etag"][:-1] + '-gz"'
    for etag in (plain_headers["etag"], headers["etag"]):  # the same content either way
        assert device_server.get(path, {"Accept-Encoding": "gzip", "If-None-Match": etag})[0] == 304


def test_plugin_route_serves_device_plugins_only(device_server, shop):
    status, headers, body = device_server.get(f"/analytics.js/v1/plugins/{RECORDER}.js")
    assert status == 200 and b"segueDevice_device_recorder" in body and headers["etag"]
    assert device_server.get("/analytics.js/v1/plugins/webhook.js")[0] == 404  # cloud mode only
    assert device_server.get("/analytics.js/v1/plugins/no-such-thing.js")[0] == 404


def test_a_page_on_another_origin_reads_the_settings(device_server, shop, tab, site):
    key = shop[0]["write_key"]
    tab.goto(site.write("index.html", "<!doctype html><title>shop</title>"))
    settings = tab.evaluate("url => fetch(url).then(response => response.json())",
                            f"{device_server.url}/v1/projects/{key}/settings")
    assert settings["integrations"]["Segment.io"]["apiKey"] == key


def secret_marker(alias: str) -> str:
    return f"never-in-a-browser-{alias}-0123456789"


def every_device_destination() -> list:
    return [destination for destination in load_catalog().all() if destination.device]


def filled_settings(destination) -> dict:
    """The destination's rich test settings (tests/destinations/rich/), each secret there or
    required set to a marker, other required fields filled in."""
    rich = Path(__file__).parents[1] / "destinations" / "rich" / f"{destination.slug}.json"
    values = json.loads(rich.read_text()) if rich.exists() else {}
    for name, info in destination.settings.model_fields.items():
        alias = info.alias or name
        if alias in secret_names(destination.settings) and (info.is_required() or alias in values):
            values[alias] = secret_marker(alias)
        elif info.is_required() and alias not in values:
            values[alias] = f"x{alias.lower()}1"
    return values


def test_no_secret_of_any_device_destination_reaches_a_browser(device_server):
    """Every catalog destination with device mode, enabled with each secret set: no secret in the
    settings or the bundle, and each plugin gets only its `Device.settings` fields."""
    source = js_source(device_server, "Every Device Destination")
    destinations = every_device_destination()
    for destination in destinations:
        add_device_destination(device_server, source["id"], destination.slug, filled_settings(destination))
    key = source["write_key"]
    settings_body = settings_of(device_server, key)[2]
    bundle_body = device_server.get(f"/analytics.js/v1/{key}/analytics.min.js")[2]
    assert b"never-in-a-browser" not in settings_body and b"never-in-a-browser" not in bundle_body
    plugins = {plugin["name"]: plugin for plugin in json.loads(settings_body)["remotePlugins"]}
    assert sorted(plugins) == sorted(destination.name for destination in destinations)
    for destination in destinations:
        fields = destination.settings.model_fields
        allowed = {fields[name].alias or name for name in destination.device.settings}
        assert set(plugins[destination.name]["settings"]) <= allowed, destination.slug
