"""Which events a destination instance gets, and what requests they become (pure).

The rules run in Segment's order (spec sections 1.6, 4.3, 4.6): the event must come from the
instance's source; the `integrations` object may exclude it (`All`, then the destination's
display name, case-sensitive; an options object counts as true); Destination Filters may drop
it or some of its fields; then the destination translates it. Each event that goes nowhere
gets a reason, which the delivery records count.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from segue.destinations.contract import Destination, Request
from segue.errors import InvalidMessage
from segue.mapping.filters import apply_filters

FILTERED_BY_INTEGRATIONS = "integrations object"
UNSUPPORTED_METHOD = "method not supported"
NOTHING_TO_SEND = "nothing to send"


@dataclass(frozen=True)
class InstanceConfig:
    """What routing needs to know about one enabled cloud-mode destination instance."""

    id: str
    source_id: str
    destination: Destination
    settings: Any  # the destination's validated settings model
    secrets: tuple[str, ...] = ()  # secret values, masked in every sample
    filters: tuple[Mapping, ...] = ()  # enabled Destination Filters (Business plan only)


@dataclass(frozen=True)
class Decision:
    """Either requests to send, a reason the event was filtered, or a permanent failure."""

    requests: Sequence[Request] = ()
    event: Mapping | None = None  # the event as sent (after filters)
    filtered: str | None = None
    failed: str | None = None
    extra: dict = field(default_factory=dict)


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
