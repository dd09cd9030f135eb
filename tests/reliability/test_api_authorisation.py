"""Authorisation matrix over every REST API route: anonymous, write key, read-only, member, owner.

The rule of each route is stated in `RULES` (read from segue/control: `read_only` may read,
`member` may change everything but the plan, users and API tokens, `owner` everything). The
routes come from the API's own route table, so a new route without a rule fails the test.
Every refusal is the one error body; an owner asking for an id that does not exist gets 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pytest
from segue.web.api import build_api

from tests.reliability.conftest import HOOK_URL, unique

PUBLIC, READ, WRITE, OWNER = "public", "read", "write", "owner"
ALLOWED = {"read_only": {PUBLIC, READ}, "member": {PUBLIC, READ, WRITE}, "owner": {PUBLIC, READ, WRITE, OWNER}}
RANGE = {"start": "2024-05-01T10:00:00Z", "end": "2024-05-01T12:00:00Z"}


@dataclass(frozen=True)
class Rule:
    """Who may call a route, the body that makes the call succeed, and the status a permitted call gets."""

    needs: str
    body: Callable | None = None
    ok: tuple = (200, 201, 202)
    ids: dict = field(default_factory=dict)  # path parameter -> World attribute, when not the default


def named(**extra):
    return lambda world: {"name": unique("renamed-"), **extra}


RULES = {
    # Public: the OpenAPI document and its docs; the OAuth callback, whose signed state is the credential
    # (with no state it answers a 403 page to everyone).
    ("GET", "/v1/openapi.json"): Rule(PUBLIC),
    ("GET", "/docs"): Rule(PUBLIC),
    ("GET", "/docs/oauth2-redirect"): Rule(PUBLIC),
    ("GET", "/v1/oauth/callback"): Rule(PUBLIC, ok=(403,)),
    ("GET", "/v1/catalog/destinations"): Rule(READ),
    ("GET", "/v1/catalog/destinations/{slug}"): Rule(READ),
    ("GET", "/v1/catalog/destinations/{slug}/docs"): Rule(READ),
    ("GET", "/v1/catalog/warehouses"): Rule(READ),
    ("GET", "/v1/catalog/warehouses/{slug}"): Rule(READ),
    ("GET", "/v1/sources"): Rule(READ),
    ("POST", "/v1/sources"): Rule(WRITE, named(type="javascript")),
    ("GET", "/v1/sources/{sourceId}"): Rule(READ),
    ("PATCH", "/v1/sources/{sourceId}"): Rule(WRITE, named()),
    ("DELETE", "/v1/sources/{sourceId}"): Rule(WRITE),
    ("POST", "/v1/sources/{sourceId}/rotate-write-key"): Rule(WRITE),
    ("GET", "/v1/sources/{sourceId}/connected-destinations"): Rule(READ),
    ("GET", "/v1/destinations"): Rule(READ),
    ("POST", "/v1/destinations"): Rule(WRITE, lambda world: {
        "sourceId": world.source["id"], "metadataId": "webhook", "settings": {"url": HOOK_URL}}),
    ("GET", "/v1/destinations/{destinationId}"): Rule(READ),
    ("PATCH", "/v1/destinations/{destinationId}"): Rule(WRITE, named()),
    ("DELETE", "/v1/destinations/{destinationId}"): Rule(WRITE),
    ("POST", "/v1/destinations/{destinationId}/test"): Rule(WRITE, lambda world: {"type": "track"}),
    # Preview sends nothing and changes nothing: a read.
    ("POST", "/v1/destinations/{destinationId}/preview"): Rule(READ, lambda world: {"type": "track"}),
    ("GET", "/v1/destinations/{destinationId}/delivery"): Rule(READ),
    ("GET", "/v1/destinations/{destinationId}/filters"): Rule(READ),
    ("POST", "/v1/destinations/{destinationId}/filters"): Rule(WRITE, lambda world: {
        "title": "No tests", "if": 'event = "Test"', "actions": [{"type": "DROP"}]}),
    ("PATCH", "/v1/destinations/{destinationId}/filters/{filterId}"): Rule(WRITE, lambda world: {"title": "Renamed"}),
    ("DELETE", "/v1/destinations/{destinationId}/filters/{filterId}"): Rule(WRITE),
    ("GET", "/v1/destinations/{destinationId}/mappings"): Rule(READ),
    ("POST", "/v1/destinations/{destinationId}/mappings"): Rule(WRITE, named(trigger='type = "track"', action="track")),
    ("PATCH", "/v1/destinations/{destinationId}/mappings/{mappingId}"): Rule(WRITE, named()),
    ("DELETE", "/v1/destinations/{destinationId}/mappings/{mappingId}"): Rule(WRITE),
    ("POST", "/v1/destinations/{destinationId}/replays"): Rule(WRITE, lambda world: RANGE),
    ("GET", "/v1/destinations/{destinationId}/replays"): Rule(READ),
    ("GET", "/v1/destinations/{destinationId}/replays/{replayId}"): Rule(READ),
    ("POST", "/v1/destinations/{destinationId}/oauth/start"): Rule(WRITE, ids={"destinationId": "oauth_destination"}),
    ("GET", "/v1/warehouses"): Rule(READ),
    ("POST", "/v1/warehouses"): Rule(WRITE, lambda world: {"metadataId": "duckdb", "name": unique("warehouse-")}),
    ("GET", "/v1/warehouses/{warehouseId}"): Rule(READ),
    ("PATCH", "/v1/warehouses/{warehouseId}"): Rule(WRITE, named()),
    ("DELETE", "/v1/warehouses/{warehouseId}"): Rule(WRITE),
    ("POST", "/v1/warehouses/{warehouseId}/syncs"): Rule(WRITE),
    ("GET", "/v1/warehouses/{warehouseId}/syncs"): Rule(READ),
    ("GET", "/v1/warehouses/{warehouseId}/syncs/{syncId}"): Rule(READ),
    ("GET", "/v1/workspace"): Rule(READ),
    ("PATCH", "/v1/workspace"): Rule(WRITE, named()),  # a rename; the plan is the owner's (test below)
    ("GET", "/v1/audit"): Rule(READ),
    ("GET", "/v1/audit-events"): Rule(READ),
    ("GET", "/v1/users"): Rule(READ),
    ("POST", "/v1/users"): Rule(OWNER, lambda world: {"username": unique("new-"), "password": "a-long-password-1"}),
    ("PATCH", "/v1/users/{username}"): Rule(OWNER, lambda world: {"role": "read_only"}),
    ("DELETE", "/v1/users/{username}"): Rule(OWNER),
    ("GET", "/v1/tokens"): Rule(READ),
    ("POST", "/v1/tokens"): Rule(OWNER, named(role="read_only")),
    ("DELETE", "/v1/tokens/{tokenId}"): Rule(OWNER),
}
ID_OF = {  # path parameter -> (World attribute, the field that names it)
    "sourceId": ("source", "id"), "destinationId": ("destination", "id"), "filterId": ("filter", "id"),
    "mappingId": ("mapping", "id"), "replayId": ("replay", "id"), "warehouseId": ("warehouse", "id"),
    "syncId": ("sync", "id"), "username": ("user", "username"), "tokenId": ("token", "id"),
}
CATALOG_SLUGS = {"/v1/catalog/destinations": "webhook", "/v1/catalog/warehouses": "duckdb"}


def api_routes(segue) -> set[tuple[str, str]]:
    """Every (method, path) the API serves: its OpenAPI document and its route table (hidden routes too)."""
    api = build_api(segue.plane)  # what `segue serve` mounts at /api
    found = {(method.upper(), path) for path, operations in api.openapi()["paths"].items() for method in operations}
    for route in _flattened(api.routes):
        if getattr(route, "methods", None):
            found |= {(method, route.path) for method in route.methods - {"HEAD"}}
    return found


def _flattened(routes):
    """Routes, with FastAPI's included routers opened up (newer FastAPI keeps them as one entry)."""
    for route in routes:
        if hasattr(route, "effective_route_contexts"):
            yield from route.effective_route_contexts()
        else:
            yield route


