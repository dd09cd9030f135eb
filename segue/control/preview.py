"""Preview: what one sample event becomes for a destination instance, without sending anything.

The preview runs the router's own code: the instance's routing config as the router and replay
build it (`pipeline/instances.py`), then `route` (integrations object, Destination Filters on the
Business plan, mappings, translation). It shows the mapped payload of each matching mapping and
the requests the destination would be sent, secrets masked. A draft mapping (one being edited,
not yet saved) can be previewed on its own. Nothing is sent and nothing is counted.

A SAMPLE filter keeps the previewed event (unless its percent is 0): the preview shows what the
kept events become.
"""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any, Iterable, Mapping

from segue.control.plans import rules_for
from segue.control.tester import sample_event
from segue.destinations.contract import Request
from segue.errors import ConfigError, InvalidMessage
from segue.pipeline.delivery import mask_exchange
from segue.pipeline.instances import instance_config, unsettled_config
from segue.pipeline.routing import InstanceConfig, MappingFailure, compile_mappings, mapped_calls, route
from segue.spec.messages import validate

SHOWN_BODY_CHARS = 20_000
DRAFT_FIELDS = ("name", "trigger", "action", "fields")


class PreviewUseCases:
    """Preview an event for an instance (mixed into ControlPlane)."""

    def preview_destination(self, destination_id: str, event: Mapping | None = None, event_type: str = "track",
                            draft: Mapping | None = None) -> dict:  # fmt: skip
        """What `event` (or a built-in sample of `event_type`) becomes; with `draft` (name,
        trigger, action, fields) only that mapping runs, after the save-time checks."""
        config, problem = self._preview_config(destination_id, draft)
        message = checked_event(event) if event is not None else sample_event(event_type)
        return run_preview(config, message, problem)

    def preview_sample(self, destination_id: str, events: Iterable[Mapping], draft: Mapping | None = None) -> dict | None:
        """The first of `events` (give them newest first) that a mapping of the instance (or the
        draft) would take; the first event when the instance has no mappings; None if none."""
        config, _ = self._preview_config(destination_id, draft)
        for event in events:
            if not config.mappings or any(m.enabled and m.trigger(event) is True for m in config.mappings):
                return dict(event)
        return None

    def _preview_config(self, destination_id: str, draft: Mapping | None) -> tuple[InstanceConfig, str | None]:
        """The routing config (a draft replacing the mappings) and why its settings cannot
        translate yet (None when they can)."""
        record = self.store.get_destination(destination_id)
        if draft is not None:
            self._check_mapping(record, **{key: draft.get(key) for key in DRAFT_FIELDS})
        with_filters = "destination_filters" in rules_for(self.plan).features  # as the router: Business only
        try:
            config, problem = instance_config(self.store, self.catalog, record, with_filters=with_filters), None
        except ConfigError as error:
            config, problem = unsettled_config(self.store, self.catalog, record, with_filters=with_filters), error.message
        if draft is not None:
            config = replace(config, mappings=compile_mappings([_draft_record(draft)]))
        return config, problem


def checked_event(event: Any) -> dict:
    """The event to preview, if ingest would take it (the Tracking API's rules); else ConfigError."""
    message = dict(event) if isinstance(event, Mapping) else event
    try:
        validate(message)
    except InvalidMessage as error:
        raise ConfigError(f"event: {error.message}") from None
    return message


def _draft_record(draft: Mapping) -> Any:
    return SimpleNamespace(name=draft.get("name") or "Draft", trigger=draft["trigger"], action=draft["action"],
                           fields=draft.get("fields") or {}, enabled=True)


def run_preview(config: InstanceConfig, event: dict, settings_problem: str | None = None) -> dict:
    """The preview of one event (pure): outcome `sent`, `filtered`, `failed` or `incomplete`
    (settings missing: the mapped payloads only), the reason, the calls, the requests."""
    if settings_problem is not None:
        return _masked(config, event, "incomplete", settings_problem, _calls(event, config), [])
    decision = route(event, config, sample=lambda: 0.0)
    if decision.filtered:
        return _masked(config, event, "filtered", decision.filtered, [], [])
    calls = _calls(decision.event if decision.event is not None else event, config)
    if decision.failed:
        return _masked(config, event, "failed", decision.failed, calls, [])
    return _masked(config, event, "sent", None, calls, [request_view(item) for item in decision.requests])


def _calls(event: dict, config: InstanceConfig) -> list[dict]:
    """Each matching mapping's name, action and payload (the event with its fields merged in)."""
    if not config.mappings:
        return [{"mapping": None, "action": event.get("type"), "payload": event}]
    try:
        calls = mapped_calls(event, config.mappings, config.destination)
    except MappingFailure:
        return []
    return [{"mapping": mapping.name, "action": mapping.action, "payload": merged} for mapping, merged in calls]


def request_view(request: Request) -> dict:
    """A request as shown: method, URL, headers and the body as text (not yet masked)."""
    body = request.body or b""
    text = body[: SHOWN_BODY_CHARS * 4].decode("utf-8", "replace")[:SHOWN_BODY_CHARS]
    return {"method": request.method, "url": request.url, "headers": dict(request.headers), "body": text,
            "bodyBytes": len(body)}


def _masked(config: InstanceConfig, event: dict, outcome: str, reason: str | None, calls: list, requests: list) -> dict:
    result = {"outcome": outcome, "reason": reason, "event": event, "calls": calls, "requests": requests}
    return mask_exchange(result, config.secrets)
