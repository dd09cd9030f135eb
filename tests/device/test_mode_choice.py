"""The app's add-destination flow offers the connection modes the catalog says a destination has.

`hybrid-recorder` has both modes, `device-recorder` device mode only, `webhook` cloud mode only
(the recorders come from tests/device/thirdparty/).
"""

from __future__ import annotations

import json
import re

import pytest

from tests.device.conftest import js_source, log_in


@pytest.fixture
def app_tab(browser, device_server):
    """A logged-in tab on the device server's app."""
    context = browser.new_context(base_url=device_server.url)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    log_in(tab)
    yield tab
    context.close()


def mode_of(server, instance_id: str) -> str:
    return json.loads(server.cli("destinations", "show", instance_id, "--json"))["mode"]


def confirm(tab, source_name: str | None = None) -> str:
    """Pick the source (unless fixed), confirm; the new instance's id."""
    if source_name:
        tab.get_by_label(re.compile(source_name)).check()
    tab.get_by_role("button", name="Confirm source").click()
    tab.wait_for_url(re.compile(r"/destinations/dst_\w+\?setup=1"))
    return tab.url.split("/destinations/")[1].split("?")[0]


def test_both_modes_offered_and_device_chosen(app_tab, device_server):
    js_source(device_server, "Mode Shop")
    app_tab.goto("/catalog/hybrid-recorder/configure")
    assert app_tab.get_by_label("Cloud mode").is_checked()
    assert app_tab.get_by_text("website and mobile sources only").is_visible()
    app_tab.get_by_label("Device mode").check()
    assert mode_of(device_server, confirm(app_tab, "Mode Shop")) == "device"


def test_cloud_stays_the_default(app_tab, device_server):
    source = js_source(device_server, "Cloud Default Shop")
    app_tab.goto(f"/catalog/hybrid-recorder/configure?source={source['id']}")
    assert app_tab.get_by_label("Device mode").is_visible()
    assert mode_of(device_server, confirm(app_tab)) == "cloud"


def test_a_server_source_is_offered_cloud_mode_only(app_tab, device_server):
    source = device_server.create_source("Mode Backend", type="python")
    app_tab.goto(f"/catalog/hybrid-recorder/configure?source={source['id']}")
    assert app_tab.get_by_label("Device mode").count() == 0
    assert mode_of(device_server, confirm(app_tab)) == "cloud"


def test_device_mode_for_a_server_source_is_refused(app_tab, device_server):
    device_server.create_source("Refused Backend", type="python")
    app_tab.goto("/catalog/hybrid-recorder/configure")
    app_tab.get_by_label(re.compile("Refused Backend")).check()
    app_tab.get_by_label("Device mode").check()
    app_tab.get_by_role("button", name="Confirm source").click()
    assert "device mode needs a website or mobile source" in app_tab.get_by_role("alert").inner_text()
    assert app_tab.get_by_label("Device mode").is_checked()  # the choice survives the error


@pytest.mark.parametrize(("slug", "mode"), [("device-recorder", "device"), ("webhook", "cloud")])
def test_one_mode_destinations_get_it_without_a_choice(app_tab, device_server, slug, mode):
    source = js_source(device_server, f"Single Mode Shop {slug}")
    app_tab.goto(f"/catalog/{slug}/configure?source={source['id']}")
    assert app_tab.get_by_label("Cloud mode").count() == 0 and app_tab.get_by_label("Device mode").count() == 0
    assert mode_of(device_server, confirm(app_tab)) == mode
