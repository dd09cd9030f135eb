"""Plan limits, roles and authentication: every rule holds on the API path."""

from __future__ import annotations

import base64

import pytest

from tests.api.helpers import assert_error, data, make_source, make_webhook

DUCKDB = {"metadataId": "duckdb", "name": "Local"}


def set_plan(client, plan: str) -> None:
    data(client.patch("/api/v1/workspace", json={"plan": plan}), "workspace")


def test_free_and_team_have_one_warehouse_business_many(owner):
    data(owner.post("/api/v1/warehouses", json=DUCKDB), "warehouse", 201)
    for plan in ("free", "team"):
        set_plan(owner, plan)
        assert_error(owner.post("/api/v1/warehouses", json={**DUCKDB, "name": "Two"}), 403, "plan_limit", plan, "1 warehouse")
    set_plan(owner, "business")
    data(owner.post("/api/v1/warehouses", json={**DUCKDB, "name": "Two"}), "warehouse", 201)
    assert_error(owner.patch("/api/v1/workspace", json={"plan": "free"}), 403, "plan_limit", "delete warehouses")


def test_sync_frequency_follows_the_plan(owner):
    for plan, too_often, allowed in (("free", 43_200, 86_400), ("team", 21_600, 43_200), ("business", 1_800, 3_600)):
        set_plan(owner, plan)
        body = {**DUCKDB, "name": plan, "syncIntervalSeconds": too_often}
        assert_error(owner.post("/api/v1/warehouses", json=body), 403, "plan_limit", plan)
        created = data(owner.post("/api/v1/warehouses", json={**body, "syncIntervalSeconds": allowed}), "warehouse", 201)
        data(owner.delete(f"/api/v1/warehouses/{created['id']}"), "warehouse")


def test_downgrading_slows_syncs_to_what_the_plan_allows(owner):
    set_plan(owner, "business")
    created = data(owner.post("/api/v1/warehouses", json={**DUCKDB, "syncIntervalSeconds": 3_600}), "warehouse", 201)
    set_plan(owner, "team")
    assert data(owner.get(f"/api/v1/warehouses/{created['id']}"), "warehouse")["syncIntervalSeconds"] == 43_200


def test_selective_sync_is_for_business_owners(owner, api_client):
    source = make_source(owner)
    body = {**DUCKDB, "sourceIds": [source["id"]]}
    assert_error(owner.post("/api/v1/warehouses", json=body), 403, "plan_limit", "Selective Sync")
    set_plan(owner, "business")
    assert_error(api_client("member").post("/api/v1/warehouses", json=body), 403, "forbidden", "owners")
    created = data(owner.post("/api/v1/warehouses", json=body), "warehouse", 201)
    assert created["sourceIds"] == [source["id"]]
    everything = data(owner.patch(f"/api/v1/warehouses/{created['id']}", json={"sourceIds": None}), "warehouse")
    assert everything["sourceIds"] is None


def test_destination_filters_are_a_business_feature(owner):
    source = make_source(owner)
    hook = make_webhook(owner, source["id"])
    body = {"title": "No tests", "if": 'event = "Test"', "actions": [{"type": "DROP"}]}
    path = f"/api/v1/destinations/{hook['id']}/filters"
    assert_error(owner.post(path, json=body), 403, "plan_limit", "Destination Filters")
    set_plan(owner, "business")
    created = data(owner.post(path, json=body), "filter", 201)
    assert created["if"] == 'event = "Test"' and created["actions"] == [{"type": "DROP"}]
    changed = data(owner.patch(f"{path}/{created['id']}", json={"enabled": False}), "filter")
    assert changed["enabled"] is False
    assert [item["id"] for item in data(owner.get(path), "filters")] == [created["id"]]
    sample = {**body, "actions": [{"type": "SAMPLE", "percent": 2}]}
    assert_error(owner.post(path, json=sample), 400, "invalid_request", "percent")
    data(owner.delete(f"{path}/{created['id']}"), "filter")


