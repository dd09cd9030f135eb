"""Log in to the tool: the OAuth 2 authorization-code flow against a local authorization server.

The server below answers `/authorize` and `/token` as RFC 6749 says (form-encoded token
requests, client credentials in the body, JSON token responses); the catalog's HubSpot entry
points at it.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from segue.control import OPERATOR, ControlPlane
from segue.control.oauth import OAuthError, OAuthFlow, StateSigner, refresh, refresh_due_tokens
from segue.destinations.registry import Catalog, load_catalog
from segue.web.api import build_api
from tests.clock import FakeClock

CLIENT_ID, CLIENT_SECRET = "client-123", "client-secret-456"
PUBLIC_URL = "http://testserver"
REDIRECT_URI = PUBLIC_URL + "/api/v1/oauth/callback"


class AuthorizationServer(BaseHTTPRequestHandler):
    """`GET /authorize` redirects back with a code (or `error=access_denied`); `POST /token` grants."""

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        server = self.server
        if parts.path != "/authorize" or query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
            return self._json(400, {"error": "invalid_request"})
        server.authorize_queries.append(query)
        if server.deny:
            answer = {"error": "access_denied", "error_description": "The user refused", "state": query["state"]}
        else:
            code = secrets.token_hex(8)
            server.codes[code] = query["redirect_uri"]
            answer = {"code": code, "state": query["state"]}
        self.send_response(302)
        self.send_header("Location", f"{query['redirect_uri']}?{urlencode(answer)}")
        self.end_headers()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
        self.server.token_requests.append(form)
        if self.headers.get("Content-Type") != "application/x-www-form-urlencoded":
            return self._json(400, {"error": "invalid_request"})
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return self._json(401, {"error": "invalid_client"})
        if self.server.fail_refresh and form.get("grant_type") == "refresh_token":
            return self._json(400, {"error": "invalid_grant", "error_description": "refresh token revoked"})
        self._grant(form)

    def _grant(self, form: dict) -> None:
        server = self.server
        if form.get("grant_type") == "authorization_code":
            if server.codes.pop(form.get("code"), None) != form.get("redirect_uri"):
                return self._json(400, {"error": "invalid_grant"})
            server.issued += 1
            return self._json(200, {"access_token": f"access-{server.issued}", "refresh_token": "refresh-1",
                                    "expires_in": 1800, "token_type": "bearer"})
        if form.get("grant_type") == "refresh_token" and form.get("refresh_token") == "refresh-1":
            server.issued += 1
            return self._json(200, {"access_token": f"access-{server.issued}", "expires_in": 1800, "token_type": "bearer"})
        self._json(400, {"error": "unsupported_grant_type"})

    def _json(self, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def vendor():
    server = ThreadingHTTPServer(("127.0.0.1", 0), AuthorizationServer)
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    server.codes, server.authorize_queries, server.token_requests = {}, [], []
    server.deny = server.fail_refresh = False
    server.issued = 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def plane(store, vendor):
    """The control plane over a catalog whose HubSpot logs in at the local server."""
    catalog = load_catalog()
    hubspot = catalog.get("hubspot")
    oauth = dataclasses.replace(hubspot.oauth, authorize_url=f"{vendor.url}/authorize", token_url=f"{vendor.url}/token")
    others = [d for d in catalog.all() if d.slug != "hubspot"]
    return ControlPlane(store, Catalog([*others, dataclasses.replace(hubspot, oauth=oauth)]), allow_private_destinations=True)


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def app(plane, clock):
    api = build_api(plane)
    api.state.oauth = OAuthFlow(plane, PUBLIC_URL, clock=clock)
    return Starlette(routes=[Mount("/api", app=api)])


@pytest.fixture
def instance(plane):
    source = plane.create_source(OPERATOR, "Website", "javascript")
    settings = {"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET, "portalId": "1234567"}
    return plane.create_destination(OPERATOR, source=source["id"], slug="hubspot", settings=settings)


def authorize(owner: TestClient, destination_id: str) -> str:
    """Start the login and follow the browser to the vendor: the callback URL it is sent back to."""
    response = owner.post(f"/api/v1/destinations/{destination_id}/oauth/start")
    assert response.status_code == 200, response.text
    redirect = httpx.get(response.json()["data"]["authorizeUrl"], follow_redirects=False)
    assert redirect.status_code == 302
    return redirect.headers["Location"]


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_start_builds_the_authorize_url(owner, instance, vendor):
    authorize(owner, instance["id"])
    (query,) = vendor.authorize_queries
    assert query["client_id"] == CLIENT_ID and query["response_type"] == "code"
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["scope"].split() == ["oauth", "crm.objects.contacts.write", "crm.objects.companies.write",
                                      "analytics.behavioral_events.send"]
    assert instance["id"] not in query["state"]  # opaque


def test_login_stores_encrypted_tokens_and_the_api_masks_them(owner, anonymous, instance, plane, settings, vendor, clock):
    callback = authorize(owner, instance["id"])
    page = anonymous.get(path_of(callback))
    assert page.status_code == 200 and "is connected" in page.text
    (exchange,) = vendor.token_requests
    assert exchange["grant_type"] == "authorization_code" and exchange["redirect_uri"] == REDIRECT_URI
    record = plane.store.get_destination(instance["id"])
    assert record.secrets["accessToken"] == "access-1" and record.secrets["refreshToken"] == "refresh-1"
    assert record.settings["expiresAt"] == int(clock.now) + 1800
    shown = owner.get(f"/api/v1/destinations/{instance['id']}").json()["data"]["destination"]["settings"]
    assert shown["accessToken"].startswith("••••") and "access-1" not in json.dumps(shown)
    database = (settings.data_dir / "config.db").read_bytes()
    assert b"access-1" not in database and b"refresh-1" not in database


def test_the_callback_needs_no_token_but_start_does(anonymous, api_client, instance):
    assert anonymous.post(f"/api/v1/destinations/{instance['id']}/oauth/start").status_code == 401
    assert api_client("read_only").post(f"/api/v1/destinations/{instance['id']}/oauth/start").status_code == 403


def test_forged_state_is_refused(owner, anonymous, instance):
    callback = authorize(owner, instance["id"])
    query = parse_qs(urlsplit(callback).query)
    forged = query["state"][0][:-2] + ("00" if not query["state"][0].endswith("00") else "11")
    page = anonymous.get("/api/v1/oauth/callback", params={"code": query["code"][0], "state": forged})
    assert page.status_code == 403 and "not valid" in page.text
    assert anonymous.get("/api/v1/oauth/callback", params={"code": "x"}).status_code == 403


def test_reused_state_is_refused(owner, anonymous, instance):
    callback = authorize(owner, instance["id"])
    assert anonymous.get(path_of(callback)).status_code == 200
    again = anonymous.get(path_of(callback))
    assert again.status_code == 403 and "already used" in again.text


def test_expired_state_is_refused(owner, anonymous, instance, clock, vendor):
    callback = authorize(owner, instance["id"])
    clock.now += 601
    page = anonymous.get(path_of(callback))
    assert page.status_code == 403 and "expired" in page.text
    assert vendor.token_requests == []


def test_vendor_refusal_is_shown(owner, anonymous, instance, vendor, plane):
    vendor.deny = True
    page = anonymous.get(path_of(authorize(owner, instance["id"])))
    assert page.status_code == 403
    assert "did not grant access (access_denied: The user refused)" in page.text
    assert "accessToken" not in plane.store.get_destination(instance["id"]).secrets


def test_start_needs_the_client_credentials(owner, plane):
    source = plane.create_source(OPERATOR, "Server", "http")
    created = plane.create_destination(OPERATOR, source=source["id"], slug="hubspot", settings={})
    response = owner.post(f"/api/v1/destinations/{created['id']}/oauth/start")
    assert response.status_code == 400 and response.json()["code"] == "missing_client"


def test_start_refuses_destinations_without_a_login(owner, plane):
    source = plane.create_source(OPERATOR, "Server", "http")
    created = plane.create_destination(OPERATOR, source=source["id"], slug="attio", settings={})
    assert owner.post(f"/api/v1/destinations/{created['id']}/oauth/start").status_code == 400


def connected(owner, anonymous, instance) -> None:
    assert anonymous.get(path_of(authorize(owner, instance["id"]))).status_code == 200


def test_tokens_are_refreshed_before_they_expire(owner, anonymous, instance, plane, clock, vendor):
    connected(owner, anonymous, instance)
    expires_at = plane.store.get_destination(instance["id"]).settings["expiresAt"]
    assert refresh_due_tokens(plane, expires_at - 600) == {"refreshed": [], "failed": {}}
    report = refresh_due_tokens(plane, expires_at - 200)
    assert report == {"refreshed": [instance["id"]], "failed": {}}
    assert vendor.token_requests[-1] == {"grant_type": "refresh_token", "refresh_token": "refresh-1",
                                         "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    record = plane.store.get_destination(instance["id"])
    assert record.secrets["accessToken"] == "access-2"
    assert record.secrets["refreshToken"] == "refresh-1"  # the response had none: the old one stays
    assert record.settings["expiresAt"] == int(expires_at - 200) + 1800


def test_a_failed_refresh_is_reported_and_keeps_the_old_token(owner, anonymous, instance, plane, vendor):
    connected(owner, anonymous, instance)
    vendor.fail_refresh = True
    expires_at = plane.store.get_destination(instance["id"]).settings["expiresAt"]
    report = refresh_due_tokens(plane, expires_at)
    assert report["refreshed"] == []
    assert "invalid_grant: refresh token revoked" in report["failed"][instance["id"]]
    assert plane.store.get_destination(instance["id"]).secrets["accessToken"] == "access-1"
    with pytest.raises(OAuthError, match="refused the token request"):
        refresh(plane, instance["id"])


def test_state_signer_binds_the_destination():
    signer = StateSigner(b"k" * 32)
    other = StateSigner(b"x" * 32)
    state = signer.issue("dst-1|odd")
    with pytest.raises(OAuthError):
        other.consume(state)
    assert signer.consume(state) == "dst-1|odd"
