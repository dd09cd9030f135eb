"""A device-mode instance's settings form holds only what its browser plugin reads; saving it
keeps the cloud settings stored (a GA4 instance switched to device mode keeps its API secret)."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from segue.config import Settings
from segue.control import OPERATOR, ControlPlane
from segue.log import MemoryLog
from segue.store import Store
from segue.web.app import build_web_app
from tests.web.test_login_throttle import PASSWORD, sign_in


@pytest.fixture
def world(tmp_path):
    with Store.open(Settings.load(environ={}, data_dir=tmp_path)) as store:
        store.create_user("ada", PASSWORD, "owner", actor="test")
        plane = ControlPlane(store)
        source = plane.create_source(OPERATOR, "Web", "javascript")
        cloud = plane.create_destination(OPERATOR, source=source["id"], slug="google-analytics-4", mode="cloud",
                                         settings={"measurementId": "G-CLOUD1", "apiSecret": "s3cret-value-123"})
        device = plane.create_destination(OPERATOR, source=source["id"], slug="google-analytics-4", mode="device", name="GA4 in the browser",
                                          settings={"measurementId": "G-DEVICE1"})
        client = TestClient(build_web_app(plane, MemoryLog(), b"k" * 32))
        assert sign_in(client, "ada", PASSWORD).status_code == 303
        yield plane, client, cloud, device


def test_the_device_form_shows_only_the_plugins_settings(world):
    _, client, cloud, device = world
    device_page, cloud_page = client.get(f"/destinations/{device['id']}").text, client.get(f"/destinations/{cloud['id']}").text
    assert 'name="setting.measurementId"' in device_page and 'name="setting.apiSecret"' not in device_page
    assert 'name="setting.measurementId"' in cloud_page and 'name="setting.apiSecret"' in cloud_page


def test_saving_the_device_form_keeps_the_other_settings(world):
    plane, client, cloud, device = world
    plane.delete_destination(OPERATOR, device["id"])  # one device-mode instance per source
    plane.update_destination(OPERATOR, cloud["id"], mode="device")
    token = re.search(r'name="csrf" value="([^"]+)"', client.get(f"/destinations/{cloud['id']}").text).group(1)
    saved = client.post(f"/destinations/{cloud['id']}/settings", data={"csrf": token, "setting.measurementId": "G-NEW2"},
                        follow_redirects=False)
    assert saved.status_code == 303
    stored = plane.store.get_destination(cloud["id"])
    assert stored.settings["measurement_id" if "measurement_id" in stored.settings else "measurementId"] == "G-NEW2"
    assert stored.secrets  # the API secret is still there
