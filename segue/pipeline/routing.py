"""Which events a destination instance gets, and what requests they become (pure).

The rules run in Segment's order (spec sections 1.6, 4.3, 4.6): the event must come from the
instance's source; the `integrations` object may exclude it (`All`, then the destination's
display name, case-sensitive; an options object counts as true); Destination Filters may drop
it or some of its fields; then its mappings decide what it becomes, or, for an instance without
mappings, the destination translates it with its method's function. Each event that goes
nowhere gets a reason, which the delivery records count.

Mappings (Actions-style subscriptions): each enabled mapping whose trigger matches, in order,
evaluates its mapping-kit `fields` on the event, merges the result over the event (top-level
keys replaced) and hands that to the translation its `action` names; the requests of all of
them are sent for the event. No match: filtered as `no matching mapping`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

from segue.destinations.contract import Destination, Request
from segue.errors import ConfigError, InvalidMessage
from segue.mapping import fql
from segue.mapping.filters import apply_filters
from segue.mapping.kit import resolve, validate_mapping

FILTERED_BY_INTEGRATIONS = "integrations object"
UNSUPPORTED_METHOD = "method not supported"
NOTHING_TO_SEND = "nothing to send"
NO_MATCHING_MAPPING = "no matching mapping"


@dataclass(frozen=True)
class CompiledMapping:
    """One mapping, ready to run: its trigger as a predicate, the action, the fields.

    `error` says why a stored mapping cannot run (its trigger does not parse, its fields break
    a mapping-kit rule); the events it matches fail with that reason."""

    name: str
    trigger: Callable[[Mapping], bool]
    action: str
    fields: Mapping[str, Any]
    enabled: bool = True
    error: str | None = None


class MappingFailure(Exception):
    """A mapping could not be applied to an event; the message names the mapping."""


@dataclass(frozen=True)
class InstanceConfig:
    """What routing needs to know about one enabled cloud-mode destination instance."""

    id: str
    source_id: str
    destination: Destination
    settings: Any  # the destination's validated settings model
    secrets: tuple[str, ...] = ()  # secret values, masked in every sample
    filters: tuple[Mapping, ...] = ()  # enabled Destination Filters (Business plan only)
    mappings: tuple[CompiledMapping, ...] = ()  # in order; none: each event to its method's translation

    @property
    def batching(self) -> bool:
        """Send in batches: the destination has a batch call, and its settings do not turn it off."""
        return self.destination.batch is not None and getattr(self.settings, "enable_batching", True)


@dataclass(frozen=True)
class Decision:
    """Either requests to send, a reason the event was filtered, or a permanent failure."""

    requests: Sequence[Request] = ()
    event: Mapping | None = None  # the event as sent (after filters)
    filtered: str | None = None
    failed: str | None = None
    extra: dict = field(default_factory=dict)
    # With mappings: (action, merged event) per matching mapping, in order, the inputs of
    # `requests` (a batch call should take these events, not `event`). Empty without mappings.
    mapped: tuple[tuple[str, dict], ...] = ()

    @property
    def batch_events(self) -> list:
        """What a batch call gets for this event: one per matching mapping, else the event."""
        return [merged for _, merged in self.mapped] if self.mapped else [self.event]


def batch_requests(instance: InstanceConfig, events: list) -> tuple[list[int], list[Request], dict[int, str]]:
    """The batch call's requests for `events`: (positions sent, requests, refused). When the call
    refuses an event, that event alone is left out (refused: position -> why) and the others go
    in a batch without it."""
    batch, settings = instance.destination.batch, instance.settings
    try:
        return list(range(len(events))), batch(events, settings), {}
    except InvalidMessage:
        pass
    refused = {}
    for position, event in enumerate(events):
        try:
            batch([event], settings)
        except InvalidMessage as error:
            refused[position] = f"{instance.destination.name} cannot take this event: {error.message}"
    kept = [position for position in range(len(events)) if position not in refused]
    return kept, (batch([events[position] for position in kept], settings) if kept else []), refused


def wanted_by_integrations(event: Mapping, name: str) -> bool:
    """Segment's `integrations` rule: the destination's own key wins, then `All` (default true)."""
    integrations = event.get("integrations")
    if not isinstance(integrations, Mapping):
        return True
    if name in integrations:
        return integrations[name] is not False
    return integrations.get("All", True) is not False


def route(event: dict, instance: InstanceConfig, sample: Any = random.random) -> Decision:
    """Apply the routing rules to one event for one instance (the source already matched)."""
    destination = instance.destination
    if not wanted_by_integrations(event, destination.name):
        return Decision(filtered=FILTERED_BY_INTEGRATIONS)
    if instance.filters:
        event, reason = apply_filters(instance.filters, event, lambda _filter, _path: sample())
        if event is None:
            return Decision(filtered=reason)
    if instance.mappings:
        return _mapped(event, instance)
    translate = destination.translations.get(event.get("type"))
    if translate is None:
        return Decision(filtered=UNSUPPORTED_METHOD)
    return _translated(translate, event, instance)


def _translated(translate, event: dict, instance: InstanceConfig) -> Decision:
    try:
        requests = translate(event, instance.settings)
    except InvalidMessage as error:
        return Decision(event=event, failed=f"{instance.destination.name} cannot take this event: {error.message}")
    if not requests:
        return Decision(filtered=NOTHING_TO_SEND)
    return Decision(requests=requests, event=event)


def _mapped(event: dict, instance: InstanceConfig) -> Decision:
    """The requests of every enabled mapping whose trigger matches, in order."""
    try:
        calls = mapped_calls(event, instance.mappings, instance.destination)
    except MappingFailure as error:
        return Decision(event=event, failed=str(error))
    if not calls:
        return Decision(filtered=NO_MATCHING_MAPPING)
    requests: list[Request] = []
    for mapping, merged in calls:
        try:
            requests.extend(instance.destination.translations[mapping.action](merged, instance.settings))
        except InvalidMessage as error:
            reason = f"mapping {mapping.name!r}: {instance.destination.name} cannot take this event: {error.message}"
            return Decision(event=event, failed=reason)
    if not requests:
        return Decision(filtered=NOTHING_TO_SEND)
    return Decision(requests=requests, event=event, mapped=tuple((mapping.action, merged) for mapping, merged in calls))


def mapped_calls(
    event: dict, mappings: Iterable[CompiledMapping], destination: Destination
) -> list[tuple[CompiledMapping, dict]]:
    """`(mapping, merged event)` for each enabled mapping whose trigger matches `event`, in order;
    MappingFailure (naming the mapping) when one cannot be applied."""
    calls = []
    for mapping in mappings:
        if not mapping.enabled or mapping.trigger(event) is not True:
            continue
        if mapping.error is not None:
            raise MappingFailure(f"mapping {mapping.name!r} cannot run: {mapping.error}")
        calls.append((mapping, _merged(mapping, event, destination)))
    return calls


def _merged(mapping: CompiledMapping, event: dict, destination: Destination) -> dict:
    if mapping.action not in destination.translations:
        raise MappingFailure(f"mapping {mapping.name!r}: {destination.name} has no {mapping.action!r} action")
    if not mapping.fields:
        return event
    try:
        # The fields were validated by compile_mapping: resolve them as map_event does, without
        # validating them again for every event. A result that is not an object adds nothing.
        result = resolve(mapping.fields, event)
        return {**event, **result} if isinstance(result, dict) else event
    except (ConfigError, RecursionError, TypeError, ValueError) as error:
        raise MappingFailure(f"mapping {mapping.name!r} failed: {_message(error)}") from None


def compile_mappings(records: Iterable[Any]) -> tuple[CompiledMapping, ...]:
    """Ready-to-run mappings from stored ones (objects with name, trigger, action, fields,
    enabled), in the order given; never raises: a mapping that cannot run carries its `error`."""
    return tuple(compile_mapping(record) for record in records)


def compile_mapping(record: Any) -> CompiledMapping:
    """One stored mapping made ready to run. A trigger that does not parse matches every event
    (so each fails, with the reason, rather than vanishing); bad fields fail the matching ones."""
    name, action, enabled = record.name, record.action, bool(record.enabled)
    try:
        trigger = _simple_trigger(fql.parse(record.trigger)) or fql.compile(record.trigger)
    except (ConfigError, TypeError) as error:
        return CompiledMapping(name, _always, action, {}, enabled, f"trigger: {_message(error)}")
    fields = record.fields
    try:
        if not isinstance(fields, Mapping):
            raise ConfigError("must be a JSON object")
        validate_mapping(dict(fields))
    except ConfigError as error:
        return CompiledMapping(name, trigger, action, {}, enabled, f"fields: {error.message}")
    return CompiledMapping(name, trigger, action, fields, enabled)


def _simple_trigger(expression: fql.Expression) -> Callable[[Mapping], bool] | None:
    """A direct predicate for `field = "text"` on a top-level field (every preset's trigger:
    `type = "track"`), which FQL's typed `=` makes a plain string comparison; None otherwise."""
    if not (isinstance(expression, fql.Compare) and expression.op == "="):
        return None
    left, right = expression.left, expression.right
    if not (isinstance(left, fql.Path) and len(left.segments) == 1):
        return None
    if not (isinstance(right, fql.Literal) and isinstance(right.value, str)):
        return None
    key, value = left.segments[0], right.value
    return lambda event: event.get(key) == value


def _always(event: Mapping) -> bool:
    return True


def _message(error: Exception) -> str:
    return error.message if isinstance(error, ConfigError) else str(error)
