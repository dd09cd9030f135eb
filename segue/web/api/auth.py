"""Who is calling the API: an API token (`Authorization: Bearer ...`), stored hashed.

A write key is not an API credential: it only admits events into its own source. The app's
session cookie (for the browser) plugs in here too.
"""

from __future__ import annotations

import base64
import binascii

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from segue.control import Actor
from segue.errors import Unauthorized

bearer = HTTPBearer(auto_error=False, description="An API token, from `segue tokens create NAME`.")
NEEDS_TOKEN = "the API needs an API token in `Authorization: Bearer <token>` (create one with `segue tokens create NAME`)"
WRITE_KEY_REFUSED = "a write key only sends events to its own source; it grants no access to the API"


def current_actor(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Actor:
    """The actor behind the request's token; Unauthorized when there is none or it is not valid."""
    store = request.app.state.plane.store
    if credentials is not None:
        token = store.token_for(credentials.credentials)
        if token is not None:
            return Actor(f"token:{token.name}", token.role)
    session_actor = request.scope.get("segue.actor")  # set by the app's session middleware
    if session_actor is not None:
        return session_actor
    if _presents_write_key(request, store):
        raise Unauthorized(WRITE_KEY_REFUSED)
    raise Unauthorized(NEEDS_TOKEN if credentials is None else "unknown or revoked API token")


def _presents_write_key(request: Request, store) -> bool:
    candidate = _credential(request.headers.get("authorization", ""))
    return bool(candidate) and any(source.write_key == candidate for source in store.list_sources())


def _credential(header: str) -> str:
    """The key in a Bearer header, or the user name of a Basic one (how Segment clients send it)."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() != "basic":
        return ""
    try:
        return base64.b64decode(value.strip(), validate=True).decode("utf-8", "replace").partition(":")[0]
    except (binascii.Error, ValueError):
        return ""
