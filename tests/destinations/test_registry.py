"""The catalog: lookups, filters, entry point loading, serialisation and monograms."""

from __future__ import annotations

import logging
from importlib import metadata

import orjson
import pytest

from segue.destinations import registry
from segue.destinations.registry import Catalog, initials, load_catalog, monogram, serialize
from segue.errors import ConfigError, NotFound
from tests.destinations.fake_destinations import ALPHA, DESTINATION as BETA, make

FAKES = "tests.destinations.fake_destinations"


def entry_point(name: str, value: str) -> metadata.EntryPoint:
    return metadata.EntryPoint(name=name, value=value, group=registry.GROUP)


@pytest.fixture
def fake_entry_points(monkeypatch):
    """Replace the installed entry points with the given ones; the cache is cleared around."""
    def install(*points: metadata.EntryPoint) -> None:
        monkeypatch.setattr(metadata, "entry_points", lambda group=None: [p for p in points if p.group == group])
        load_catalog.cache_clear()

    yield install
    load_catalog.cache_clear()


@pytest.fixture
def catalog() -> Catalog:
    return load_catalog()


def test_built_ins_load_through_entry_points(catalog):
    assert {"webhook", "amplitude", "mixpanel", "slack", "customerio"} <= {d.slug for d in catalog.all()}
    assert len(catalog) >= 5 and "mixpanel" in catalog and "nope" not in catalog
    assert load_catalog() is catalog  # cached


def test_all_is_sorted_by_name(catalog):
    names = [d.name.lower() for d in catalog.all()]
    assert names == sorted(names)


def test_get_and_by_name(catalog):
    assert catalog.get("amplitude").name == "Amplitude"
    assert catalog.by_name("Customer.io").slug == "customerio"
    with pytest.raises(NotFound, match="no destination 'nope' in the catalog"):
        catalog.get("nope")
    with pytest.raises(NotFound):
        catalog.by_name("customer.io")  # display names are case-sensitive, as in `integrations`


@pytest.mark.parametrize("filters, expected", [
    ({"search": "SLACK"}, {"slack"}),
    ({"search": "messaging automation"}, {"customerio"}),
    ({"search": "raw data"}, {"webhook"}),
    ({"category": "analytics"}, {"amplitude", "mixpanel"}),
    ({"category": "Email Marketing"}, {"customerio"}),
    ({"method": "alias"}, {"webhook", "mixpanel", "customerio"}),
    ({"method": "group"}, {"webhook", "amplitude", "mixpanel"}),
    ({"mode": "device"}, {"mixpanel", "customerio"}),  # the two of the five with a device-mode plugin
    ({"platform": "server"}, {"webhook", "amplitude", "mixpanel", "slack", "customerio"}),
    ({"category": "Analytics", "method": "alias"}, {"mixpanel"}),
    ({"category": "Analyt"}, set()),
])
def test_find(filters, expected):
    """Over a fixed set of five, so that the expectations do not move as the catalog grows."""
    from segue.destinations import amplitude, customerio, mixpanel, slack, webhook

    five = Catalog(module.DESTINATION for module in (amplitude, customerio, mixpanel, slack, webhook))
    assert {d.slug for d in five.find(**filters)} == expected


def test_catalog_refuses_duplicate_slugs():
    with pytest.raises(ConfigError, match="'alpha'"):
        Catalog([ALPHA, make("alpha", "Other")])


def test_entry_point_may_name_a_destination_or_a_module(fake_entry_points):
    fake_entry_points(entry_point("alpha", f"{FAKES}:ALPHA"), entry_point("beta", FAKES))
    catalog = load_catalog()
    assert [d.slug for d in catalog.all()] == ["alpha", "beta-chat"]
    assert catalog.get("beta-chat") is BETA


def test_duplicate_slugs_name_both_entry_points(fake_entry_points):
    fake_entry_points(entry_point("alpha", f"{FAKES}:ALPHA"), entry_point("alpha-copy", f"{FAKES}:ALPHA_AGAIN"))
    with pytest.raises(ConfigError) as caught:
        load_catalog()
    message = caught.value.message
    assert f"alpha = {FAKES}:ALPHA'" in message and f"alpha-copy = {FAKES}:ALPHA_AGAIN'" in message


def test_broken_third_party_entry_points_are_skipped(fake_entry_points, caplog):
    fake_entry_points(
        entry_point("alpha", f"{FAKES}:ALPHA"),
        entry_point("missing-module", "segue_plugin_that_is_not_installed:DESTINATION"),
        entry_point("missing-attribute", f"{FAKES}:NOPE"),
        entry_point("wrong-type", f"{FAKES}:NOT_A_DESTINATION"),
    )
    with caplog.at_level(logging.WARNING, logger=registry.__name__):
        catalog = load_catalog()
    assert [d.slug for d in catalog.all()] == ["alpha"]
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "missing-module" in logged and "missing-attribute" in logged and "wrong-type" in logged


def test_a_broken_built_in_entry_point_raises(fake_entry_points):
    fake_entry_points(entry_point("ghost", "segue.destinations.ghost:DESTINATION"))
    with pytest.raises(ModuleNotFoundError):
        load_catalog()


def test_serialize_in_segment_catalog_shape(catalog):
    entry = serialize(catalog.get("mixpanel"))
    assert list(entry) == ["slug", "name", "description", "categories", "status", "methods", "platforms",
                           "connectionModes", "replay", "logo", "docsUrl", "settings", "presets", "batchSize"]
    assert entry["methods"] == dict.fromkeys(["track", "identify", "page", "screen", "group", "alias"], True)
    assert entry["platforms"] == {"browser": True, "mobile": True, "server": True}
    assert entry["connectionModes"] == {"cloud": {"web": True, "mobile": True, "server": True},
                                        "device": {"web": True, "mobile": False, "server": False}}
    track_preset = {"name": "Track Calls", "trigger": 'type = "track"', "actionId": "track", "fields": {}}
    assert entry["presets"][0] == track_preset
    assert entry["batchSize"] == 2000 and entry["replay"] is True
    assert {s["name"] for s in entry["settings"]} >= {"projectToken", "apiSecret", "region"}
    orjson.dumps(entry)


def test_serialize_device_only_destination():
    entry = serialize(BETA)
    assert entry["connectionModes"] == {"cloud": {"web": False, "mobile": False, "server": False},
                                        "device": {"web": True, "mobile": False, "server": False}}
    assert entry["methods"]["track"] is True and entry["methods"]["identify"] is False
    assert entry["batchSize"] == 0 and entry["presets"] == []


@pytest.mark.parametrize("name, letters", [("Customer.io", "CI"), ("Slack", "S"), ("Amazon Redshift", "AR"),
                                           ("google analytics 4", "GA"), ("", "?")])
def test_initials(name, letters):
    assert initials(name) == letters


def test_monogram_is_deterministic_and_escaped():
    logo = monogram("acme", "Acme <Tools> & Co")
    assert logo == monogram("acme", "Acme <Tools> & Co")
    assert logo.startswith("<svg") and logo.endswith("</svg>")
    assert "&lt;Tools&gt; &amp; Co" in logo and ">AT</text>" in logo
    assert monogram("acme", "Acme") != monogram("acme-2", "Acme")  # the colour follows the slug
