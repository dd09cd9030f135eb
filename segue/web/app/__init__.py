"""The app: the server-rendered web UI most users meet, mounted at `/` by `segue serve`.

Jinja2 templates, htmx (vendored in static/, see static/NOTICE) and the project's own
stylesheet: every asset is served by Segue itself, so the app works offline. Every page
requires a signed-in user (see `session`); every change goes through the `ControlPlane`.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from segue.control import ControlPlane
from segue.log.protocol import EventLog
from segue.web.app import catalog, connections, destinations, filters, flow, mappings, sources, warehouses, workspace
from segue.web.app.errors import EXCEPTION_HANDLERS
from segue.web.app.login_throttle import LoginThrottle
from segue.web.app.render import HERE
from segue.web.app.session import ROUTES as SESSION_ROUTES
from segue.web.app.session import SessionGuard, session_key

SESSION_COOKIE = "segue_session"
SESSION_SECONDS = 7 * 24 * 3600


def build_web_app(plane: ControlPlane, event_log: EventLog, secret_key: bytes, public_url: str = "",
                  source_counts: Any = None) -> Starlette:
    """The app's ASGI application; `secret_key` is the data dir's (the session key derives from it)."""
    routes = [
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
        *SESSION_ROUTES, *connections.ROUTES, *sources.ROUTES, *catalog.ROUTES, *flow.ROUTES,
        *destinations.ROUTES, *mappings.ROUTES, *filters.ROUTES, *warehouses.ROUTES, *workspace.ROUTES,
    ]
    middleware = [
        Middleware(SessionMiddleware, secret_key=session_key(secret_key), session_cookie=SESSION_COOKIE,
                   max_age=SESSION_SECONDS, same_site="lax", https_only=public_url.startswith("https://")),
        Middleware(SessionGuard),
    ]
    app = Starlette(routes=routes, middleware=middleware, exception_handlers=EXCEPTION_HANDLERS)
    app.state.plane = plane
    app.state.log = event_log
    app.state.public_url = public_url
    app.state.login_throttle = LoginThrottle()
    app.state.source_counts = source_counts  # segue/pipeline/source_counts.py; None: counted from the log
    return app
