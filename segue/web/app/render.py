"""Rendering pages: the Jinja2 environment, the page context, forms already parsed, flashes.

Templates autoescape everything; an event payload or a setting value is always shown as text.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from segue.control import Actor, ControlPlane

HERE = Path(__file__).parent
TEMPLATES = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True))
TEMPLATES.filters["pretty"] = lambda value: json.dumps(value, indent=2, sort_keys=True, default=str)


def body_text(body: Any) -> str:
    """A request or response body to show: pretty JSON when it is JSON, else as it is."""
    try:
        return json.dumps(json.loads(body), indent=2, sort_keys=True) if isinstance(body, str) else str(body)
    except ValueError:
        return body


TEMPLATES.filters["body"] = body_text


def plane(request: Request) -> ControlPlane:
    return request.app.state.plane


def actor(request: Request) -> Actor:
    """The signed-in user (the session guard has already turned strangers away)."""
    return request.scope["segue.actor"]


def form(request: Request) -> dict[str, str]:
    """The POSTed form, parsed (and its CSRF token checked) by the session guard: last value wins."""
    return {name: values[-1] for name, values in request.scope.get("segue.form", {}).items()}


def form_lists(request: Request) -> dict[str, list[str]]:
    """The POSTed form with every value of repeated fields."""
    return request.scope.get("segue.form", {})


def page(request: Request, template: str, status: int = 200, headers: dict | None = None,
         **context: Any) -> HTMLResponse:
    """A template rendered with the signed-in user, the CSRF token and the pending flash messages."""
    session = request.scope.get("session", {})
    context.setdefault("flashes", session.pop("flashes", []) if request.scope.get("segue.actor") else [])
    body = TEMPLATES.get_template(template).render(
        request=request, user=request.scope.get("segue.actor"), csrf=session.get("csrf", ""), **context
    )
    return HTMLResponse(body, status_code=status, headers=headers)


def flash(request: Request, message: str, kind: str = "info") -> None:
    """A message shown once on the next page rendered for this session."""
    request.session.setdefault("flashes", []).append({"kind": kind, "message": message})


def redirect(request: Request, path: str) -> RedirectResponse:
    """303 to `path`; htmx requests get an `HX-Redirect` so the whole page follows."""
    response = RedirectResponse(path, status_code=303)
    if request.headers.get("hx-request"):
        response.headers["HX-Redirect"] = path
    return response


def checkbox(values: dict[str, str], name: str) -> bool:
    return values.get(name, "").lower() in ("on", "true", "1", "yes")


def svg_data_uri(svg: str) -> str:
    """An SVG logo as an `<img>` source: drawn as a picture, any script inside never runs."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


TEMPLATES.filters["svg_uri"] = svg_data_uri


def epoch_text(seconds: Any) -> str:
    """Epoch seconds as `2026-11-29 12:00:00 UTC` (anything else as is)."""
    if not isinstance(seconds, (int, float)):
        return str(seconds)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


TEMPLATES.filters["epoch"] = epoch_text
