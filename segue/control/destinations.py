"""Destination instances: a catalog destination connected to one source, with its settings.

Rules (spec section 4.2): one source per instance ("copy settings" makes another); new
instances start disabled; device mode only for destinations and sources that support it, at
most one device-mode instance of a destination per source and 25 cloud-mode ones.
"""

from __future__ import annotations

from typing import Any, Mapping

from segue.control.access import Actor, require_write
from segue.control.plans import require_feature
from segue.control.settings import checked_settings, fields_for_mode
from segue.control.tester import send_test_event
from segue.control.views import destination_view, filter_view
from segue.destinations.settings import updated_values, validate_settings
from segue.errors import ConfigError, NotFound
from segue.mapping import fql
from segue.mapping.errors import FQLError
from segue.mapping.fql import MAX_CHARACTERS as MAX_FQL_CHARACTERS

DEVICE_SOURCE_TYPES = ("javascript", "ios", "android")
MAX_CLOUD_INSTANCES = 25
MAX_FILTERS = 10
FILTER_ACTIONS = ("DROP", "SAMPLE", "DROP_PROPERTIES", "ALLOW_PROPERTIES")


class DestinationUseCases:
    """Create, change, test and delete destination instances and their filters (mappings: see
    `segue.control.mappings`)."""

    def list_destinations(self, source: str | None = None) -> list[dict]:
        source_id = self.store.get_source(source).id if source else None
        return [self._view(record) for record in self.store.list_destinations(source_id)]

    def get_destination(self, destination_id: str) -> dict:
        return self._view(self.store.get_destination(destination_id))

    def create_destination(
        self,
        actor: Actor,
        *,
        source: str,
        slug: str,
        name: str | None = None,
        settings: Mapping | None = None,
        enabled: bool = False,
        mode: str | None = None,
        copy_from: str | None = None,
    ) -> dict:
        """A new instance of catalog destination `slug` connected to `source`, with the destination's
        presets as its mappings (or, with `copy_from`, the mappings of that instance)."""
        require_write(actor)
        destination = self.catalog.get(slug)
        source_record = self.store.get_source(source)
        values = {**self._copied_values(copy_from, slug), **(settings or {})}
        mode = self._checked_mode(destination, source_record, mode)
        public, secrets = checked_settings(destination.settings, values, complete=enabled,
                                           only=fields_for_mode(destination, mode))
        record = self.store.create_destination(
            source_id=source_record.id, catalog_slug=slug, name=name or destination.name, mode=mode,
            enabled=enabled, settings=public, secrets=secrets, actor=actor.name,
        )
        self._add_default_mappings(actor, record, destination, copy_from)
        return self._view(record)

    def update_destination(
        self,
        actor: Actor,
        destination_id: str,
        *,
        name: str | None = None,
        enabled: bool | None = None,
        mode: str | None = None,
        settings: Mapping | None = None,
    ) -> dict:
        """Change what is given; settings merge into the stored ones (None removes a value)."""
        require_write(actor)
        record = self.store.get_destination(destination_id)
        destination = self.catalog.get(record.catalog_slug)
        model = destination.settings
        values = updated_values(model, record.settings, record.secrets, settings or {})
        will_be_enabled = record.enabled if enabled is None else enabled
        public, secrets = checked_settings(model, values, complete=will_be_enabled,
                                           only=fields_for_mode(destination, mode or record.mode))
        if mode is not None and mode != record.mode:
            self._checked_mode(destination, self.store.get_source(record.source_id), mode, record.id)
        changes = {"name": name, "enabled": enabled, "mode": mode}
        if settings is not None:
            changes.update(settings=public, secrets=secrets)
        given = {key: value for key, value in changes.items() if value is not None}
        return self._view(self.store.update_destination(record.id, actor=actor.name, **given))

    def delete_destination(self, actor: Actor, destination_id: str) -> dict:
        require_write(actor)
        return self._view(self.store.delete_destination(destination_id, actor=actor.name))

    def test_destination(self, actor: Actor, destination_id: str, event_type: str = "track", event: Mapping | None = None) -> dict:
        """Send one test event through the instance now (enabled or not) and report what happened."""
        require_write(actor)
        record = self.store.get_destination(destination_id)
        destination = self.catalog.get(record.catalog_slug)
        settings = validate_settings(destination.settings, {**record.settings, **record.secrets})
        return send_test_event(destination, settings, record.secrets.values(), event_type, event,
                               allow_private=self.allow_private_destinations)

    async def delivery_summary(self, destination_id: str, since_seconds: float | None = None) -> dict:
        """Event delivery (spec 4.5): delivered, retried, failed, filtered, latency, recent failures."""
        record = self.store.get_destination(destination_id)
        if self.delivery_stats is None:
            raise ConfigError("event delivery records are kept by `segue serve`; none are open here")
        return await self.delivery_stats.summary(record.id, since_seconds)

    # Destination filters (Business plan, spec section 4.6).

    def list_filters(self, destination_id: str) -> list[dict]:
        return [filter_view(record) for record in self.store.list_filters(self.store.get_destination(destination_id).id)]

    def create_filter(self, actor: Actor, destination_id: str, *, title: str, condition: str, actions: list, enabled: bool = True) -> dict:
        require_write(actor)
        require_feature(self.plan, "destination_filters")
        record = self.store.get_destination(destination_id)
        if len(self.store.list_filters(record.id)) >= MAX_FILTERS:
            raise ConfigError(f"a destination has at most {MAX_FILTERS} filters")
        _check_filter(title, condition, actions)
        created = self.store.create_filter(
            record.id, title=title, condition=condition, actions=actions, enabled=enabled, actor=actor.name
        )
        return filter_view(created)

    def update_filter(self, actor: Actor, destination_id: str, filter_id: str, **changes: Any) -> dict:
        """Change a filter's title, condition, actions or enabled flag (None leaves it)."""
        require_write(actor)
        require_feature(self.plan, "destination_filters")
        current = self._filter(destination_id, filter_id)
        given = {key: value for key, value in changes.items() if value is not None}
        merged = {"title": current.title, "condition": current.condition, "actions": current.actions, **given}
        _check_filter(merged["title"], merged["condition"], merged["actions"])
        return filter_view(self.store.update_filter(current.id, actor=actor.name, **given))

    def delete_filter(self, actor: Actor, destination_id: str, filter_id: str) -> dict:
        require_write(actor)
        return filter_view(self.store.delete_filter(self._filter(destination_id, filter_id).id, actor=actor.name))

    def _filter(self, destination_id: str, filter_id: str) -> Any:
        for record in self.store.list_filters(self.store.get_destination(destination_id).id):
            if record.id == filter_id:
                return record
        raise NotFound(f"destination {destination_id!r} has no filter {filter_id!r}")

    def _view(self, record: Any) -> dict:
        destination = self.catalog.get(record.catalog_slug) if record.catalog_slug in self.catalog else None
        return destination_view(record, destination)

    def _copied_values(self, copy_from: str | None, slug: str) -> dict:
        if copy_from is None:
            return {}
        original = self.store.get_destination(copy_from)
        if original.catalog_slug != slug:
            raise ConfigError(f"cannot copy settings from a {original.catalog_slug} instance into a {slug} one")
        return {**original.settings, **original.secrets}

    def _checked_mode(self, destination: Any, source: Any, mode: str | None, instance_id: str | None = None) -> str:
        mode = mode or ("cloud" if "cloud" in destination.modes else "device")
        if mode not in destination.modes:
            raise ConfigError(f"{destination.name} runs in {' or '.join(destination.modes)} mode, not {mode}")
        if mode == "device" and source.type not in DEVICE_SOURCE_TYPES:
            raise ConfigError(f"{source.type} sources send in cloud mode only; device mode needs a website or mobile source")
        self._check_instance_count(destination, source, mode, instance_id)
        return mode

    def _check_instance_count(self, destination: Any, source: Any, mode: str, instance_id: str | None) -> None:
        siblings = [
            record for record in self.store.list_destinations(source.id)
            if record.catalog_slug == destination.slug and record.mode == mode and record.id != instance_id
        ]
        limit = MAX_CLOUD_INSTANCES if mode == "cloud" or source.type != "javascript" else 1
        if len(siblings) >= limit:
            raise ConfigError(f"source {source.name!r} already has {limit} {mode}-mode {destination.name} instance(s), the most it can have")


