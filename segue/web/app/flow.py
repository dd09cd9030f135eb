"""Adding a destination: choose the source (or confirm the one the user came from), name the
instance, pick its connection mode, create it disabled, then go on to its connection settings.

A source the destination cannot serve is shown disabled with the reason; a source that has
received methods the destination does not take gets a warning (from its newest events). The
mode choice follows the catalog: a destination with both modes offers cloud and device (device
only for website and mobile sources); one with a single mode gets that mode, without a choice.
"""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from segue.destinations.registry import serialize
from segue.errors import ConfigError
from segue.web.app.render import actor, form, page, plane, redirect
from segue.web.app.sources import SOURCE_TYPE_LABELS

SOURCE_KINDS = {"javascript": "web", "ios": "mobile", "android": "mobile"}  # everything else: server
KIND_WORDS = {"web": "website", "mobile": "mobile app", "server": "server"}
MODE_LABELS = {
    "cloud": ("Cloud mode", "Segue sends the events to {name} from its servers."),
    "device": ("Device mode", "{name}'s own code runs in your visitors' browsers, loaded by analytics.js "
                              "(website and mobile sources only; settings that are not secret reach the browser)."),
}
RECENT_EVENTS = 500


async def choose_source(request: Request, error: str | None = None, status: int = 200) -> Response:
    control = plane(request)
    destination = control.catalog.get(request.path_params["slug"])
    fixed = request.query_params.get("source") or form(request).get("source_fixed")
    sources = [control.get_source(fixed)] if fixed else control.list_sources()
    choices = [await _choice(request, destination, source) for source in sources]
    return page(request, "flow_source.html", status=status, nav="catalog", destination=destination,
                tile=serialize(destination), choices=choices, fixed=bool(fixed), error=error,
                name=form(request).get("name") or destination.name,
                modes=mode_choices(destination, sources[0] if fixed and sources else None),
                mode=form(request).get("mode") or "cloud")


async def confirm_source(request: Request) -> Response:
    values = form(request)
    slug = request.path_params["slug"]
    if not values.get("source"):
        return await choose_source(request, error="Choose a source first.", status=400)
    try:
        created = plane(request).create_destination(
            actor(request), source=values["source"], slug=slug, name=values.get("name", "").strip() or None,
            mode=values.get("mode") if values.get("mode") in MODE_LABELS else None,
        )
    except ConfigError as error:
        return await choose_source(request, error=error.message, status=400)
    return redirect(request, f"/destinations/{created['id']}?setup=1")


async def _choice(request: Request, destination, source: dict) -> dict:
    """A source as the chooser shows it: whether it can be picked, and any warning."""
    reason = unserved_reason(destination, source)
    unaccepted = [] if reason else sorted(await received_methods(request, source["id"]) - set(destination.methods))
    warning = (
        f"{source['name']} has received {', '.join(unaccepted)} events, which {destination.name} does not take; "
        "they will not be sent to it." if unaccepted else None
    )
    return {"source": source, "label": SOURCE_TYPE_LABELS.get(source["type"], source["type"]),
            "reason": reason, "warning": warning}


def unserved_reason(destination, source: dict) -> str | None:
    """Why `destination` cannot take events from `source`, or None when it can."""
    kind = SOURCE_KINDS.get(source["type"], "server")
    modes = serialize(destination)["connectionModes"]
    if any(modes[mode][kind] for mode in modes):
        return None
    served = [KIND_WORDS[k] for k in ("web", "mobile", "server") if any(modes[m][k] for m in modes)]
    return (f"{destination.name} does not take events from {KIND_WORDS[kind]} sources; "
            f"it serves {', '.join(served) or 'no'} sources.")


def mode_choices(destination, source: dict | None) -> list[dict]:
    """The connection modes to offer, from the catalog's connection modes; none when there is
    nothing to choose. With a fixed source, only the modes that serve its kind (device mode
    never serves server sources)."""
    served = serialize(destination)["connectionModes"]
    kinds = [SOURCE_KINDS.get(source["type"], "server")] if source else ["web", "mobile", "server"]
    modes = [mode for mode in ("cloud", "device") if any(served[mode][kind] for kind in kinds)]
    if len(modes) < 2:
        return []
    return [{"value": mode, "label": MODE_LABELS[mode][0], "help": MODE_LABELS[mode][1].format(name=destination.name)}
            for mode in modes]


async def received_methods(request: Request, source_id: str) -> set[str]:
    """The message types among the source's newest events."""
    records = await request.app.state.log.newest(RECENT_EVENTS, source_id)
    return {orjson.loads(record.payload).get("type") for record in records} - {None}


ROUTES = [
    Route("/catalog/{slug}/configure", choose_source, methods=["GET"]),
    Route("/catalog/{slug}/configure", confirm_source, methods=["POST"]),
]
