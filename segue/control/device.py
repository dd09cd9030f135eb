"""Device mode (spec 4.2 and 5.1): what a website's analytics.js gets for one write key.

The pure functions compose analytics-next's CDN settings for a source (its enabled device-mode
destination instances as `remotePlugins`, each with its browser-safe settings only) and the
source's bundle (`window.segueSettings = ...;`, the plugin files, then the library).
`DeviceSite` reads the config store and the files and caches what it built, keyed on a digest
of the inputs, so a change in the app shows in the next response without any invalidation.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping
from urllib.parse import urlsplit

from pydantic_core import PydanticUndefined, to_jsonable_python

import segue.destinations
from segue.destinations.contract import Destination
from segue.destinations.settings import secret_names

log = logging.getLogger(__name__)
DEVICE_DIR = Path(segue.destinations.__file__).parent / "device"
BUNDLE_CACHE_SIZE = 256


@dataclass(frozen=True, slots=True)
class Built:
    """One response body and its digest (the ETag)."""

    body: bytes
    digest: str


def digest(*parts: bytes) -> str:
    """A short hex SHA-256 of the parts (length-prefixed, so different splits never collide)."""
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(len(part).to_bytes(8, "big"))
        hasher.update(part)
    return hasher.hexdigest()[:32]


def browser_settings(destination: Destination, stored: Mapping[str, Any]) -> dict:
    """The instance's settings a browser may see: `Device.settings` fields, never a secret, by alias."""
    model = destination.settings
    hidden = secret_names(model)
    shown = {}
    for name in destination.device.settings if destination.device else ():
        info = model.model_fields.get(name)
        alias = (info.alias or name) if info else name
        if info is None or alias in hidden:
            continue
        value = stored.get(alias, info.get_default(call_default_factory=True))
        if value is not None and value is not PydanticUndefined:
            shown[alias] = to_jsonable_python(value)  # a default may be an enum, a tuple...
    return shown


def plugin_url(public_url: str, slug: str, content_digest: str) -> str:
    return f"{public_url}/analytics.js/v1/plugins/{slug}.js?v={content_digest[:12]}"


def remote_plugin(destination: Destination, stored: Mapping[str, Any], url: str) -> dict:
    """One `remotePlugins` entry, as analytics-next loads it (`window[libraryName](settings)`)."""
    return {
        "name": destination.name,
        "creationName": destination.name,
        "libraryName": destination.device.library_name(destination.slug),
        "url": url,
        "settings": browser_settings(destination, stored),
    }


def api_host(public_url: str) -> tuple[str, str]:
    """(`apiHost`, `protocol`) for analytics-next: `host[:port][/path]/v1` and `http` or `https`."""
    parts = urlsplit(public_url)
    return f"{parts.netloc}{parts.path.rstrip('/')}/v1", parts.scheme or "https"


def cdn_settings(write_key: str, public_url: str, plugins: Iterable[dict]) -> dict:
    """analytics-next's CDNSettings for this write key (device destinations are remote plugins only)."""
    host, protocol = api_host(public_url)
    segment_io = {"apiKey": write_key, "apiHost": host, "protocol": protocol, "unbundledIntegrations": [],
                  "addBundledMetadata": True, "maybeBundledConfigIds": {}}
    return {
        "integrations": {"Segment.io": segment_io},
        "plan": {"track": {"__default": {"enabled": True, "integrations": {}}},
                 "identify": {"__default": {"enabled": True}}, "group": {"__default": {"enabled": True}}},
        "edgeFunction": {}, "analyticsNextEnabled": True, "middlewareSettings": {}, "enabledMiddleware": {},
        "metrics": {"sampleRate": 0}, "legacyVideoPluginsEnabled": False,
        "remotePlugins": list(plugins),
        "consentSettings": {"allCategories": [], "hasUnmappedDestinations": False},
    }


