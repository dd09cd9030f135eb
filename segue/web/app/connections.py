"""The Connections home: sources on the left, destinations and warehouses on the right.

Each source lists what it is connected to; a workspace with few connections also gets the
Recommended destinations panel: one tool per category that matters first, and a warehouse.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from segue.destinations.registry import serialize
from segue.web.app.render import page, plane

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


def home(request: Request) -> Response:
    control = plane(request)
    sources = control.list_sources()
    destinations = control.list_destinations()
    warehouses = control.list_warehouses()
    by_source = {source["id"]: [d for d in destinations if d["sourceId"] == source["id"]] for source in sources}
    few = len(destinations) + len(warehouses) < FEW_CONNECTIONS
    return page(
        request, "connections.html", nav="connections", sources=sources, destinations=destinations,
        warehouses=warehouses, by_source=by_source, source_names={s["id"]: s["name"] for s in sources},
        recommended=recommended(control, destinations) if few else [],
        recommend_warehouse=few and not warehouses, warehouse_reason=WAREHOUSE_REASON,
    )


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


ROUTES = [Route("/", home, methods=["GET"])]
