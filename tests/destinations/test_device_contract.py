"""Device mode's contract, over every registered destination: the catalog never claims a mode it lacks.

A destination has "device" in `modes` exactly when it has a `device`; that names a plugin file
in `segue/destinations/device/` which assigns the factory to `window[<library name>]`, and
browser settings that are non-secret fields of its settings model. Every plugin file belongs
to a destination.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import SecretStr

from segue.control.device import plugin_file
from segue.destinations.contract import METHODS, Destination, Device
from segue.destinations.registry import load_catalog, serialize
from tests.destinations.fake_destinations import make

PLUGIN_DIR = Path(__file__).parents[2] / "segue" / "destinations" / "device"
DESTINATIONS = load_catalog().all()
DEVICE_DESTINATIONS = [d for d in DESTINATIONS if "device" in d.modes or d.device is not None]


def device_problems(destination: Destination) -> list[str]:
    """What breaks the device-mode contract (empty when it holds)."""
    device = destination.device
    if ("device" in destination.modes) != (device is not None):
        return ["'device' in modes but no device (or a device without the mode)"]
    if device is None:
        return []
    problems = [] if plugin_file(destination).is_file() else [f"no plugin file {device.plugin}"]
    fields = destination.settings.model_fields
    for name in device.settings:
        if name not in fields:
            problems.append(f"{name!r} is not a settings field")
        elif SecretStr in (fields[name].annotation, *getattr(fields[name].annotation, "__args__", ())):
            problems.append(f"{name!r} is a secret")
    if not device.methods or not set(device.methods) <= set(METHODS):
        problems.append(f"unknown methods {device.methods}")
    return problems


@pytest.mark.parametrize("destination", DESTINATIONS, ids=lambda destination: destination.slug)
def test_device_mode_is_claimed_exactly_when_there_is_a_plugin(destination):
    assert device_problems(destination) == []


@pytest.mark.parametrize("destination", DEVICE_DESTINATIONS, ids=lambda destination: destination.slug)
def test_the_plugin_file_assigns_its_library_name_and_plugin_name(destination):
    source = plugin_file(destination).read_text()
    assert f"window.{destination.device.library_name(destination.slug)} = function (settings)" in source
    assert f'name: "{destination.name}", type: "destination", version: "1.0.0"' in source
    for method in destination.device.methods:
        assert re.search(rf"\n\s+{method}: function \(ctx\)", source), method


@pytest.mark.parametrize("destination", DEVICE_DESTINATIONS, ids=lambda destination: destination.slug)
def test_device_only_destinations_translate_nothing_and_serve_websites(destination):
    if "cloud" not in destination.modes and destination.settings.__module__.startswith("segue.destinations."):
        assert destination.translations == {} and destination.platforms == ("browser",)
    modes = serialize(destination)["connectionModes"]["device"]
    assert modes == {"web": True, "mobile": False, "server": False}


def test_every_plugin_file_belongs_to_a_destination():
    claimed = {d.device.plugin for d in DEVICE_DESTINATIONS if plugin_file(d).parent == PLUGIN_DIR}
    assert {path.name for path in PLUGIN_DIR.glob("*.js")} == claimed


def test_the_catalog_has_the_device_destinations_of_issue_8():
    assert {d.slug for d in DEVICE_DESTINATIONS} >= {
        "google-analytics-4", "google-tag-manager", "facebook-pixel", "hotjar", "fullstory", "intercom", "crisp",
        "mixpanel", "customerio"}


def test_the_check_finds_each_kind_of_breach():
    """device_problems is what the tests above rely on: it must see each breach."""
    from segue.destinations import crisp

    no_plugin = make("x", "X", modes=("cloud", "device"))
    stray = make("x", "X", device=Device(plugin="x.js", settings=()))
    secret = make("x", "X", modes=("device",), settings=crisp.Settings,
                  device=Device(plugin="crisp.js", settings=("website_id", "key", "nope")))
    assert device_problems(no_plugin) and device_problems(stray)
    assert device_problems(secret) == ["'key' is a secret", "'nope' is not a settings field"]
    assert device_problems(make("x", "X", modes=("device",), device=Device(plugin="gone.js", settings=()))) == [
        "no plugin file gone.js"]
