"""Log in to the tool: the OAuth 2 authorization-code flow (RFC 6749 section 4.1) for destinations.

`OAuthFlow.start` builds the vendor's authorize URL with a `state` that is signed (HMAC-SHA256),
bound to one destination instance, valid for 10 minutes and accepted once. `OAuthFlow.callback`
checks that state, exchanges the code at the vendor's token endpoint and saves the tokens into
the instance's settings through the control plane, so they are encrypted at rest like every
secret setting. `refresh` renews one instance's access token (grant_type=refresh_token) and
`refresh_due_tokens` renews every token that expires soon; a failed refresh keeps the old token.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import logging
import secrets
import threading
import time
from typing import Any, Callable, Mapping
from urllib.parse import urlencode

import httpx

from segue.control.access import Actor, require_write
from segue.destinations.common import basic_auth
from segue.errors import ConfigError, SegueError
from segue.pipeline.addresses import httpx_client

log = logging.getLogger(__name__)

STATE_SECONDS = 600
CALLBACK_PATH = "/api/v1/oauth/callback"
TOKEN_TIMEOUT_SECONDS = 10.0
ACTOR = Actor("oauth", "member")  # what the audit trail shows for tokens saved by the flow
# Token endpoints that take the client's credentials as HTTP Basic (RFC 6749 2.3.1) rather than
# in the form body. Candidate for a field of contract.OAuth.
BASIC_CLIENT_AUTH = frozenset({"pipedrive"})
# Token response fields, besides the tokens, that a settings model may keep (alias: response key).
EXTRA_TOKEN_FIELDS = {"instanceUrl": "instance_url", "apiDomain": "api_domain"}


class OAuthError(ConfigError):
    """The flow cannot go on: bad state, vendor refusal, unreachable token endpoint."""

    code = "oauth_failed"


def redirect_uri(public_url: str) -> str:
    """Where the vendor sends the browser back: register this URL in your OAuth app."""
    return public_url.rstrip("/") + CALLBACK_PATH


class StateSigner:
    """Opaque, signed, expiring, single-use `state` values bound to a destination instance id."""

    def __init__(self, key: bytes | None = None, clock: Callable[[], float] = time.time) -> None:
        self._key = key or secrets.token_bytes(32)
        self._clock = clock
        self._used: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self, destination_id: str) -> str:
        payload = f"{destination_id}|{int(self._clock()) + STATE_SECONDS}|{secrets.token_urlsafe(16)}"
        encoded = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
        return f"{encoded}.{self._sign(encoded)}"

    def consume(self, state: str) -> str:
        """The destination id the state was issued for; OAuthError when forged, expired or reused."""
        encoded, _, signature = state.partition(".")
        if not hmac.compare_digest(signature.encode(), self._sign(encoded).encode()):
            raise OAuthError("the login link is not valid: start the login again from the destination's settings")
        destination_id, expires, nonce = _decode(encoded).rsplit("|", 2)
        now = self._clock()
        if now > int(expires):
            raise OAuthError("the login link expired (10 minutes): start the login again")
        with self._lock:
            self._used = {key: until for key, until in self._used.items() if until >= now}
            if nonce in self._used:
                raise OAuthError("the login link was already used: start the login again")
            self._used[nonce] = int(expires)
        return destination_id

    def _sign(self, encoded: str) -> str:
        return hmac.new(self._key, encoded.encode(), hashlib.sha256).hexdigest()


def _decode(encoded: str) -> str:
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()


class OAuthFlow:
    """Start and finish "Log in to <tool>" for the destination instances of one control plane."""

    def __init__(self, plane: Any, public_url: str, key: bytes | None = None, clock: Callable[[], float] = time.time,
                 client: httpx.Client | None = None) -> None:
        self.plane, self.public_url, self.clock, self.client = plane, public_url, clock, client
        self.states = StateSigner(key, clock)

    def start(self, actor: Actor, destination_id: str) -> str:
        """The vendor's authorize URL for this instance (its settings need clientId and clientSecret)."""
        require_write(actor)
        destination, record = _oauth_instance(self.plane, destination_id)
        client_id = _client_credentials(destination, record)[0]
        query = {
            "client_id": client_id, "redirect_uri": redirect_uri(self.public_url), "response_type": "code",
            "state": self.states.issue(record.id), **dict(destination.oauth.extra_authorize_params),
        }
        if destination.oauth.scopes:
            query["scope"] = " ".join(destination.oauth.scopes)
        return f"{destination.oauth.authorize_url}?{urlencode(query)}"

    def callback(self, state: str, code: str | None = None, error: str | None = None,
                 error_description: str | None = None) -> dict:
        """Check the state, exchange the code and save the tokens; the instance's view (masked)."""
        destination_id = self.states.consume(state)
        destination, record = _oauth_instance(self.plane, destination_id)
        if error:
            detail = f": {error_description}" if error_description else ""
            raise OAuthError(f"{destination.name} did not grant access ({error}{detail})", code="oauth_denied")
        if not code:
            raise OAuthError(f"{destination.name} sent no authorization code back")
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri(self.public_url)}
        token = request_token(destination, record, form, self.client, _allow_private(self.plane))
        return _save(self.plane, record, token, self.clock())


