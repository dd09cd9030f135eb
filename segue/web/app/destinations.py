"""Destinations: the list, and an instance's page (settings, mappings and their preview, filters, enable,
test, event delivery, delete; the mappings and filters themselves are edited in `mappings` and `filters`)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from segue.control.settings import fields_for_mode
from segue.destinations.settings import InvalidSettings
from segue.errors import ConfigError
from segue.web.app import filters, mappings
from segue.web.app.render import actor, checkbox, flash, form, page, plane, redirect
from segue.web.app.session import safe_path
from segue.web.app.settings_form import errors_by_field, form_fields, submitted_values

HEALTH_WINDOW_SECONDS = 24 * 3600
CHART_HOURS = 24
CHART_W, CHART_H = 480, 120  # the bar chart's viewBox; bars stretch with the page
CHART_SERIES = ("delivered", "retried", "failed")


async def list_destinations(request: Request) -> Response:
    control = plane(request)
    destinations = control.list_destinations()
    health = {d["id"]: await _summary(request, d["id"], HEALTH_WINDOW_SECONDS) for d in destinations}
    sources = {source["id"]: source for source in control.list_sources()}
    return page(request, "destinations.html", nav="destinations", destinations=destinations,
                health=health, sources=sources)


async def instance_page(request: Request, errors: dict | None = None, typed: dict | None = None,
                        status: int = 200) -> Response:
    control = plane(request)
    instance = control.get_destination(request.path_params["destination_id"])
    destination = control.catalog.get(instance["metadata"]["slug"])
    return page(
        request, "destination.html", status=status, nav="destinations", instance=instance, destination=destination,
        source=control.get_source(instance["sourceId"]), setup=bool(request.query_params.get("setup")),
        fields=form_fields(destination.settings, instance["settings"], typed, fields_for_mode(destination, instance["mode"])),
        errors=errors or {},
        delivery=await _summary(request, instance["id"]), chart=await delivery_chart(request, instance["id"]),
        **mappings.section(control, instance, destination), **filters.section(control, instance),
    )


async def save_settings(request: Request) -> Response:
    control, values = plane(request), form(request)
    instance = control.get_destination(request.path_params["destination_id"])
    destination = control.catalog.get(instance["metadata"]["slug"])
    try:
        settings = submitted_values(destination.settings, values, fields_for_mode(destination, instance["mode"]))
        control.update_destination(actor(request), instance["id"], settings=settings, name=values.get("name") or None)
    except InvalidSettings as error:
        return await instance_page(request, errors=errors_by_field(error), typed=values, status=400)
    flash(request, "Settings saved.")
    return redirect(request, f"/destinations/{instance['id']}")


async def set_enabled(request: Request) -> Response:
    control = plane(request)
    enabled = checkbox(form(request), "enabled")
    try:
        instance = control.update_destination(actor(request), request.path_params["destination_id"], enabled=enabled)
    except InvalidSettings as error:
        flash(request, "Fill in the required settings before enabling: " + error.message, "error")
        return redirect(request, f"/destinations/{request.path_params['destination_id']}")
    flash(request, f"{instance['name']} is {'enabled' if enabled else 'disabled'}.")
    for notice in duplicate_notices(control, instance) if enabled else []:
        flash(request, notice, "warning")
    back = form(request).get("back")
    return redirect(request, safe_path(back) if back else f"/destinations/{instance['id']}")


def duplicate_notices(control, instance: dict) -> list[str]:
    """Reminders that data may arrive twice once this instance is live."""
    source = control.get_source(instance["sourceId"])
    name, notices = instance["metadata"].get("name", instance["name"]), []
    if source["type"] == "javascript" and instance["mode"] == "cloud":
        notices.append(f"{source['name']} is a website: remove {name}'s own snippet from its pages, "
                       "or the same events will arrive twice.")
    twins = [d for d in control.list_destinations(source["id"]) if d["enabled"] and d["id"] != instance["id"]
             and d["metadata"]["slug"] == instance["metadata"]["slug"] and d["mode"] != instance["mode"]]
    if twins:
        notices.append(f"{name} is enabled in both cloud and device mode for {source['name']}: "
                       "its data will arrive twice. Disable one of them.")
    return notices


async def test_connection(request: Request) -> Response:
    control, values = plane(request), form(request)
    try:
        result = await asyncio.to_thread(control.test_destination, actor(request), request.path_params["destination_id"],
                                         values.get("event_type") or "track")
    except ConfigError as error:
        return page(request, "test_result.html", error=error.message)
    return page(request, "test_result.html", result=result)


def delete_instance(request: Request) -> Response:
    instance = plane(request).delete_destination(actor(request), request.path_params["destination_id"])
    flash(request, f"{instance['name']} was deleted.")
    return redirect(request, "/destinations")


async def _summary(request: Request, instance_id: str, since_seconds: float | None = None) -> dict | None:
    """The instance's event delivery summary; None where no delivery records are kept."""
    try:
        return await plane(request).delivery_summary(instance_id, since_seconds)
    except ConfigError:
        return None


async def delivery_chart(request: Request, instance_id: str, hours: int = CHART_HOURS) -> dict | None:
    """Delivered / retried / failed per clock hour (UTC) for the last `hours` hours, as bars.

    The delivery stats keep counts per minute but offer no time series, only `summary(since)`;
    so each hour's counts are the difference of two windows that start on hour boundaries (plus
    half a minute, so that the store's minute rounding lands on the boundary's own minute).
    None where no delivery records are kept.
    """
    now = time.time()
    first_hour = int(now // 3600) - hours + 1
    starts = [(first_hour + i) * 3600 for i in range(hours)]
    cumulative = []  # counts from each hour's start until now
    for start in starts:
        summary = await _summary(request, instance_id, max(0.0, time.time() - start - 30))
        if summary is None:
            return None
        cumulative.append({name: summary[name] for name in CHART_SERIES})
    cumulative.append(dict.fromkeys(CHART_SERIES, 0))
    rows = [{"start": start, "label": datetime.fromtimestamp(start, UTC).strftime("%H:00"),
             **{name: max(0, cumulative[i][name] - cumulative[i + 1][name]) for name in CHART_SERIES}}
            for i, start in enumerate(starts)]
    return chart_bars(rows)


def chart_bars(rows: list[dict]) -> dict:
    """The SVG geometry of stacked bars (delivered at the bottom, then retried, then failed)."""
    top = max((sum(row[name] for name in CHART_SERIES) for row in rows), default=0)
    scale = CHART_H / top if top else 0
    slot = CHART_W / max(1, len(rows))
    for index, row in enumerate(rows):
        y, row["rects"] = CHART_H, []
        for name in CHART_SERIES:
            height = row[name] * scale
            if height:
                y -= height
                row["rects"].append({"series": name, "x": round(index * slot + slot * 0.15, 2), "y": round(y, 2),
                                     "width": round(slot * 0.7, 2), "height": round(height, 2)})
    return {"rows": rows, "top": top, "width": CHART_W, "height": CHART_H,
            "total": sum(row[name] for row in rows for name in CHART_SERIES)}


ROUTES = [
    Route("/destinations", list_destinations, methods=["GET"]),
    Route("/destinations/{destination_id}", instance_page, methods=["GET"]),
    Route("/destinations/{destination_id}/settings", save_settings, methods=["POST"]),
    Route("/destinations/{destination_id}/enabled", set_enabled, methods=["POST"]),
    Route("/destinations/{destination_id}/test", test_connection, methods=["POST"]),
    Route("/destinations/{destination_id}/delete", delete_instance, methods=["POST"]),
]
