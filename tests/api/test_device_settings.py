"""A device-mode instance is held only to the settings its browser plugin reads: GA4 in the
browser needs its measurement ID, not the Measurement Protocol's API secret."""

from __future__ import annotations

from tests.api.helpers import assert_error, data, make_source


def ga4(source_id: str, mode: str, **settings) -> dict:
    return {"sourceId": source_id, "metadataId": "google-analytics-4", "mode": mode, "enabled": True,
            "settings": settings}


def test_device_mode_needs_only_the_plugins_settings(api_client):
    owner = api_client("owner")
    web = make_source(owner)
    created = data(owner.post("/api/v1/destinations", json=ga4(web["id"], "device", measurementId="G-ABC123")),
                   "destination", 201)
    assert created["enabled"] and created["mode"] == "device"
    error = assert_error(owner.post("/api/v1/destinations", json=ga4(web["id"], "cloud", measurementId="G-ABC123")),
                         400, "invalid_settings", "apiSecret")
    assert [problem["rule"] for problem in error["errors"]] == ["missing"]


def test_device_mode_still_needs_the_plugins_own_settings_and_checks_every_value_given(api_client):
    owner = api_client("owner")
    web = make_source(owner)
    assert_error(owner.post("/api/v1/destinations", json=ga4(web["id"], "device")), 400, "invalid_settings",
                 "measurementId")
    assert_error(owner.post("/api/v1/destinations", json=ga4(web["id"], "device", measurementId="G-1", region="Mars")),
                 400, "invalid_settings", "region")
