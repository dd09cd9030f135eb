"""The catalog: destination tiles with search and filters, a Warehouses tab, and each
destination's summary page, where the add-destination flow starts ("Configure").

`?source=<id>` (arriving from a source overview) is carried through every link, so the flow
later skips choosing a source.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from segue.destinations.contract import METHODS
from segue.destinations.docs import docs_page
from segue.destinations.registry import serialize
from segue.web.app.render import page, plane

FILTERS = ("search", "category", "method", "mode", "platform")
MODES = ("cloud", "device")
PLATFORMS = ("browser", "mobile", "server")


def catalog_page(request: Request) -> Response:
    control = plane(request)
    chosen = {name: request.query_params.get(name) or None for name in FILTERS}
    tiles = [serialize(destination) for destination in control.catalog.find(**chosen)]
    source = _source(request)
    context = dict(nav="catalog", tiles=tiles, chosen=chosen, source=source, tab="destinations")
    if request.headers.get("hx-request") and request.headers.get("hx-target") == "tiles":
        return page(request, "catalog_tiles.html", **context)
    categories = sorted({category for d in control.catalog.all() for category in d.categories})
    return page(request, "catalog.html", categories=categories, methods=METHODS, modes=MODES,
                platforms=PLATFORMS, **context)


def warehouses_tab(request: Request) -> Response:
    engines = plane(request).engines.values()
    return page(request, "catalog_warehouses.html", nav="catalog", tab="warehouses", engines=engines,
                source=_source(request))


def summary(request: Request) -> Response:
    destination = plane(request).catalog.get(request.path_params["slug"])
    return page(request, "catalog_summary.html", nav="catalog", tile=serialize(destination),
                destination=destination, source=_source(request), docs_html=docs_html(destination))


def docs_html(destination) -> Markup:
    """The generated documentation page as HTML (raw HTML in it is escaped, not rendered)."""
    renderer = MarkdownIt("commonmark", {"html": False}).enable("table")
    return Markup(renderer.render(docs_page(destination)))


def _source(request: Request) -> dict | None:
    """The source the user came from (`?source=`), if any."""
    ref = request.query_params.get("source")
    return plane(request).get_source(ref) if ref else None


ROUTES = [
    Route("/catalog", catalog_page, methods=["GET"]),
    Route("/catalog/warehouses", warehouses_tab, methods=["GET"]),
    Route("/catalog/{slug}", summary, methods=["GET"]),
]
