"""Third-party device-mode destinations for the tests: their plugin records every call it gets.

Registered like any third-party package (entry point group `segue.destinations`, through the
`.dist-info` beside this package, found when this directory is on PYTHONPATH). Its settings
have one browser-safe field (`siteId`), one secret (`apiSecret`) and one plain server-side
field that is not listed as browser-safe (`serverRegion`): only `siteId` may reach a browser.
`device-recorder` runs in device mode only; `hybrid-recorder` in both modes (in cloud mode it
sends nothing), for the app's mode choice.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from segue.destinations.contract import Destination, DestinationSettings, Device


class Settings(DestinationSettings):
    site_id: str = Field(title="Site ID", description="Public id of the site, used in the browser.")
    api_secret: SecretStr | None = Field(None, title="API Secret", description="Server-side only.")
    server_region: str = Field("eu", title="Server Region", description="Not browser-safe (not listed).")


DESTINATION = Destination(
    slug="device-recorder",
    name="Device Recorder",
    categories=("Analytics",),
    description="A test destination whose browser plugin records the calls it receives.",
    docs_url="https://example.com/device-recorder",
    settings=Settings,
    translations={},
    modes=("device",),
    platforms=("browser", "mobile"),
    device=Device(plugin="device-recorder.js", settings=("site_id",), methods=("page", "track", "identify")),
)


HYBRID = Destination(
    slug="hybrid-recorder",
    name="Hybrid Recorder",
    categories=("Analytics",),
    description="A test destination with both connection modes; in cloud mode it sends nothing.",
    docs_url="https://example.com/hybrid-recorder",
    settings=Settings,
    translations={"track": lambda event, settings: []},
    modes=("cloud", "device"),
    device=Device(plugin="device-recorder.js", settings=("site_id",), methods=("page", "track", "identify")),
)
