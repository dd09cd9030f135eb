"""The destination catalog: every `Destination` registered under the `segue.destinations` group.

Built-in destinations register through the same entry points as third-party packages
(pyproject.toml, `[project.entry-points."segue.destinations"]`). An entry point resolves to a
`Destination` or to a module with a `DESTINATION` attribute. A third-party entry point that
fails to load is logged and skipped; a built-in one that fails is a bug and raises.
"""

from __future__ import annotations

import colorsys
import functools
import hashlib
import html
import logging
import re
from importlib import metadata
from typing import Iterable

from segue.destinations.contract import METHODS, Destination
from segue.destinations.settings import settings_fields
from segue.errors import ConfigError, NotFound

GROUP = "segue.destinations"
BUILTIN_PREFIX = "segue."
log = logging.getLogger(__name__)


class Catalog:
    """The loaded destinations, by slug."""

    def __init__(self, destinations: Iterable[Destination]) -> None:
        self._by_slug: dict[str, Destination] = {}
        for destination in destinations:
            if destination.slug in self._by_slug:
                raise ConfigError(f"two destinations use the slug {destination.slug!r}", code="duplicate_destination")
            self._by_slug[destination.slug] = destination

    def __len__(self) -> int:
        return len(self._by_slug)

    def __contains__(self, slug: object) -> bool:
        return slug in self._by_slug

    def all(self) -> list[Destination]:
        """Every destination, sorted by display name."""
        return sorted(self._by_slug.values(), key=lambda destination: (destination.name.lower(), destination.slug))

    def get(self, slug: str) -> Destination:
        """The destination with this slug, or NotFound."""
        try:
            return self._by_slug[slug]
        except KeyError:
            raise NotFound(f"no destination {slug!r} in the catalog") from None

    def by_name(self, display_name: str) -> Destination:
        """The destination with this display name (the `integrations` object key), or NotFound."""
        for destination in self._by_slug.values():
            if destination.name == display_name:
                return destination
        raise NotFound(f"no destination named {display_name!r} in the catalog")

    def find(self, search: str | None = None, category: str | None = None, method: str | None = None,
             mode: str | None = None, platform: str | None = None) -> list[Destination]:
        """The destinations matching every filter given, sorted by name."""
        return [d for d in self.all() if _matches(d, search, category, method, mode, platform)]


def _matches(destination: Destination, search: str | None, category: str | None, method: str | None,
             mode: str | None, platform: str | None) -> bool:
    if search and search.lower() not in _haystack(destination):
        return False
    if category and category.lower() not in (c.lower() for c in destination.categories):
        return False
    wanted = ((method, destination.methods), (mode, destination.modes), (platform, destination.platforms))
    return all(value is None or value in offered for value, offered in wanted)


def _haystack(destination: Destination) -> str:
    return " ".join((destination.name, destination.slug, destination.description, *destination.categories)).lower()


@functools.cache
def load_catalog() -> Catalog:
    """The catalog of every entry point in the `segue.destinations` group (cached; clear with
    `load_catalog.cache_clear()`). Two entry points with the same slug raise ConfigError."""
    found: dict[str, tuple[Destination, str]] = {}
    for entry_point in metadata.entry_points(group=GROUP):
        destination = _load(entry_point)
        if destination is None:
            continue
        where = f"{entry_point.name} = {entry_point.value}"
        if destination.slug in found:
            raise ConfigError(
                f"destination slug {destination.slug!r} is registered twice: by entry point "
                f"'{found[destination.slug][1]}' and by '{where}'",
                code="duplicate_destination",
            )
        found[destination.slug] = (destination, where)
    return Catalog(destination for destination, _ in found.values())


def _load(entry_point: metadata.EntryPoint) -> Destination | None:
    """The entry point's Destination; None (logged) when a third-party one is broken."""
    try:
        return _resolve(entry_point.load(), entry_point)
    except Exception:
        if entry_point.value.startswith(BUILTIN_PREFIX):
            raise
        log.warning("skipping destination entry point %s = %s", entry_point.name, entry_point.value, exc_info=True)
        return None


def _resolve(loaded: object, entry_point: metadata.EntryPoint) -> Destination:
    destination = getattr(loaded, "DESTINATION", loaded)
    if not isinstance(destination, Destination):
        raise TypeError(f"entry point {entry_point.name} gives {type(destination).__name__}, not a Destination")
    return destination


def serialize(destination: Destination) -> dict:
    """The API's JSON for one catalog entry, in Segment's catalog shape (spec 4.1)."""
    return {
        "slug": destination.slug,
        "name": destination.name,
        "description": destination.description,
        "categories": list(destination.categories),
        "status": destination.status,
        "methods": {method: method in destination.methods for method in METHODS},
        "platforms": {platform: platform in destination.platforms for platform in ("browser", "mobile", "server")},
        "connectionModes": _connection_modes(destination),
        "replay": destination.replay,
        "logo": destination.logo or monogram(destination.slug, destination.name),
        "docsUrl": destination.docs_url,
        "settings": settings_fields(destination.settings),
        "presets": [_preset(preset) for preset in destination.presets],
        "batchSize": destination.batch_size if destination.batch else 0,
    }


def _connection_modes(destination: Destination) -> dict:
    """Per mode, the source kinds it serves. Device mode serves websites only: its plugins are
    JavaScript for analytics.js (no mobile SDK plugins), and never server sources."""
    def kinds(mode: str) -> dict:
        on = mode in destination.modes
        return {
            "web": on and "browser" in destination.platforms,
            "mobile": on and mode == "cloud" and "mobile" in destination.platforms,
            "server": on and mode == "cloud" and "server" in destination.platforms,
        }
    return {"cloud": kinds("cloud"), "device": kinds("device")}


def _preset(preset) -> dict:
    return {"name": preset.name, "trigger": preset.trigger, "actionId": preset.action, "fields": dict(preset.fields)}


def initials(name: str) -> str:
    """1 or 2 capital initials from a display name: `Customer.io` -> `CI`, `Slack` -> `S`."""
    words = re.findall(r"[^\W_]+", name) or ["?"]
    return "".join(word[0] for word in words[:2]).upper()


def monogram_colour(slug: str) -> str:
    """A deterministic, readable background colour (hex) derived from the slug."""
    hue = int(hashlib.sha256(slug.encode()).hexdigest()[:4], 16) / 0xFFFF
    red, green, blue = colorsys.hls_to_rgb(hue, 0.38, 0.55)
    return "#{:02x}{:02x}{:02x}".format(round(red * 255), round(green * 255), round(blue * 255))


def monogram(slug: str, name: str) -> str:
    """The project's plain square logo: initials in white on a colour derived from the slug."""
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64" role="img" '
        f'aria-label="{html.escape(name)}"><rect width="64" height="64" fill="{monogram_colour(slug)}"/>'
        '<text x="32" y="32" dy="0.35em" text-anchor="middle" font-family="system-ui, sans-serif" '
        f'font-size="26" font-weight="600" fill="#ffffff">{html.escape(initials(name))}</text></svg>'
    )
