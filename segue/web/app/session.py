"""Signing in: the login page, the session guard in front of every page, CSRF tokens.

The session lives in a signed cookie (Starlette's SessionMiddleware) whose key is derived from
the data dir's secret key. `SessionGuard` runs inside it: it turns anyone not signed in to the
login page, puts the signed-in user in `scope["segue.actor"]` (the REST API's `current_actor`
reads the same key), and refuses any POST whose CSRF token does not match the session's.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Callable
from urllib.parse import parse_qs, quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from segue.control import Actor
from segue.errors import NotFound
from segue.web.app.render import form, page, redirect

STATIC_PATH = "/static/"
PUBLIC_PATHS = ("/login", STATIC_PATH)
MAX_FORM_BYTES = 1_000_000
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def session_key(secret_key: bytes) -> str:
    """The cookie-signing key: derived from (never equal to) the key that seals stored secrets."""
    return hmac.new(secret_key, b"segue app session cookie", hashlib.sha256).hexdigest()


def csrf_token(session: dict) -> str:
    """This session's CSRF token, made on first use."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


class SessionGuard:
    """ASGI middleware: login required, signed-in actor in the scope, CSRF checked on POST."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session = scope["session"]
        csrf_token(session)
        if scope["method"] in UNSAFE_METHODS:
            receive, refusal = await _checked_form(scope, receive, session)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        if scope["path"].startswith(STATIC_PATH):
            await self.app(scope, receive, send)
            return
        actor = _signed_in(scope, session)
        if actor is None and not scope["path"].startswith(PUBLIC_PATHS):
            await _to_login(scope).__call__(scope, receive, send)
            return
        if actor is not None:
            scope["segue.actor"] = actor
        await self.app(scope, receive, send)


def _signed_in(scope: dict, session: dict) -> Actor | None:
    """The session's user as an Actor, with their current role; None if absent or removed."""
    username = session.get("user")
    if not username:
        return None
    try:
        user = scope["app"].state.plane.store.get_user(username)
    except NotFound:
        session.clear()
        return None
    return Actor(f"user:{user.username}", user.role)


async def _checked_form(scope: dict, receive: Callable, session: dict) -> tuple[Callable, Response | None]:
    """Read the (small, urlencoded) body, check its CSRF token, and replay it to the app."""
    body = await _read_body(receive)
    if body is None:
        return receive, PlainTextResponse("request body too large", status_code=413)
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    scope["segue.form"] = fields
    sent = _header(scope, b"x-csrf-token") or fields.get("csrf", [""])[-1]
    if not hmac.compare_digest(sent, session["csrf"]):
        return receive, PlainTextResponse("the form has expired: reload the page and try again", status_code=403)
    return _replay(body), None


async def _read_body(receive: Callable) -> bytes | None:
    chunks, size = [], 0
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > MAX_FORM_BYTES:
            return None
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes) -> Callable:
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _header(scope: dict, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return ""


def _to_login(scope: dict) -> Response:
    target = scope["path"] + (f"?{scope['query_string'].decode()}" if scope.get("query_string") else "")
    location = f"/login?next={quote(target, safe='')}"
    if _header(scope, b"hx-request"):
        return Response(status_code=401, headers={"HX-Redirect": location})
    if _header(scope, b"accept") == "text/event-stream":
        return PlainTextResponse("sign in first", status_code=401)
    return RedirectResponse(location, status_code=303)


def login_page(request: Request) -> Response:
    return page(request, "login.html", next=safe_path(request.query_params.get("next")))


def login(request: Request) -> Response:
    values = form(request)
    username, target = values.get("username", ""), safe_path(values.get("next"))
    throttle, address = request.app.state.login_throttle, request.client.host if request.client else ""
    refusal = throttle.refusal(username, address)
    if refusal is not None:
        return page(request, "login.html", status=429, next=target, username=username, error=refusal.message,
                    headers={"Retry-After": str(refusal.retry_after)})
    user = request.app.state.plane.store.authenticate(username, values.get("password", ""))
    if user is None:
        throttle.failed(username, address)
        return page(request, "login.html", status=400, next=target, username=username,
                    error="Wrong user name or password.")
    throttle.succeeded(username)
    request.session.clear()  # a fresh session (and CSRF token) for the signed-in user
    request.session["user"] = user.username
    csrf_token(request.session)
    return RedirectResponse(target, status_code=303)


def logout(request: Request) -> Response:
    request.session.clear()
    return redirect(request, "/login")


def safe_path(target: str | None) -> str:
    """Only a path on this site (`/x`, not `//evil.example` or `https://...`)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


ROUTES = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
