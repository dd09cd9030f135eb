"""The destination contract: what every destination module provides, as plain values.

A destination is data plus pure functions (see ARCHITECTURE.md):

- `settings`: a pydantic model of its connection settings. Field aliases are the camelCase
  names Segment uses (`apiKey`); `SecretStr` fields are secrets (encrypted at rest, write-only
  in the API, masked in the app). The API's validation, the app's form and the catalog's
  settings list all come from this one model.
- `Destination`: catalog metadata plus the translation functions, one per Segment method.
  A translation takes the enriched event (a dict) and validated settings and returns the
  `Request`s to make; no I/O, no clock, no randomness. The delivery engine sends them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic.alias_generators import to_camel

METHODS = ("track", "identify", "page", "screen", "group", "alias")
CATEGORIES = (
    "Analytics", "Marketing Automation", "Customer Success", "Personalization", "Email Marketing",
    "Advertising", "CRM", "Raw Data", "A/B Testing", "Surveys", "SMS & Push Notifications",
    "Performance Monitoring", "Attribution", "Heatmaps & Recordings", "Referrals", "Enrichment",
    "Livechat", "Feature Flagging", "Video", "Deep Linking", "Security & Fraud", "Tag Managers", "Email",
)
MODES = ("cloud", "device")
PLATFORMS = ("browser", "mobile", "server")
STATUSES = ("public", "beta")


class DestinationSettings(BaseModel):
    """Base class of every destination's settings model: camelCase names, unknown keys refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


TRANSPORT_SCHEMES = ("http", "https", "nats", "redis", "rediss", "amqp", "amqps", "mqtt", "mqtts", "s3")


@dataclass(frozen=True, slots=True)
class Request:
    """One request a translation asks the delivery engine to make.

    The URL's scheme picks the transport: `http(s)` is an HTTP request; `nats`, `redis`, `amqp`,
    `mqtt` and `s3` publish `body` to a stream or store (see `segue/pipeline/transports/`). Broker
    credentials travel in the URL's userinfo, the way broker URLs carry them, so the delivery
    view masks them like any other URL password.
    """

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None


Translation = Callable[[dict, Any], "list[Request]"]
BatchTranslation = Callable[[list, Any], "list[Request]"]


@dataclass(frozen=True)
class Preset:
    """A default mapping (Actions style): a trigger in FQL and the mapping-kit fields it sends."""

    name: str
    trigger: str
    action: str
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class OAuth:
    """An OAuth 2 authorization-code flow ("log in to the tool") for vendors whose API uses it.

    The flow stores `access_token`, `refresh_token` and `expires_at` in the instance's secret
    settings (fields of those names on the settings model, aliases `accessToken`, ...).
    """

    authorize_url: str
    token_url: str
    scopes: tuple[str, ...] = ()
    extra_authorize_params: Mapping[str, str] = field(default_factory=dict)


def oauth_settings(vendor: str) -> type[DestinationSettings]:
    """A settings base class whose first fields are what "Log in to <vendor>" needs and stores.

    The OAuth app's `client_id` and `client_secret`, then the tokens the flow sets. A vendor's
    settings subclass it, adding their own fields after these (or redefining one in place).
    """

    class OAuthSettings(DestinationSettings):
        client_id: str | None = Field(
            None, title="Client ID", description=f"Your {vendor} app's client ID (for Log in to {vendor}).")
        client_secret: SecretStr | None = Field(
            None, title="Client Secret", description=f"Your {vendor} app's client secret.")
        access_token: SecretStr | None = Field(None, title="Access Token", description=f"Set by Log in to {vendor}.")
        refresh_token: SecretStr | None = Field(None, title="Refresh Token", description=f"Set by Log in to {vendor}.")
        expires_at: int | None = Field(
            None, title="Expires At", description="When the access token expires (epoch seconds).")

    return OAuthSettings


@dataclass(frozen=True)
class Device:
    """Device mode: the tool's own code, run in the visitor's browser by analytics.js.

    `plugin` names a JavaScript file in `segue/destinations/device/`. The file assigns an
    analytics-next destination plugin factory to `window[<library_name>]`: a function taking the
    browser-safe settings (an object keyed by the settings' camelCase aliases) and returning a
    plugin (`name`, `type: "destination"`, `version`, `isLoaded()`, `load(ctx, analytics)`, and one
    function per method taking `ctx` and returning it; `ctx.event` is the Segment event). The same
    file runs in Segue's own bundle and, as a remote plugin, in Segment's analytics-next.
    """

    plugin: str
    settings: tuple[str, ...]  # settings fields (python names) browsers may see; never a secret
    methods: tuple[str, ...] = ("page", "track", "identify")

    def library_name(self, slug: str) -> str:
        """The global the plugin file assigns its factory to: `segueDevice_google_tag_manager`."""
        return "segueDevice_" + slug.replace("-", "_")


@dataclass(frozen=True)
class Destination:
    """One catalog entry: metadata, settings model and translation functions."""

    slug: str
    name: str  # display name, also the key in a message's `integrations` object
    categories: tuple[str, ...]
    description: str
    docs_url: str
    settings: type[DestinationSettings]
    translations: Mapping[str, Translation]  # Segment method -> translation
    modes: tuple[str, ...] = ("cloud",)
    platforms: tuple[str, ...] = ("browser", "mobile", "server")
    status: str = "public"
    replay: bool = False  # accepts historical timestamps
    logo: str = ""  # an SVG drawn by the project, or "" for the monogram
    presets: tuple[Preset, ...] = ()
    batch: BatchTranslation | None = None
    batch_size: int = 0  # the vendor's maximum events per batch request
    interpret: Callable[[int, bytes], str | None] | None = None  # vendor error body -> message
    rate_limit: float = 0.0  # requests per second the vendor allows one account (0: no documented limit)
    oauth: OAuth | None = None
    device: Device | None = None  # set exactly when "device" is in modes

    @property
    def methods(self) -> tuple[str, ...]:
        """The Segment methods this destination handles in any mode, in Segment's order."""
        device = self.device.methods if self.device else ()
        return tuple(method for method in METHODS if method in self.translations or method in device)
