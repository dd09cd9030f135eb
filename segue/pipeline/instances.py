"""A destination instance's routing config, read from the config store the one way the router,
replay and the preview all use (what `routing.route` needs: settings, secrets to mask, filters,
mappings)."""

from __future__ import annotations

from typing import Any

from segue.destinations.settings import InvalidSettings, merge_settings
from segue.errors import ConfigError
from segue.pipeline.routing import InstanceConfig, compile_mappings


def instance_config(store: Any, catalog: Any, record: Any, *, with_filters: bool = True) -> InstanceConfig:
    """The config of `record`, enabled or not; `with_filters=False` leaves its Destination
    Filters out (they run on the Business plan only). ConfigError when its settings are
    incomplete or invalid."""
    destination = catalog.get(record.catalog_slug)
    try:
        settings = merge_settings(destination.settings, record.settings, record.secrets)
    except InvalidSettings as error:
        raise ConfigError(f"the destination's settings are incomplete or invalid: {error.message}") from None
    return _config(store, record, destination, settings, with_filters)


def unsettled_config(store: Any, catalog: Any, record: Any, *, with_filters: bool = True) -> InstanceConfig:
    """The config without settings: enough to map events, not to translate them (the preview of
    an instance whose settings are not complete yet)."""
    return _config(store, record, catalog.get(record.catalog_slug), None, with_filters)


def _config(store: Any, record: Any, destination: Any, settings: Any, with_filters: bool) -> InstanceConfig:
    filters = tuple({"title": item.title, "if": item.condition, "actions": item.actions, "enabled": True}
                    for item in store.list_filters(record.id) if item.enabled) if with_filters else ()
    secrets = tuple(str(value) for value in record.secrets.values() if value)
    mappings = compile_mappings(store.list_mappings(record.id))
    return InstanceConfig(record.id, record.source_id, destination, settings, secrets, filters, mappings)
