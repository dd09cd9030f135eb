"""A destination instance's Destination Filters (Business plan): list, add, edit, enable, delete.

A filter is a title, an FQL condition and its actions: drop the event, keep a sample of it,
drop some properties, or keep only some. Properties are typed one dotted path a line
(`properties.email`, `context.traits.email`, `userId` for the top level), the control plane's
`{"properties": ["email"], "": ["userId"]}`. On other plans the section and the editor say why
filters cannot be changed and which plan allows it; the control plane refuses them anyway.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from segue.control.plans import require_feature
from segue.errors import ConfigError, NotFound, PlanLimit
from segue.web.app.render import actor, checkbox, flash, form, page, plane, redirect

# (action, its checkbox, its one-path-a-line text box, the verb an error uses)
PROPERTY_ACTIONS = (("DROP_PROPERTIES", "drop_properties", "drop_fields", "drop"),
                    ("ALLOW_PROPERTIES", "allow_properties", "allow_fields", "keep"))


def plan_rule(control) -> str | None:
    """Why filters cannot be changed on this workspace's plan, or None when they can."""
    try:
        require_feature(control.plan, "destination_filters")
    except PlanLimit as error:
        return error.message
    return None


def section(control, instance: dict) -> dict:
    """What the instance page's Filters section shows."""
    filters = control.list_filters(instance["id"])
    for item in filters:
        item["summary"] = describe(item["actions"])
    return {"filters": filters, "filter_rule": plan_rule(control)}


def describe(actions: list[dict]) -> str:
    """The actions in words: `Drop the event`, `Keep 10%`, `Drop properties.email`..."""
    words = []
    for action in actions:
        kind = action.get("type")
        if kind == "DROP":
            words.append("Drop the event")
        elif kind == "SAMPLE":
            by = f" by {action['path']}" if action.get("path") else ""
            words.append(f"Keep {action.get('percent', 0) * 100:g}%{by}")
        else:
            verb = "Drop" if kind == "DROP_PROPERTIES" else "Keep only"
            words.append(f"{verb} {', '.join(paths_text(action.get('fields') or {}).splitlines())}")
    return "; ".join(words)


def paths_text(fields: dict[str, list[str]]) -> str:
    """`{"properties": ["email"], "": ["userId"]}` as one dotted path a line."""
    return "\n".join(f"{obj}.{name}" if obj else name for obj, names in fields.items() for name in names)


def parsed_paths(text: str) -> dict[str, list[str]]:
    """One dotted path a line back into `{object path: [field names]}`."""
    fields: dict[str, list[str]] = {}
    for line in text.splitlines():
        path = line.strip()
        if path:
            obj, _, name = path.rpartition(".")
            fields.setdefault(obj, []).append(name)
    return fields


def submitted_actions(values: dict[str, str]) -> list[dict]:
    """The ticked actions; ConfigError when a sample percent is not a number from 0 to 100."""
    actions: list[dict] = []
    if checkbox(values, "drop"):
        actions.append({"type": "DROP"})
    if checkbox(values, "sample"):
        actions.append(_sample_action(values))
    for kind, tick, text, verb in PROPERTY_ACTIONS:
        if checkbox(values, tick):
            fields = parsed_paths(values.get(text, ""))
            if not fields:
                raise ConfigError(f"list at least one property to {verb}, one a line (e.g. properties.email)")
            actions.append({"type": kind, "fields": fields})
    return actions


def _sample_action(values: dict[str, str]) -> dict:
    try:
        percent = float(values.get("percent", ""))
    except ValueError:
        percent = -1.0
    if not 0 <= percent <= 100:
        raise ConfigError("a sample keeps a percentage of events: a number from 0 to 100")
    action = {"type": "SAMPLE", "percent": percent / 100}
    if values.get("sample_path", "").strip():
        action["path"] = values["sample_path"].strip()
    return action


