"""Device mode's composition, in process: browser-safe settings, the API host, the bundle's
parts, the public URL the routes use, and `DeviceSite` with files missing."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from pydantic import Field, SecretStr
from starlette.applications import Starlette

from segue.config import Settings
from segue.control.device import Built, DeviceSite, api_host, browser_settings, bundle_text, cdn_settings
from segue.destinations.contract import Destination, DestinationSettings, Device
from segue.destinations.registry import Catalog
from segue.web.device import device_routes


class _Leaky(DestinationSettings):
    site_id: str = Field("site-default")
    token: SecretStr


LEAKY = Destination(slug="leaky", name="Leaky", categories=("Analytics",), description="", docs_url="",
                    settings=_Leaky, translations={}, modes=("device",),
                    device=Device(plugin="leaky.js", settings=("site_id", "token", "no_such_field")))


def test_browser_settings_never_show_a_secret_even_when_listed():
    assert browser_settings(LEAKY, {"token": "shh"}) == {"siteId": "site-default"}
    assert browser_settings(LEAKY, {"siteId": "mine", "token": "shh"}) == {"siteId": "mine"}


@pytest.mark.parametrize(("public_url", "expected"), [
    ("http://127.0.0.1:8088", ("127.0.0.1:8088/v1", "http")),
    ("https://cdp.example.com", ("cdp.example.com/v1", "https")),
    ("https://example.com/segue/", ("example.com/segue/v1", "https")),
])
def test_api_host(public_url, expected):
    assert api_host(public_url) == expected


def test_bundle_without_a_library_still_builds():
    settings = cdn_settings("key", "http://localhost:1", [])
    text = bundle_text(b'{"a":1}', [b"plugin();"], None).decode()
    assert text == 'window.segueSettings = {"a":1};\n;\nplugin();\n'
    assert settings["remotePlugins"] == [] and list(settings["integrations"]) == ["Segment.io"]


class _SeenSite:
    """A stand-in DeviceSite that answers every write key and remembers the public URL it got."""

    def __init__(self) -> None:
        self.public_urls: list[str] = []

    def settings(self, write_key: str, public_url: str):
        self.public_urls.append(public_url)
        return Built(b"{}", "abc")


@pytest.mark.parametrize(("configured", "expected"), [
    (None, "http://segue.internal:9000"),  # not set: the request's own scheme and host
    ("https://cdp.example.com/", "https://cdp.example.com"),  # set by the operator
])
def test_public_url_is_the_operators_else_the_requests(configured, expected):
    site = _SeenSite()
    status = in_a_thread(_get_settings(site, configured))  # the browser fixture's Playwright owns this thread's loop
    assert status == 200 and site.public_urls == [expected]


async def _get_settings(site, configured: str | None) -> int:
    app = Starlette(routes=device_routes(site, Settings.load({}, public_url=configured)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://segue.internal:9000") as client:
        return (await client.get("/v1/projects/key/settings")).status_code


def in_a_thread(coroutine):
    """Run a coroutine to completion on a fresh event loop in another thread; its result."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class _Store:
    """The part of the config store DeviceSite reads: one enabled website source with one enabled
    device-mode instance of each slug given."""

    def __init__(self, *slugs: str) -> None:
        self.source = SimpleNamespace(id="src_1", write_key="key-1", enabled=True)
        self.instances = [SimpleNamespace(catalog_slug=slug, enabled=True, mode="device", source_id="src_1",
                                          settings={"siteId": "s-1"}) for slug in slugs]

    def config_version(self) -> int:
        return 1

    def list_sources(self) -> list:
        return [self.source]

    def list_destinations(self) -> list:
        return self.instances


def _device_destination(slug: str, plugin: Path) -> Destination:
    """A device-only destination whose plugin file is `plugin` (an absolute path replaces the device dir)."""
    return Destination(slug=slug, name=slug.title(), categories=("Analytics",), description="", docs_url="",
                       settings=_Leaky, translations={}, modes=("device",),
                       device=Device(plugin=str(plugin), settings=("site_id",)))


def test_missing_library_and_plugin_files_leave_a_working_bundle(tmp_path, caplog):
    """Without the library or a plugin file the bundle still builds from what exists, with a warning."""
    plugin = tmp_path / "here.js"
    plugin.write_text("window.segueDevice_here = function () {};\n")
    catalog = Catalog([_device_destination("here", plugin), _device_destination("gone", tmp_path / "gone.js")])
    site = DeviceSite(_Store("here", "gone"), catalog, library=tmp_path / "no-library.js")
    with caplog.at_level("WARNING"):
        built = site.bundle("key-1", "http://segue.test")
    assert built.body.decode().startswith("window.segueSettings = ")
    assert "window.segueDevice_here = function" in built.body.decode()
    settings = json.loads(site.settings("key-1", "http://segue.test").body)
    assert [entry["name"] for entry in settings["remotePlugins"]] == ["Here"]
    assert "no-library.js is missing" in caplog.text and "gone.js is missing" in caplog.text
    assert site.bundle("key-1", "http://segue.test") is built  # cached under the digest of its inputs
    assert site.bundle("other-key", "http://segue.test") is None
