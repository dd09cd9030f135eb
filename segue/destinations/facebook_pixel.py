"""Facebook Pixel (Meta Pixel): conversion tracking and audiences from the browser (device mode).

The browser plugin (`device/facebook-pixel.js`) installs Meta's base code (an `fbq` queue and
`https://connect.facebook.net/en_US/fbevents.js`), sets Limited Data Use when chosen
(`fbq('dataProcessingOptions', ['LDU'], 0, 0)`) and calls `fbq('init', <pixel id>)`, then maps
calls the way Segment's Facebook Pixel destination does:

- page: `fbq('track', 'PageView')`.
- track: Segment's e-commerce events become Meta standard events, sent with
  `fbq('trackSingle', <pixel id>, <event>, <parameters>, {eventID: messageId})` so that they
  deduplicate against the Conversions API: Product List Viewed and Product Viewed become
  ViewContent, Product Added AddToCart, Checkout Started InitiateCheckout, Order Completed
  Purchase (content_ids, contents, num_items, value from revenue, currency defaulting to USD),
  Products Searched Search (search_string). Events named in *Map Standard Events* become the
  standard event chosen there; any other event is a custom event
  (`fbq('trackSingleCustom', ...)`) with its properties (revenue becomes `value`). Properties
  Meta counts as personal data (email, firstName, lastName, gender, city, country, phone, state,
  zip, birthday) are left out unless allowed; standard events carry only the properties listed
  in *Standard Events Custom Properties*.
- identify: with *Enable Advanced Matching*, `fbq('init', <pixel id>, {em, fn, ln, ph, ge, db,
  ct, st, zp})` from the traits (the pixel hashes them in the browser); otherwise nothing.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from segue.destinations.contract import Destination, DestinationSettings, Device

STANDARD_EVENTS = (
    "AddPaymentInfo", "AddToCart", "AddToWishlist", "CompleteRegistration", "Contact", "CustomizeProduct",
    "Donate", "FindLocation", "InitiateCheckout", "Lead", "Purchase", "Schedule", "Search", "StartTrial",
    "SubmitApplication", "Subscribe", "ViewContent",
)  # Meta Pixel reference, "Standard events"


class Settings(DestinationSettings):
    pixel_id: str = Field(title="Pixel ID", description="Your Meta Pixel (dataset) ID.")
    init_with_existing_traits: bool = Field(
        False, title="Enable Advanced Matching",
        description="Pass the user's traits (email, name, phone, ...) to the pixel for advanced matching.")
    standard_events: dict[str, str] = Field(
        default_factory=dict, title="Map Standard Events",
        description="Segment event name -> Meta standard event (e.g. Signed Up -> CompleteRegistration).")
    standard_events_custom_properties: list[str] = Field(
        default_factory=list, description="Properties sent along with standard events (others are left out).")
    whitelist_pii_properties: list[str] = Field(
        default_factory=list, title="Allowed PII Properties",
        description="Personal-data properties (such as email) that may be sent as they are.")
    value_identifier: Literal["value", "price"] = Field(
        "value", description="Which property is the value of Product Viewed and Product Added.")
    limited_data_use: bool = Field(
        True, description="Flag events for Limited Data Use (Meta decides by the visitor's location).")

    @field_validator("standard_events")
    @classmethod
    def _known_standard_events(cls, mapping: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(mapping.values()) - set(STANDARD_EVENTS))
        if unknown:
            raise ValueError(f"not Meta standard events: {', '.join(unknown)}")
        return mapping


DEVICE = Device(
    plugin="facebook-pixel.js",
    settings=("pixel_id", "init_with_existing_traits", "standard_events", "standard_events_custom_properties",
              "whitelist_pii_properties", "value_identifier", "limited_data_use"),
    methods=("page", "track", "identify"),
)

DESTINATION = Destination(
    slug="facebook-pixel",
    name="Facebook Pixel",
    categories=("Advertising", "Attribution"),
    description=(
        "Meta's pixel for measuring ad conversions and building audiences. Loads the pixel on the "
        "website; pages become PageView, Segment's e-commerce events become Meta standard events "
        "(ViewContent, AddToCart, InitiateCheckout, Purchase, Search) and other events custom ones."
    ),
    docs_url="https://developers.facebook.com/docs/meta-pixel/reference",
    settings=Settings,
    translations={},
    modes=("device",),
    platforms=("browser",),
    device=DEVICE,
)