def form_view(item: dict) -> dict:
    """A saved filter as the editor's inputs."""
    by_type = {action["type"]: action for action in item["actions"]}
    sample = by_type.get("SAMPLE", {})
    return {
        "id": item["id"], "title": item["title"], "condition": item["if"], "enabled": item["enabled"],
        "drop": "DROP" in by_type, "sample": bool(sample), "percent": f"{sample.get('percent', 0.1) * 100:g}",
        "sample_path": sample.get("path", ""), "drop_properties": "DROP_PROPERTIES" in by_type,
        "drop_fields": paths_text(by_type.get("DROP_PROPERTIES", {}).get("fields", {})),
        "allow_properties": "ALLOW_PROPERTIES" in by_type,
        "allow_fields": paths_text(by_type.get("ALLOW_PROPERTIES", {}).get("fields", {})),
    }


def typed_view(values: dict[str, str], filter_id: str | None) -> dict:
    """The editor's inputs as typed, after a refused save."""
    ticks = {name: checkbox(values, name) for name in ("enabled", "drop", "sample", "drop_properties", "allow_properties")}
    texts = {name: values.get(name, "") for name in ("title", "condition", "percent", "sample_path", "drop_fields", "allow_fields")}
    return {"id": filter_id, **ticks, **texts}


def _editor(request: Request, item: dict, error: str | None = None, status: int = 200) -> Response:
    control = plane(request)
    instance = control.get_destination(request.path_params["destination_id"])
    return page(request, "filter_edit.html", status=status, nav="destinations", instance=instance, item=item,
                error=error, filter_rule=plan_rule(control))


def new_filter(request: Request) -> Response:
    blank = {"id": None, "title": "", "condition": 'event = "Test Event"', "enabled": True, "drop": True,
             "sample": False, "percent": "10", "sample_path": "", "drop_properties": False, "drop_fields": "",
             "allow_properties": False, "allow_fields": ""}
    return _editor(request, blank)


def edit_filter(request: Request) -> Response:
    return _editor(request, form_view(_find(request)))


def _find(request: Request) -> dict:
    wanted = request.path_params["filter_id"]
    for item in plane(request).list_filters(request.path_params["destination_id"]):
        if item["id"] == wanted:
            return item
    raise NotFound(f"this destination has no filter {wanted!r}")


def save_filter(request: Request) -> Response:
    control, values = plane(request), form(request)
    instance_id, filter_id = request.path_params["destination_id"], request.path_params.get("filter_id")
    try:
        change = {"title": values.get("title", "").strip(), "condition": values.get("condition", ""),
                  "actions": submitted_actions(values), "enabled": checkbox(values, "enabled")}
        if filter_id is None:
            control.create_filter(actor(request), instance_id, **change)
        else:
            control.update_filter(actor(request), instance_id, filter_id, **change)
    except ConfigError as error:
        return _editor(request, typed_view(values, filter_id), error.message, status=error.status)
    flash(request, f"Filter {change['title']!r} saved.")
    return redirect(request, f"/destinations/{instance_id}#filters-heading")


def set_enabled(request: Request) -> Response:
    instance_id, enabled = request.path_params["destination_id"], checkbox(form(request), "enabled")
    try:
        item = plane(request).update_filter(actor(request), instance_id, request.path_params["filter_id"], enabled=enabled)
        flash(request, f"Filter {item['title']!r} is {'enabled' if enabled else 'disabled'}.")
    except PlanLimit as error:
        flash(request, error.message, "error")
    return redirect(request, f"/destinations/{instance_id}#filters-heading")


def delete(request: Request) -> Response:
    instance_id = request.path_params["destination_id"]
    item = plane(request).delete_filter(actor(request), instance_id, request.path_params["filter_id"])
    flash(request, f"Filter {item['title']!r} was deleted.")
    return redirect(request, f"/destinations/{instance_id}#filters-heading")


ROUTES = [
    Route("/destinations/{destination_id}/filters/new", new_filter, methods=["GET"]),
    Route("/destinations/{destination_id}/filters", save_filter, methods=["POST"]),
    Route("/destinations/{destination_id}/filters/{filter_id}", edit_filter, methods=["GET"]),
    Route("/destinations/{destination_id}/filters/{filter_id}", save_filter, methods=["POST"]),
    Route("/destinations/{destination_id}/filters/{filter_id}/enabled", set_enabled, methods=["POST"]),
    Route("/destinations/{destination_id}/filters/{filter_id}/delete", delete, methods=["POST"]),
]
