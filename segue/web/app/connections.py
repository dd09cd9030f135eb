"""The Connections home: sources on the left, destinations and warehouses on the right.

Each source lists what it is connected to (in text, for everyone) and lines are drawn between
connected rows: an inline SVG computed here from the rows' positions, since every row has the
same fixed height (`ROW_PX` + `GAP_PX`, matched by `.conn-list` in app.css). Each source shows
its live event counts (last hour, last 24 h), refreshed by htmx every 5 s: exact (to the minute)
from the per-source, per-minute counts `segue serve` keeps (segue/pipeline/source_counts.py);
without them, from the event log's newest records of that source, a cheap read capped at
`COUNT_CAP`, shown as "1,000+" beyond it.
A workspace with few connections also gets the Recommended destinations panel: one tool per
category that matters first, and a warehouse.
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from segue.destinations.registry import serialize
from segue.errors import NotFound, StorageUnavailable
from segue.web.app.render import page, plane

ROW_PX, GAP_PX = 84, 8  # one row of either column; keep in step with .conn-list in app.css
COUNT_CAP = 1000
HOUR_MS, DAY_MS = 3600 * 1000, 24 * 3600 * 1000

FEW_CONNECTIONS = 3
RECOMMENDED_CATEGORIES = (
    (("Analytics",), "Analytics",
     "See what people do in your product: funnels, retention and which features they use."),
    (("Email Marketing",), "Email marketing",
     "Reach people by email based on what they did, such as a welcome series or a nudge to come back."),
    (("Livechat", "Customer Success"), "Live chat",
     "Talk to customers with their history at hand, so support knows who they are and what they did."),
)
WAREHOUSE_REASON = "Keep every event in SQL tables you own, for reporting and for questions no tool answers."


async def home(request: Request) -> Response:
    control = plane(request)
    sources = control.list_sources()
    destinations = control.list_destinations()
    warehouses = control.list_warehouses()
    by_source = {source["id"]: [d for d in destinations if d["sourceId"] == source["id"]] for source in sources}
    warehouses_of = {source["id"]: [w for w in warehouses if w["sourceIds"] is None or source["id"] in w["sourceIds"]]
                     for source in sources}
    few = len(destinations) + len(warehouses) < FEW_CONNECTIONS
    names = {s["id"]: s["name"] for s in sources}
    counts = {source["id"]: await source_counts(request, source["id"]) for source in sources}
    return page(
        request, "connections.html", nav="connections", sources=sources, destinations=destinations,
        warehouses=warehouses, by_source=by_source, warehouses_of=warehouses_of,
        source_names=names, counts=counts, warehouse_sources={w["id"]: feeds(w, names) for w in warehouses},
        lines=connection_lines(sources, destinations, warehouses), row_px=ROW_PX, gap_px=GAP_PX,
        recommended=recommended(control, destinations) if few else [],
        recommend_warehouse=few and not warehouses, warehouse_reason=WAREHOUSE_REASON,
    )


def feeds(warehouse: dict, names: dict[str, str]) -> str:
    """The sources a warehouse loads, in words."""
    if warehouse["sourceIds"] is None:
        return "every source"
    return ", ".join(names[i] for i in warehouse["sourceIds"] if i in names) or "no source"


def connection_lines(sources: list[dict], destinations: list[dict], warehouses: list[dict]) -> dict:
    """The SVG overlay between the columns: a curve from each source's row to each destination
    or warehouse row it feeds (x in 0..100, stretched to the gap; y in px, rows being fixed)."""
    left = {source["id"]: index for index, source in enumerate(sources)}
    right = [("d", d) for d in destinations] + [("w", w) for w in warehouses]
    middle = lambda index: index * (ROW_PX + GAP_PX) + ROW_PX / 2  # noqa: E731
    paths = []
    for index, (kind, target) in enumerate(right):
        if kind == "d":
            source_ids = [target["sourceId"]]
        else:
            source_ids = list(left) if target["sourceIds"] is None else target["sourceIds"]
        for source_id in source_ids:
            if source_id not in left:
                continue
            y1, y2 = middle(left[source_id]), middle(index)
            paths.append({"d": f"M0 {y1:g} C50 {y1:g} 50 {y2:g} 100 {y2:g}", "on": bool(target["enabled"]),
                          "source": source_id, "target": target["id"]})
    rows = max(len(sources), len(right))
    return {"paths": paths, "height": max(0, rows * (ROW_PX + GAP_PX) - GAP_PX)}


async def source_counts(request: Request, source_id: str) -> dict:
    """Events the source received in the last hour and 24 h: from the source counts when the
    server keeps them, else from the log's newest `COUNT_CAP` records of it (a window every read
    record falls in is shown as "1,000+")."""
    counter = getattr(request.app.state, "source_counts", None)
    if counter is not None:
        return await _counted(counter, source_id)
    try:
        records = await request.app.state.log.newest(COUNT_CAP, source_id)
    except StorageUnavailable:
        return {"hour": "n/a", "day": "n/a"}
    now_ms = time.time() * 1000
    full = len(records) >= COUNT_CAP

    def window(span_ms: float) -> str:
        n = sum(1 for record in records if record.received_at_ms >= now_ms - span_ms)
        return f"{COUNT_CAP:,}+" if full and n == len(records) else f"{n:,}"

    return {"hour": window(HOUR_MS), "day": window(DAY_MS)}


async def _counted(counter, source_id: str) -> dict:
    """Exact counts, to the minute: each window starts at the beginning of its first minute."""
    now_ms = time.time() * 1000
    try:
        hour = await counter.received(source_id, now_ms - HOUR_MS)
        day = await counter.received(source_id, now_ms - DAY_MS)
    except StorageUnavailable:
        return {"hour": "n/a", "day": "n/a"}
    return {"hour": f"{hour:,}", "day": f"{day:,}"}


async def counts_fragment(request: Request) -> Response:
    """One source's live counts (the htmx poll of the Connections home)."""
    source_id = request.path_params["source_id"]
    try:
        source_id = plane(request).get_source(source_id)["id"]
    except NotFound:
        return Response(status_code=286)  # htmx: stop polling a source that is gone
    return page(request, "conn_counts.html", source={"id": source_id},
                count=await source_counts(request, source_id), flashes=[])


def recommended(control, destinations: list[dict]) -> list[dict]:
    """For each recommended category not yet covered, its first catalog tool and why it matters."""
    used = {category for d in destinations for category in d["metadata"].get("categories", [])}
    picks = []
    for categories, title, reason in RECOMMENDED_CATEGORIES:
        if used.intersection(categories):
            continue
        choice = next((d for d in control.catalog.all() if set(d.categories).intersection(categories)), None)
        if choice is not None:
            picks.append({"title": title, "reason": reason, "tile": serialize(choice)})
    return picks


ROUTES = [
    Route("/", home, methods=["GET"]),
    Route("/connections/sources/{source_id}/counts", counts_fragment, methods=["GET"]),
]
