"""A destination instance's mappings: list, add, edit, enable, reorder, delete, and the preview.

Every change goes through the control plane, whose errors name their field (`trigger: invalid
FQL at position 8: ...`), so the editor shows each beside its field. The preview runs the
router's own code (`ControlPlane.preview_destination`) on a sample: the newest event of the
instance's source that a mapping takes (read from the event log), a built-in sample of a
method, or pasted JSON. The editor previews the mapping being edited, before it is saved.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from segue.control.access import require_write
from segue.errors import ConfigError, NotFound, StorageUnavailable
from segue.web.app.render import actor, checkbox, flash, form, page, plane, redirect

FIELD_NAMES = ("name", "trigger", "action", "fields")
SAMPLE_LOOKBACK = 200  # newest events of the source searched for one a mapping takes
SAMPLE_CHOICES = ("newest", "builtin", "paste")


def section(control, instance: dict, destination: Any) -> dict:
    """What the instance page's Mappings section shows."""
    mappings = control.list_mappings(instance["id"])
    presets = {(preset.name, preset.trigger, preset.action) for preset in destination.presets}
    for item in mappings:
        item["preset"] = (item["name"], item["trigger"], item["action"]) in presets and not item["fields"]
        item["fieldsText"] = json.dumps(item["fields"], sort_keys=True) if item["fields"] else ""
    return {"mappings": mappings, "presets": list(destination.presets), "sample_types": destination.methods}


def errors_by_field(error: ConfigError) -> dict[str, str]:
    """`{"trigger": "invalid FQL ..."}` from a control-plane error that names its field, else `{"": message}`."""
    field, _, rest = error.message.partition(": ")
    return {field: rest} if field in FIELD_NAMES and rest else {"": error.message}


def _editor(request: Request, mapping: dict, errors: dict | None = None, status: int = 200) -> Response:
    control = plane(request)
    instance = control.get_destination(request.path_params["destination_id"])
    destination = control.catalog.get(instance["metadata"]["slug"])
    return page(request, "mapping_edit.html", status=status, nav="destinations", instance=instance,
                destination=destination, source=control.get_source(instance["sourceId"]), mapping=mapping,
                errors=errors or {}, sample_types=destination.methods)


def new_mapping(request: Request) -> Response:
    blank = {"id": None, "name": "", "trigger": 'type = "track"', "action": "track", "fieldsText": "{}", "enabled": True}
    return _editor(request, blank)


def edit_mapping(request: Request) -> Response:
    mapping = _find(request)
    return _editor(request, {**mapping, "fieldsText": json.dumps(mapping["fields"], indent=2, sort_keys=True)})


def _find(request: Request) -> dict:
    wanted = request.path_params["mapping_id"]
    for item in plane(request).list_mappings(request.path_params["destination_id"]):
        if item["id"] == wanted:
            return item
    raise NotFound(f"this destination has no mapping {wanted!r}")


def submitted(values: dict[str, str]) -> dict:
    """The typed-in mapping; ConfigError (naming `fields`) when the fields are not a JSON object."""
    text = values.get("fields", "").strip() or "{}"
    try:
        fields = json.loads(text)
    except ValueError as error:
        raise ConfigError(f"fields: not valid JSON ({error})") from None
    if not isinstance(fields, dict):
        raise ConfigError('fields: must be a JSON object, e.g. {"event": {"@path": "$.name"}}')
    return {"name": values.get("name", "").strip(), "trigger": values.get("trigger", ""),
            "action": values.get("action", ""), "fields": fields}


def save_mapping(request: Request) -> Response:
    control, values = plane(request), form(request)
    instance_id, mapping_id = request.path_params["destination_id"], request.path_params.get("mapping_id")
    try:
        mapping = submitted(values)
        enabled = checkbox(values, "enabled")
        if mapping_id is None:
            control.create_mapping(actor(request), instance_id, **mapping, enabled=enabled)
        else:
            control.update_mapping(actor(request), instance_id, mapping_id, **mapping, enabled=enabled)
    except ConfigError as error:
        typed = {"id": mapping_id, **{name: values.get(name, "") for name in FIELD_NAMES},
                 "fieldsText": values.get("fields", ""), "enabled": checkbox(values, "enabled")}
        return _editor(request, typed, errors_by_field(error), status=error.status)
    flash(request, f"Mapping {mapping['name']!r} saved.")
    return redirect(request, f"/destinations/{instance_id}#mappings-heading")


def set_enabled(request: Request) -> Response:
    instance_id, enabled = request.path_params["destination_id"], checkbox(form(request), "enabled")
    mapping = plane(request).update_mapping(actor(request), instance_id, request.path_params["mapping_id"], enabled=enabled)
    flash(request, f"Mapping {mapping['name']!r} is {'enabled' if enabled else 'disabled'}.")
    return redirect(request, f"/destinations/{instance_id}#mappings-heading")


