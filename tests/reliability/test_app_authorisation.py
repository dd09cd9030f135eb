"""Authorisation matrix over every app page: anonymous, write key, read-only, member, owner.

The same rules as the API (`read_only` reads, `member` changes all but the plan, users and
tokens, `owner` everything), over the app's own route table: a new page without a rule fails.
Strangers (and write keys, which open nothing but their source) go to the login page; a
signed-in user that may not do something gets the 403 page. Session cookie flags are checked last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Callable

import pytest
from starlette.routing import Route

from segue.log.memory import MemoryLog
from segue.server import Runtime, build_app
from segue.web.app import build_web_app
from tests.reliability.conftest import HOOK_URL, OWNER as OWNER_NAME, PASSWORD, csrf_of, make_settings, unique

PUBLIC, READ, WRITE, OWNER = "public", "read", "write", "owner"
ALLOWED = {"read_only": {READ}, "member": {READ, WRITE}, "owner": {READ, WRITE, OWNER}}


@dataclass(frozen=True)
class Page:
    needs: str
    form: Callable | None = None
    ok: tuple = (200, 303)
    missing: int = 404  # the status for an id that does not exist
    ids: dict = field(default_factory=dict)


def named(**extra):
    return lambda world: {"name": unique("renamed-"), **extra}


MAPPING_FORM = named(trigger='type = "track"', action="track", fields="{}", enabled="on")
FILTER_FORM = lambda world: {"title": "No tests", "condition": 'event = "Test"', "drop": "on", "enabled": "on"}  # noqa: E731
PAGES = {
    ("GET", "/login"): Page(PUBLIC, ok=(200,)),
    ("POST", "/login"): Page(PUBLIC, lambda world: {"username": OWNER_NAME, "password": PASSWORD}, ok=(303,)),
    ("POST", "/logout"): Page(PUBLIC, ok=(303,)),
    ("GET", "/"): Page(READ),
    ("GET", "/connections/sources/{source_id}/counts"): Page(READ, missing=286),  # htmx: stop polling
    ("GET", "/sources"): Page(READ),
    ("GET", "/sources/new"): Page(READ),
    ("POST", "/sources"): Page(WRITE, named(type="javascript")),
    ("GET", "/sources/{source_id}"): Page(READ),
    ("POST", "/sources/{source_id}/rotate"): Page(WRITE),
    ("POST", "/sources/{source_id}/delete"): Page(WRITE),
    ("GET", "/sources/{source_id}/debugger"): Page(READ),
    ("GET", "/catalog"): Page(READ),
    ("GET", "/catalog/warehouses"): Page(READ),
    ("GET", "/catalog/{slug}"): Page(READ),
    ("GET", "/catalog/{slug}/configure"): Page(READ),
    ("POST", "/catalog/{slug}/configure"): Page(WRITE, lambda world: {"source": world.source["id"], "mode": "cloud"}),
    ("GET", "/destinations"): Page(READ),
    ("GET", "/destinations/{destination_id}"): Page(READ),
    ("POST", "/destinations/{destination_id}/settings"): Page(WRITE, named(**{"setting.url": HOOK_URL})),
    ("POST", "/destinations/{destination_id}/enabled"): Page(WRITE, lambda world: {"enabled": "on"}),
    ("POST", "/destinations/{destination_id}/test"): Page(WRITE, lambda world: {"event_type": "track"}),
    ("POST", "/destinations/{destination_id}/delete"): Page(WRITE),
    ("GET", "/destinations/{destination_id}/filters/new"): Page(READ),
    ("POST", "/destinations/{destination_id}/filters"): Page(WRITE, FILTER_FORM),
    ("GET", "/destinations/{destination_id}/filters/{filter_id}"): Page(READ),
    ("POST", "/destinations/{destination_id}/filters/{filter_id}"): Page(WRITE, FILTER_FORM),
    ("POST", "/destinations/{destination_id}/filters/{filter_id}/enabled"): Page(WRITE),
    ("POST", "/destinations/{destination_id}/filters/{filter_id}/delete"): Page(WRITE),
    ("GET", "/destinations/{destination_id}/mappings/new"): Page(READ),
    ("POST", "/destinations/{destination_id}/mappings"): Page(WRITE, MAPPING_FORM),
    ("POST", "/destinations/{destination_id}/mappings/presets"): Page(WRITE),
    ("GET", "/destinations/{destination_id}/mappings/{mapping_id}"): Page(READ),
    ("POST", "/destinations/{destination_id}/mappings/{mapping_id}"): Page(WRITE, MAPPING_FORM),
    ("POST", "/destinations/{destination_id}/mappings/{mapping_id}/enabled"): Page(WRITE),
    ("POST", "/destinations/{destination_id}/mappings/{mapping_id}/move"): Page(WRITE, lambda world: {"direction": "up"}),
    ("POST", "/destinations/{destination_id}/mappings/{mapping_id}/delete"): Page(WRITE),
    # The preview sends nothing and changes nothing: a read, as in the API.
    ("POST", "/destinations/{destination_id}/preview"): Page(READ, lambda world: {"sample": "track", "event_type": "track"}),
    ("GET", "/warehouses"): Page(READ),
    ("GET", "/warehouses/new"): Page(READ),
    ("POST", "/warehouses"): Page(WRITE, lambda world: {"engine": "duckdb", "name": unique("warehouse-")}),
    ("GET", "/warehouses/{warehouse_id}"): Page(READ),
    ("GET", "/warehouses/{warehouse_id}/syncs"): Page(READ),
    ("POST", "/warehouses/{warehouse_id}/sync"): Page(WRITE),
    ("POST", "/warehouses/{warehouse_id}/selective-sync"): Page(OWNER, lambda world: {"table": "pages"}),
    ("POST", "/warehouses/{warehouse_id}/delete"): Page(WRITE),
    ("GET", "/settings"): Page(READ),
    ("POST", "/settings/plan"): Page(OWNER, lambda world: {"plan": "business"}),
    ("POST", "/settings/users"): Page(OWNER, lambda world: {"username": unique("new-"), "password": "a-long-password-1"}),
    ("POST", "/settings/users/{username}/delete"): Page(OWNER),
    ("POST", "/settings/tokens"): Page(OWNER, named(role="read_only")),
    ("POST", "/settings/tokens/{token_id}/delete"): Page(OWNER),
}
ID_OF = {
    "source_id": ("source", "id"), "destination_id": ("destination", "id"), "filter_id": ("filter", "id"),
    "mapping_id": ("mapping", "id"), "warehouse_id": ("warehouse", "id"), "username": ("user", "username"),
    "token_id": ("token", "id"),
}


def app_routes(segue) -> set[tuple[str, str]]:
    app = build_web_app(segue.plane, MemoryLog(), b"k" * 32)  # what `segue serve` mounts at /
    return {(method, route.path) for route in app.routes if isinstance(route, Route)
            for method in route.methods - {"HEAD"}}


def concrete(path: str, world, missing: str | None = None) -> str:
    for name, (attribute, key) in ID_OF.items():
        if "{" + name + "}" in path:
            path = path.replace("{" + name + "}", "does-not-exist" if name == missing else getattr(world, attribute)[key])
    return path.replace("{slug}", "webhook")


def call(client, method: str, path: str, page: Page, world, missing: str | None = None, segue=None):
    if path.endswith("/debugger"):  # an event stream that never ends by itself
        status, headers = segue.stream_status(client, concrete(path, world, missing))
        return SimpleNamespace(status_code=status, headers=headers, text="")
    if method == "GET":
        return client.get(concrete(path, world, missing))
    form = {**(page.form(world) if page.form else {}), "csrf": client.headers.get("X-CSRF-Token", "")}
    return client.post(concrete(path, world, missing), data=form)


def anonymous_client(segue):
    """A stranger with a session of its own (and so a CSRF token: this tests the login, not CSRF)."""
    client = segue.client()
    client.headers["X-CSRF-Token"] = csrf_of(client.get("/login").text)
    return client


def write_key_client(segue):
    client = segue.write_key_client()
    client.headers["X-CSRF-Token"] = csrf_of(client.get("/login").text)
    return client


@pytest.fixture(scope="module")
def callers(segue):
    clients = {"anonymous": anonymous_client(segue), "write_key": write_key_client(segue)}
    clients.update({role: segue.user_client(role) for role in ALLOWED})
    yield clients
    for client in clients.values():
        client.close()


def test_every_app_page_has_a_rule(segue):
    served = app_routes(segue)
    assert served - set(PAGES) == set(), "pages with no rule in the matrix: add them to PAGES"
    assert set(PAGES) - served == set(), "rules for pages that no longer exist"


@pytest.mark.parametrize("route", sorted(route for route in PAGES if PAGES[route].needs != PUBLIC),
                         ids=lambda route: f"{route[0]} {route[1]}")
def test_authorisation_matrix(route, segue, callers, world_factory):
    method, path = route
    rule = PAGES[route]
    for caller, client in callers.items():
        response = call(client, method, path, rule, world_factory(), segue=segue)
        if caller in ("anonymous", "write_key"):
            assert response.status_code == 303 and response.headers["location"].startswith("/login?next="), caller
        elif rule.needs in ALLOWED[caller]:
            assert response.status_code in rule.ok, (caller, response.text[:2000])
            assert not response.headers.get("location", "").startswith("/login"), caller
        else:
            assert response.status_code == 403, (caller, response.status_code, response.text[:2000])


@pytest.mark.parametrize("route", sorted(route for route in PAGES if PAGES[route].needs == PUBLIC),
                         ids=lambda route: f"{route[0]} {route[1]}")
def test_public_pages(route, segue, world_factory):
    method, path = route
    client = anonymous_client(segue)  # no `with`: that would run the app's lifespan a second time
    assert call(client, method, path, PAGES[route], world_factory()).status_code in PAGES[route].ok


@pytest.mark.parametrize("route", sorted(route for route in PAGES if "{" in route[1] and "{slug}" not in route[1]),
                         ids=lambda route: f"{route[0]} {route[1]}")
def test_an_id_that_does_not_exist_is_404(route, segue, callers, world_factory):
    method, path = route
    for name in ID_OF:
        if "{" + name + "}" in path:
            response = call(callers["owner"], method, path, PAGES[route], world_factory(), missing=name, segue=segue)
            assert response.status_code == PAGES[route].missing, (name, response.status_code)


def session_cookie(response) -> str:
    cookies = [value for key, value in response.headers.multi_items() if key == "set-cookie"]
    found = [cookie for cookie in cookies if cookie.startswith("segue_session=")]
    assert found, cookies
    return found[-1].lower()


def test_the_session_cookie_is_httponly_and_samesite_lax(segue):
    cookie = session_cookie(segue.client().get("/login"))
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie.split(";")[1:] and "; secure" not in cookie  # plain http: a browser would drop it


def test_behind_tls_the_session_cookie_is_secure(tmp_path):
    runtime = Runtime(make_settings(tmp_path, public_url="https://segue.example.com"))
    app = build_app(runtime)
    from starlette.testclient import TestClient

    with TestClient(app, base_url="https://segue.example.com", follow_redirects=False) as client:
        cookie = session_cookie(client.get("/login"))
        signed_in = client.post("/login", data={"username": OWNER_NAME, "password": PASSWORD,
                                                "csrf": csrf_of(client.get("/login").text)})
        assert signed_in.status_code == 303
        cookie_after_login = session_cookie(signed_in)
    for each in (cookie, cookie_after_login):
        assert "httponly" in each and "samesite=lax" in each and "; secure" in each