def _oauth_instance(plane: Any, destination_id: str) -> tuple[Any, Any]:
    record = plane.store.get_destination(destination_id)
    destination = plane.catalog.get(record.catalog_slug)
    if destination.oauth is None:
        raise OAuthError(f"{destination.name} has no login flow; fill in its credentials instead")
    return destination, record


def _client_credentials(destination: Any, record: Any) -> tuple[str, str]:
    client_id, client_secret = record.settings.get("clientId"), record.secrets.get("clientSecret")
    if not client_id or not client_secret:
        raise OAuthError(
            f"set clientId and clientSecret (from your own {destination.name} OAuth app) before logging in",
            code="missing_client",
        )
    return client_id, client_secret


def request_token(destination: Any, record: Any, form: Mapping[str, str], client: httpx.Client | None = None,
                  allow_private: bool = False) -> dict:
    """POST the form to the token endpoint with the client's credentials; the JSON token response.

    Without `client`, a token endpoint at a private address is refused unless `allow_private`.
    """
    client_id, client_secret = _client_credentials(destination, record)
    headers = {"Accept": "application/json"}
    if destination.slug in BASIC_CLIENT_AUTH:
        headers["Authorization"] = basic_auth(client_id, client_secret)
    else:
        form = {**form, "client_id": client_id, "client_secret": client_secret}
    try:
        with contextlib.nullcontext(client) if client else httpx_client(allow_private) as session:
            response = session.post(destination.oauth.token_url, data=dict(form), headers=headers,
                                    timeout=TOKEN_TIMEOUT_SECONDS)
    except httpx.HTTPError as error:
        raise OAuthError(f"could not reach {destination.name}'s token endpoint: {error}") from None
    return _token(destination, response)


def _token(destination: Any, response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict) or not body.get("access_token"):
        reason = _vendor_error(body) or f"HTTP {response.status_code}"
        raise OAuthError(f"{destination.name} refused the token request: {reason}")
    return body


def _vendor_error(body: Any) -> str | None:
    if not isinstance(body, dict) or not body.get("error"):
        return None
    description = body.get("error_description")
    return f"{body['error']}: {description}" if description else str(body["error"])


def token_settings(token: Mapping, model: type, now: float) -> dict:
    """The settings changes a token response makes (a refresh response without a refresh token
    keeps the stored one; without `expires_in` the expiry is unknown and cleared)."""
    changes: dict[str, Any] = {"accessToken": token["access_token"], "expiresAt": _expires_at(token, now)}
    if token.get("refresh_token"):
        changes["refreshToken"] = token["refresh_token"]
    aliases = {info.alias or name for name, info in model.model_fields.items()}
    changes.update({alias: token[key] for alias, key in EXTRA_TOKEN_FIELDS.items() if alias in aliases and token.get(key)})
    return changes


def _expires_at(token: Mapping, now: float) -> int | None:
    try:
        return int(now + float(token["expires_in"]))
    except (KeyError, TypeError, ValueError, OverflowError):
        return None


def _allow_private(plane: Any) -> bool:
    return bool(getattr(plane, "allow_private_destinations", False))


def _save(plane: Any, record: Any, token: Mapping, now: float) -> dict:
    model = plane.catalog.get(record.catalog_slug).settings
    return plane.update_destination(ACTOR, record.id, settings=token_settings(token, model, now))


def refresh(plane: Any, destination_id: str, now: float | None = None, client: httpx.Client | None = None) -> dict:
    """Renew the instance's access token with its refresh token; the instance's view.

    On failure (OAuthError) nothing is saved: the old tokens stay until a login replaces them.
    """
    destination, record = _oauth_instance(plane, destination_id)
    refresh_token = record.secrets.get("refreshToken")
    if not refresh_token:
        raise OAuthError(f"{destination.name} has no refresh token: log in to {destination.name} again")
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    token = request_token(destination, record, form, client, _allow_private(plane))
    return _save(plane, record, token, time.time() if now is None else now)


def refresh_due_tokens(plane: Any, now: float, margin: float = 300, client: httpx.Client | None = None) -> dict:
    """Refresh every OAuth instance whose token expires within `margin` seconds of `now`.

    Returns `{"refreshed": [ids], "failed": {id: message}}`; failures are logged, never raised.
    """
    report: dict[str, Any] = {"refreshed": [], "failed": {}}
    for record in plane.store.list_destinations():
        if not _due(plane, record, now, margin):
            continue
        try:
            refresh(plane, record.id, now, client)
        except SegueError as error:
            log.warning("refreshing the %s token of destination %s failed: %s", record.catalog_slug, record.id, error)
            report["failed"][record.id] = str(error)
        else:
            report["refreshed"].append(record.id)
    return report


def _due(plane: Any, record: Any, now: float, margin: float) -> bool:
    oauth = record.catalog_slug in plane.catalog and plane.catalog.get(record.catalog_slug).oauth is not None
    expires_at = record.settings.get("expiresAt")
    return oauth and isinstance(expires_at, int) and bool(record.secrets.get("refreshToken")) and expires_at - now <= margin