WRITES = [
    ("post", "/api/v1/sources", {"name": "X", "type": "python"}),
    ("patch", "/api/v1/sources/{source}", {"name": "Y"}),
    ("post", "/api/v1/sources/{source}/rotate-write-key", None),
    ("delete", "/api/v1/sources/{source}", None),
    ("post", "/api/v1/destinations", {"sourceId": "{source}", "metadataId": "webhook", "settings": {"url": "http://x"}}),
    ("patch", "/api/v1/destinations/{destination}", {"enabled": True}),
    ("post", "/api/v1/destinations/{destination}/test", {}),
    ("delete", "/api/v1/destinations/{destination}", None),
    ("post", "/api/v1/warehouses", DUCKDB),
    ("patch", "/api/v1/workspace", {"name": "Mine"}),
    ("post", "/api/v1/users", {"username": "eve", "password": "12345678"}),
    ("post", "/api/v1/tokens", {"name": "mine"}),
]


def _fill(value, ids: dict):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    return value


@pytest.mark.parametrize("method, path, body", WRITES, ids=[f"{m} {p}" for m, p, _ in WRITES])
def test_a_read_only_token_cannot_change_anything(owner, api_client, method, path, body):
    source = make_source(owner)
    ids = {"source": source["id"], "destination": make_webhook(owner, source["id"])["id"]}
    reader = api_client("read_only")
    kwargs = {} if body is None else {"json": _fill(body, ids)}
    assert_error(getattr(reader, method)(_fill(path, ids), **kwargs), 403, "forbidden", "read_only")
    assert data(reader.get("/api/v1/sources"), "sources"), "reads are allowed"


@pytest.mark.parametrize("method, path, body", [
    ("patch", "/api/v1/workspace", {"plan": "business"}),
    ("post", "/api/v1/users", {"username": "eve", "password": "12345678"}),
    ("post", "/api/v1/tokens", {"name": "mine"}),
])
def test_members_cannot_do_what_owners_do(api_client, method, path, body):
    assert_error(getattr(api_client("member"), method)(path, json=body), 403, "forbidden", "owners")


def test_requests_without_a_token_are_refused(anonymous):
    error = anonymous.get("/api/v1/sources")
    assert_error(error, 401, "unauthorized", "Bearer")
    assert error.headers["WWW-Authenticate"] == "Bearer"
    assert_error(anonymous.get("/api/v1/sources", headers={"Authorization": "Bearer sgt_nope"}), 401, "unauthorized")


def test_a_write_key_grants_no_access_to_the_api(owner, anonymous):
    write_key = make_source(owner)["writeKeys"][0]
    basic = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
    for header in (f"Bearer {write_key}", basic):
        assert_error(anonymous.get("/api/v1/sources", headers={"Authorization": header}), 401, "unauthorized", "write key")


def test_every_error_has_the_one_body(owner):
    assert_error(owner.get("/api/v1/nothing-here"), 404, "not_found")
    assert_error(owner.put("/api/v1/sources"), 405, "method_not_allowed")
    malformed = owner.post("/api/v1/sources", content=b"{not json", headers={"Content-Type": "application/json"})
    assert_error(malformed, 400, "invalid_request")
    missing = assert_error(owner.post("/api/v1/sources", json={"name": "X"}), 400, "invalid_request", "type")
    assert missing["errors"] == [{"field": "type", "rule": "missing", "message": "Field required"}]


def test_openapi_document_and_docs(owner, anonymous):
    document = anonymous.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert {"/v1/sources", "/v1/destinations/{destinationId}/test", "/v1/catalog/destinations"} <= set(document["paths"])
    assert "HTTPBearer" in document["components"]["securitySchemes"]
    docs = anonymous.get("/api/docs")
    assert docs.status_code == 200 and "openapi.json" in docs.text
