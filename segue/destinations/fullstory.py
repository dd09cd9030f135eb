"""FullStory: session replay and digital experience analytics in the browser (device mode).

The browser plugin (`device/fullstory.js`) installs the FullStory snippet (`window._fs_org`,
`_fs_host`, `_fs_script`, `_fs_namespace = "FS"`, an `FS` queue and
`https://edge.fullstory.com/s/fs.js`), then calls FullStory's Browser API v2:

- identify: `FS('setIdentity', {uid: userId, properties})` with the traits as user properties
  (`name`, or first and last name, becomes `displayName`; `email` stays `email`); without a
  userId, `FS('setProperties', {type: 'user', properties})` on the anonymous user.
- track: `FS('trackEvent', {name: <event name>, properties})`.
- page: `FS('setProperties', {type: 'page', properties})` with the page's name as `pageName`.
"""

from __future__ import annotations

from pydantic import Field

from segue.destinations.contract import Destination, DestinationSettings, Device


class Settings(DestinationSettings):
    org_id: str = Field(
        title="Org ID", description="Your FullStory org id: the value of window['_fs_org'] in your FullStory snippet.")


DEVICE = Device(plugin="fullstory.js", settings=("org_id",), methods=("page", "track", "identify"))

DESTINATION = Destination(
    slug="fullstory",
    name="FullStory",
    categories=("Heatmaps & Recordings", "Analytics"),
    description=(
        "Session replay and digital experience analytics. Loads FullStory on the website; identify "
        "links sessions to your users with their properties, track records custom events and page "
        "names the pages, so you can search and segment sessions by what users did."
    ),
    docs_url="https://developer.fullstory.com/browser/getting-started/",
    settings=Settings,
    translations={},
    modes=("device",),
    platforms=("browser",),
    device=DEVICE,
)