def params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def concrete(path: str, rule: Rule, world, missing: str | None = None) -> str:
    """The path with real ids of fresh objects (or `missing` in place of one parameter)."""
    for name in params(path):
        if name == missing:
            value = "does-not-exist"
        elif name == "slug":
            value = next(slug for prefix, slug in CATALOG_SLUGS.items() if path.startswith(prefix))
        else:
            attribute, key = ID_OF[name]
            value = getattr(world, rule.ids.get(name, attribute))[key]
        path = path.replace("{" + name + "}", value)
    return "/api" + path


def call(client, method: str, path: str, rule: Rule, world, missing: str | None = None):
    body = rule.body(world) if rule.body and method != "GET" else None
    return client.request(method, concrete(path, rule, world, missing), json=body)


def assert_error_body(response, status: int) -> dict:
    assert response.status_code == status, (response.request.url, response.text)
    body = response.json()
    assert body["success"] is False and body["code"] and body["message"], body
    return body


@pytest.fixture(scope="module")
def callers(segue):
    clients = {"anonymous": segue.client(), "write_key": segue.write_key_client()}
    clients.update({role: segue.token_client(role) for role in ALLOWED})
    yield clients
    for client in clients.values():
        client.close()


def test_every_api_route_has_a_rule(segue):
    served = api_routes(segue)
    assert served - set(RULES) == set(), "routes with no rule in the matrix: add them to RULES"
    assert set(RULES) - served == set(), "rules for routes that no longer exist"


@pytest.mark.parametrize("route", sorted(RULES), ids=lambda route: f"{route[0]} {route[1]}")
def test_authorisation_matrix(route, segue, callers, world_factory):
    method, path = route
    rule = RULES[route]
    for caller, client in callers.items():
        response = call(client, method, path, rule, world_factory())
        if rule.needs == PUBLIC:
            assert response.status_code in rule.ok, (caller, response.text)
        elif caller in ("anonymous", "write_key"):
            body = assert_error_body(response, 401)
            assert response.headers["www-authenticate"] == "Bearer"
            assert ("write key" in body["message"]) == (caller == "write_key"), body
        elif rule.needs in ALLOWED[caller]:
            assert response.status_code in rule.ok, (caller, response.text)
        else:
            assert assert_error_body(response, 403)["code"] == "forbidden"


@pytest.mark.parametrize("route", sorted(route for route in RULES if params(route[1])),
                         ids=lambda route: f"{route[0]} {route[1]}")
def test_an_id_that_does_not_exist_is_404(route, callers, world_factory):
    method, path = route
    for name in params(path):
        response = call(callers["owner"], method, path, RULES[route], world_factory(), missing=name)
        assert_error_body(response, 404)


def test_only_owners_change_the_plan_and_members_rename(callers):
    for caller in ("read_only", "member"):
        assert_error_body(callers[caller].patch("/api/v1/workspace", json={"plan": "business"}), 403)
    assert callers["member"].patch("/api/v1/workspace", json={"name": "Renamed"}).status_code == 200
    assert callers["owner"].patch("/api/v1/workspace", json={"plan": "business"}).status_code == 200

