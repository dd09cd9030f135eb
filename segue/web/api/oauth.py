"""Log in to the tool: start a destination's OAuth 2 flow, and the callback the vendor redirects to.

`POST /destinations/{id}/oauth/start` (authenticated) answers the vendor's authorize URL; the
browser goes there, the user grants access and the vendor sends the browser to
`GET /oauth/callback?code=&state=` (no API token: the signed, single-use state is the proof),
which saves the tokens and answers a small page saying whether the tool is connected.
"""

from __future__ import annotations

import html
import threading

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from segue.config import Settings
from segue.control.oauth import OAuthFlow
from segue.errors import NotFound, SegueError
from segue.web.api.deps import ERRORS, Caller
from segue.web.api.schemas import envelope

router = APIRouter(tags=["OAuth"])
_flow_lock = threading.Lock()
PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family: sans-serif; margin: 3em"><h1>{title}</h1><p>{message}</p>
<p>You can close this window and go back to Segue.</p></body></html>"""
CALLBACK_RESPONSES = {
    403: {"description": "The login failed or was refused: the page says why", "content": {"text/html": {}}},
    404: {"description": "The destination is gone", "content": {"text/html": {}}},
}


def get_flow(request: Request) -> OAuthFlow:
    """The app's one OAuth flow (its states live in it), made on first use."""
    state = request.app.state
    with _flow_lock:
        if getattr(state, "oauth", None) is None:
            public_url = getattr(state, "public_url", None) or Settings().public_url
            state.oauth = OAuthFlow(state.plane, public_url)
        return state.oauth


@router.post("/destinations/{destinationId}/oauth/start", response_model=envelope("authorizeUrl", str), responses=ERRORS)
def start_login(destinationId: str, request: Request, caller: Caller):
    """Log in to the tool: the vendor's authorize URL to open in the browser (valid 10 minutes, once).
    The instance needs `clientId` and `clientSecret` of your OAuth app, whose redirect URI is
    `<public URL>/api/v1/oauth/callback`."""
    return {"data": {"authorizeUrl": get_flow(request).start(caller, destinationId)}}


@router.get("/oauth/callback", response_class=HTMLResponse, responses=CALLBACK_RESPONSES)
def oauth_callback(
    request: Request,
    state: str | None = Query(None, description="The state `start` put in the authorize URL."),
    code: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
):
    """Where the vendor sends the browser back: saves the tokens and says whether the tool is connected."""
    if not state:
        return _page("Login failed", "The vendor sent no state back: start the login again.", 403)
    try:
        view = get_flow(request).callback(state, code, error, error_description)
    except SegueError as failure:
        # The state is the caller's only credential: a login it does not prove is forbidden.
        return _page("Login failed", failure.message, 404 if isinstance(failure, NotFound) else 403)
    return _page("Connected", f"{view['name']} is connected: Segue saved its access token.", 200)


def _page(title: str, message: str, status: int) -> HTMLResponse:
    return HTMLResponse(PAGE.format(title=html.escape(title), message=html.escape(message)), status_code=status)