def _check_filter(title: str, condition: str, actions: list) -> None:
    if not 1 <= len(title) <= 64:
        raise ConfigError("a filter title needs 1 to 64 characters")
    if not condition.strip() or len(condition) > MAX_FQL_CHARACTERS:
        raise ConfigError(f"a filter condition (FQL) needs 1 to {MAX_FQL_CHARACTERS} characters")
    try:  # a condition that does not parse would drop every event (filters fail closed)
        fql.parse(condition)
    except FQLError as error:
        raise FQLError(f"condition: {error.message}", details=error.details) from None
    if not actions:
        raise ConfigError("a filter needs at least one action")
    for action in actions:
        _check_filter_action(action)


def _check_filter_action(action: Any) -> None:
    kind = action.get("type") if isinstance(action, dict) else None
    if kind not in FILTER_ACTIONS:
        raise ConfigError(f"a filter action's type must be one of {', '.join(FILTER_ACTIONS)}, got {kind!r}")
    if kind == "SAMPLE" and not 0 <= action.get("percent", -1) <= 1:
        raise ConfigError("a SAMPLE action needs `percent` between 0 and 1")
    if kind.endswith("_PROPERTIES") and not isinstance(action.get("fields"), dict):
        raise ConfigError(f"a {kind} action needs `fields`, e.g. {{\"properties\": [\"email\"]}}")