def move(request: Request) -> Response:
    control, instance_id = plane(request), request.path_params["destination_id"]
    current = _find(request)
    order = [item["id"] for item in control.list_mappings(instance_id)]
    step = -1 if form(request).get("direction") == "up" else 1
    control.update_mapping(actor(request), instance_id, current["id"], position=max(0, order.index(current["id"]) + step))
    flash(request, f"Mapping {current['name']!r} moved {'up' if step < 0 else 'down'}.")
    return redirect(request, f"/destinations/{instance_id}#mappings-heading")


def delete(request: Request) -> Response:
    instance_id = request.path_params["destination_id"]
    mapping = plane(request).delete_mapping(actor(request), instance_id, request.path_params["mapping_id"])
    flash(request, f"Mapping {mapping['name']!r} was deleted.")
    return redirect(request, f"/destinations/{instance_id}#mappings-heading")


def add_presets(request: Request) -> Response:
    """Add the destination's default mappings (its presets) that the instance does not have."""
    control, instance_id = plane(request), request.path_params["destination_id"]
    require_write(actor(request))  # even when every preset is there already and nothing would change
    instance = control.get_destination(instance_id)
    have = {(item["name"], item["trigger"], item["action"]) for item in control.list_mappings(instance_id)}
    for preset in control.catalog.get(instance["metadata"]["slug"]).presets:
        if (preset.name, preset.trigger, preset.action) not in have:
            control.create_mapping(actor(request), instance_id, name=preset.name, trigger=preset.trigger,
                                   action=preset.action, fields=dict(preset.fields))
    flash(request, "The default mappings were added.")
    return redirect(request, f"/destinations/{instance_id}#mappings-heading")


async def preview(request: Request) -> Response:
    """The preview fragment: the sample, each mapping's payload, the requests (or why not)."""
    control, values = plane(request), form(request)
    instance_id = request.path_params["destination_id"]
    try:
        draft = submitted(values) if values.get("draft") else None
        event, note = await _sample(request, instance_id, values, draft)
        result = control.preview_destination(instance_id, event, values.get("event_type") or "track", draft)
    except ConfigError as error:
        return page(request, "mapping_preview.html", errors=errors_by_field(error), flashes=[])
    return page(request, "mapping_preview.html", result=result, note=note, errors={}, flashes=[])


async def _sample(request: Request, instance_id: str, values: dict, draft: dict | None) -> tuple[dict | None, str]:
    """The chosen sample event (None: the built-in one) and a sentence saying where it came from."""
    choice, event_type = values.get("sample", "newest"), values.get("event_type") or "track"
    if choice == "paste":
        return _pasted(values.get("event_json", "")), "The event you pasted."
    if choice == "newest":
        event = plane(request).preview_sample(instance_id, await _newest(request, instance_id), draft)
        if event is not None:
            return event, "The newest event of the source that a mapping takes."
        return None, f"No recent event of the source matches; showing the built-in {event_type} sample instead."
    return None, f"The built-in {event_type} sample."


def _pasted(text: str) -> dict:
    if not text.strip():
        raise ConfigError("event: paste an event (a JSON object) into “Pasted event (JSON)”, then choose Preview")
    try:
        event = json.loads(text)
    except ValueError as error:
        raise ConfigError(f"event: not valid JSON ({error})") from None
    if not isinstance(event, dict):
        raise ConfigError("event: paste one event, a JSON object")
    return event


async def _newest(request: Request, instance_id: str) -> list[dict]:
    """The source's newest events, newest first ([] when the log cannot be read)."""
    source_id = plane(request).get_destination(instance_id)["sourceId"]
    try:
        records = await request.app.state.log.newest(SAMPLE_LOOKBACK, source_id)
    except StorageUnavailable:
        return []
    return [orjson.loads(record.payload) for record in reversed(records)]


ROUTES = [
    Route("/destinations/{destination_id}/mappings/new", new_mapping, methods=["GET"]),
    Route("/destinations/{destination_id}/mappings", save_mapping, methods=["POST"]),
    Route("/destinations/{destination_id}/mappings/presets", add_presets, methods=["POST"]),
    Route("/destinations/{destination_id}/mappings/{mapping_id}", edit_mapping, methods=["GET"]),
    Route("/destinations/{destination_id}/mappings/{mapping_id}", save_mapping, methods=["POST"]),
    Route("/destinations/{destination_id}/mappings/{mapping_id}/enabled", set_enabled, methods=["POST"]),
    Route("/destinations/{destination_id}/mappings/{mapping_id}/move", move, methods=["POST"]),
    Route("/destinations/{destination_id}/mappings/{mapping_id}/delete", delete, methods=["POST"]),
    Route("/destinations/{destination_id}/preview", preview, methods=["POST"]),
]