def settings_json(settings: Mapping) -> bytes:
    """The settings as served: compact, keys in a stable order; `</` escaped for inline scripts."""
    text = json.dumps(settings, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return text.replace("</", "<\\/").encode()


def bundle_text(settings_body: bytes, plugins: Iterable[bytes], library: bytes | None) -> bytes:
    """The per-source bundle: the settings inline, each plugin file, then the library; a `;` line
    between files keeps one file's missing final semicolon from joining it to the next."""
    parts = [b"window.segueSettings = " + settings_body + b";\n", *plugins]
    if library is not None:
        parts.append(library)
    return b";\n".join(part if part.endswith(b"\n") else part + b"\n" for part in parts)


def plugin_file(destination: Destination) -> Path:
    """The plugin file: in segue/destinations/device/, else beside a third-party destination's module."""
    built_in = DEVICE_DIR / destination.device.plugin
    module_file = getattr(sys.modules.get(destination.settings.__module__), "__file__", None)
    beside = Path(module_file).parent / destination.device.plugin if module_file else None
    return beside if beside is not None and not built_in.exists() and beside.exists() else built_in


class FileCache:
    """File contents and their digests, read again only when a file's size or mtime changes."""

    def __init__(self) -> None:
        self._files: dict[Path, tuple[tuple[int, int], bytes, str]] = {}

    def read(self, path: Path) -> tuple[bytes, str] | None:
        """(contents, digest), or None when the file is absent."""
        try:
            stat = path.stat()
        except OSError:
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = self._files.get(path)
        if cached is None or cached[0] != stamp:
            body = path.read_bytes()
            cached = self._files[path] = (stamp, body, digest(body))
        return cached[1], cached[2]


Connection = tuple[Destination, dict]  # a catalog destination and an instance's stored public settings


class DeviceSite:
    """The settings, bundles and plugin files of device mode, built from the config store on request.

    Blocking (it reads the store and files): call it from a worker thread. The store's instances
    are re-read only when its config version moves; bundles are cached by a digest of their inputs.
    """

    def __init__(self, store: Any, catalog: Any, library: Path | None = None) -> None:
        self.store = store
        self.catalog = catalog
        self.library = library
        self.files = FileCache()
        self._lock = threading.Lock()
        self._version: int | None = None
        self._by_key: dict[str, list[Connection]] = {}
        self._bundles: dict[str, Built] = {}
        self._warned: set[Path] = set()

    def settings(self, write_key: str, public_url: str) -> Built | None:
        """The CDN settings of this write key, or None when no enabled source has it."""
        composed = self._compose(write_key, public_url)
        if composed is None:
            return None
        body = settings_json(composed[0])
        return Built(body, digest(body))

    def bundle(self, write_key: str, public_url: str) -> Built | None:
        """The source's analytics.js bundle, or None when no enabled source has this write key."""
        composed = self._compose(write_key, public_url)
        if composed is None:
            return None
        settings, plugins = composed
        library, library_digest = self._library() or (None, "")
        body = settings_json(settings)
        key = digest(body, *(plugin_digest.encode() for _, plugin_digest in plugins), library_digest.encode())
        with self._lock:
            built = self._bundles.get(key)
        if built is None:
            built = Built(bundle_text(body, [text for text, _ in plugins], library), key)
            self._remember(key, built)
        return built

    def plugin(self, slug: str) -> Built | None:
        """One device-mode plugin file, or None when no such destination or file exists."""
        destination = self._device_destination(slug)
        found = self.files.read(plugin_file(destination)) if destination else None
        return Built(*found) if found else None

    def _compose(self, write_key: str, public_url: str) -> tuple[dict, list[tuple[bytes, str]]] | None:
        connections = self._connections(write_key)
        if connections is None:
            return None
        entries, files = [], []
        for destination, stored in connections:
            found = self._plugin_text(destination)
            if found is not None:
                files.append(found)
                entries.append(remote_plugin(destination, stored, plugin_url(public_url, destination.slug, found[1])))
        return cdn_settings(write_key, public_url, entries), files

    def _plugin_text(self, destination: Destination) -> tuple[bytes, str] | None:
        path = plugin_file(destination)
        found = self.files.read(path)
        if found is None:
            self._warn_once(path, f"device mode: {destination.name}'s plugin file {path} is missing; left out")
        return found

    def _library(self) -> tuple[bytes, str] | None:
        found = self.files.read(self.library) if self.library else None
        if found is None and self.library:
            self._warn_once(self.library, f"device mode: the browser library {self.library} is missing; "
                                          "bundles hold the settings and plugins only")
        return found

    def _connections(self, write_key: str) -> list[Connection] | None:
        version = self.store.config_version()
        with self._lock:
            if version == self._version:
                return self._by_key.get(write_key)
        by_key = self._load()
        with self._lock:
            self._version, self._by_key = version, by_key
        return by_key.get(write_key)

    def _load(self) -> dict[str, list[Connection]]:
        """write key -> the enabled device-mode connections of that enabled source."""
        sources = {source.id: source.write_key for source in self.store.list_sources() if source.enabled}
        by_key: dict[str, list[Connection]] = {key: [] for key in sources.values()}
        for record in self.store.list_destinations():
            destination = self._device_destination(record.catalog_slug)
            if record.enabled and record.mode == "device" and destination and record.source_id in sources:
                by_key[sources[record.source_id]].append((destination, dict(record.settings)))
        return by_key

    def _device_destination(self, slug: str) -> Destination | None:
        destination = self.catalog.get(slug) if slug in self.catalog else None
        return destination if destination is not None and destination.device is not None else None

    def _remember(self, key: str, built: Built) -> None:
        with self._lock:
            if len(self._bundles) >= BUNDLE_CACHE_SIZE:
                self._bundles.pop(next(iter(self._bundles)))
            self._bundles[key] = built

    def _warn_once(self, path: Path, message: str) -> None:
        if path not in self._warned:
            self._warned.add(path)
            log.warning(message)
