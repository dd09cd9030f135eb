"""Google Tag Manager: loads a GTM container on the website and fills its data layer (device mode).

The browser plugin (`device/google-tag-manager.js`) installs the container the way Google's
snippet does (`dataLayer.push({"gtm.start": <ms>, event: "gtm.js"})`, then
`https://www.googletagmanager.com/gtm.js?id=<container>&l=dataLayer`, with `&gtm_preview=` for
an environment) and pushes to `window.dataLayer` as Segment's Google Tag Manager destination does:

- track: `{...properties, userId, segmentAnonymousId, event: <event name>}`.
- page: a named page pushes `event: "Viewed <category> <name> Page"`, a categorized page
  `"Viewed <category> Page"`, and with *Track All Pages* every page pushes `"Loaded a Page"`, each
  with the page's properties (plus `name` and `category`), userId and segmentAnonymousId. As in
  Segment, an unnamed page pushes nothing unless *Track All Pages* is on.
- identify: `{userId, segmentAnonymousId, traits}` with no `event` key, so it updates data
  layer variables for the tags that fire on later events.

GTM is browser-only: there is no cloud mode and no server API.
"""

from __future__ import annotations

from pydantic import Field

from segue.destinations.contract import Destination, DestinationSettings, Device


class Settings(DestinationSettings):
    container_id: str = Field(
        title="Container ID",
        description="The GTM container to load (GTM-XXXXXXX), from Admin > Container Settings.")
    environment: str | None = Field(
        None, description="A GTM environment to preview (its gtm_preview value, e.g. env-5); empty for live.")
    track_all_pages: bool = Field(False, description="Push a 'Loaded a Page' event for every page call.")
    track_named_pages: bool = Field(True, description="Push 'Viewed <Name> Page' for page calls with a name.")
    track_categorized_pages: bool = Field(
        True, description="Push 'Viewed <Category> Page' for page calls with a category.")


DEVICE = Device(
    plugin="google-tag-manager.js",
    settings=("container_id", "environment", "track_all_pages", "track_named_pages", "track_categorized_pages"),
    methods=("page", "track", "identify"),
)

DESTINATION = Destination(
    slug="google-tag-manager",
    name="Google Tag Manager",
    categories=("Tag Managers",),
    description=(
        "Google's tag management system. Loads your GTM container on the website and pushes "
        "page and track calls (with the user's ids) to its data layer, so the tags and triggers "
        "you set up in GTM fire on Segment events without code changes."
    ),
    docs_url="https://developers.google.com/tag-platform/tag-manager/datalayer",
    settings=Settings,
    translations={},
    modes=("device",),
    platforms=("browser",),
    device=DEVICE,
)
