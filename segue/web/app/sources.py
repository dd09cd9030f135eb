"""Sources: the list, adding one, and a source's overview (write key, install code, connections)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from segue.config import Settings
from segue.errors import ConfigError
from segue.store.models import SOURCE_TYPES
from segue.web.app import debugger
from segue.web.app.render import actor, flash, form, page, plane, redirect

SOURCE_TYPE_LABELS = {
    "javascript": "Website (analytics.js)", "python": "Python", "node": "Node.js",
    "ios": "iOS", "android": "Android", "http": "HTTP API",
}
DEFAULT_PUBLIC_URL = Settings.__dataclass_fields__["public_url"].default
# Which install instructions each source type shows first; every source also shows HTTP.
INSTALL_TABS = {"javascript": "javascript", "python": "python", "node": "node", "http": "http",
                "ios": "http", "android": "http"}


def list_sources(request: Request) -> Response:
    control = plane(request)
    destinations = control.list_destinations()
    counts = {source["id"]: sum(d["sourceId"] == source["id"] for d in destinations) for source in control.list_sources()}
    return page(request, "sources.html", nav="sources", sources=control.list_sources(), counts=counts,
                labels=SOURCE_TYPE_LABELS)


def new_source(request: Request) -> Response:
    return page(request, "source_new.html", nav="sources", labels=SOURCE_TYPE_LABELS, types=SOURCE_TYPES,
                values={"type": request.query_params.get("type", "javascript")})


def create_source(request: Request) -> Response:
    values = form(request)
    try:
        source = plane(request).create_source(actor(request), values.get("name", "").strip(), values.get("type", ""))
    except ConfigError as error:
        return page(request, "source_new.html", status=400, nav="sources", labels=SOURCE_TYPE_LABELS,
                    types=SOURCE_TYPES, values=values, error=error.message)
    flash(request, f"Source {source['name']} created. Install the code below, then add a destination.")
    return redirect(request, f"/sources/{source['id']}")


def source_overview(request: Request) -> Response:
    control = plane(request)
    source = control.get_source(request.path_params["source_id"])
    connected = control.list_destinations(source["id"])
    return page(
        request, "source.html", nav="sources", source=source, destinations=connected,
        label=SOURCE_TYPE_LABELS.get(source["type"], source["type"]), tab=INSTALL_TABS.get(source["type"], "http"),
        base_url=_base_url(request), write_key=source["writeKeys"][0], event_types=debugger.EVENT_TYPES,
    )


def rotate_key(request: Request) -> Response:
    source = plane(request).rotate_write_key(actor(request), request.path_params["source_id"])
    flash(request, "A new write key is active; the old one stops working within a second. Update your code.", "warning")
    return redirect(request, f"/sources/{source['id']}")


def delete_source(request: Request) -> Response:
    source = plane(request).delete_source(actor(request), request.path_params["source_id"])
    flash(request, f"Source {source['name']} and its destinations were deleted.")
    return redirect(request, "/sources")


def _base_url(request: Request) -> str:
    """Where clients reach this Segue: the public URL when one is configured, else the address in use."""
    configured = request.app.state.public_url
    if configured and configured != DEFAULT_PUBLIC_URL:
        return configured.rstrip("/")
    return str(request.base_url).rstrip("/")


ROUTES = [
    Route("/sources", list_sources, methods=["GET"]),
    Route("/sources/new", new_source, methods=["GET"]),
    Route("/sources", create_source, methods=["POST"]),
    Route("/sources/{source_id}", source_overview, methods=["GET"]),
    Route("/sources/{source_id}/rotate", rotate_key, methods=["POST"]),
    Route("/sources/{source_id}/delete", delete_source, methods=["POST"]),
    Route("/sources/{source_id}/debugger", debugger.stream, methods=["GET"]),
]
