"""Hotjar: heatmaps, recordings and surveys, fed with users and events in the browser (device mode).

The browser plugin (`device/hotjar.js`) installs the Hotjar tracking code (a `hj` queue,
`window._hjSettings = {hjid: <site id>, hjsv: 6}` and
`https://static.hotjar.com/c/hotjar-<site id>.js?sv=6`), then uses Hotjar's documented JS APIs:

- identify: `hj('identify', userId, attributes)` (Identify API), with the flat traits
  (strings up to 100 characters, numbers, booleans) as user attributes; userId may be null.
- track: `hj('event', <event name>)` (Events API), for filtering recordings and heatmaps and
  for triggering surveys.

Hotjar follows page changes itself (URL changes, including history changes in single-page
apps), so page calls are not forwarded.
"""

from __future__ import annotations

from pydantic import Field

from segue.destinations.contract import Destination, DestinationSettings, Device


class Settings(DestinationSettings):
    site_id: str = Field(
        title="Site ID",
        description="The Hotjar Site ID (hjid), from Sites & Organizations in Hotjar.")


DEVICE = Device(plugin="hotjar.js", settings=("site_id",), methods=("track", "identify"))

DESTINATION = Destination(
    slug="hotjar",
    name="Hotjar",
    categories=("Heatmaps & Recordings", "Surveys"),
    description=(
        "Heatmaps, session recordings and on-site surveys. Loads Hotjar on the website; identify "
        "sends user attributes for filtering recordings and targeting surveys, track sends "
        "events that filter recordings and heatmaps and trigger surveys."
    ),
    docs_url="https://help.hotjar.com/hc/en-us/articles/4405109971095-Events-API-Reference",
    settings=Settings,
    translations={},
    modes=("device",),
    platforms=("browser",),
    device=DEVICE,
)
