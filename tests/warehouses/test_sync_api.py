"""Sync now and the sync history through the REST API."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from segue.control import OPERATOR, ControlPlane
from segue.web.api import build_api
from tests.warehouses.test_sync import open_store

DUCKDB = {"metadataId": "duckdb", "name": "wh", "settings": {}}


@pytest.fixture
def plane(tmp_path):
    store = open_store(tmp_path)
    yield ControlPlane(store)
    store.close()


@pytest.fixture
def client(plane):
    def make(role: str) -> TestClient:
        token = plane.create_token(OPERATOR, role, role)["token"]
        app = Starlette(routes=[Mount("/api", app=build_api(plane))])
        return TestClient(app, raise_server_exceptions=False, headers={"Authorization": f"Bearer {token}"})

    return make


def _data(response, key: str, status: int = 200):
    assert response.status_code == status, response.text
    return response.json()["data"][key]


def test_sync_now_answers_202_with_a_pending_sync_and_the_history_lists_it(plane, client):
    owner = client("owner")
    warehouse = _data(owner.post("/api/v1/warehouses", json=DUCKDB), "warehouse", 201)
    path = f"/api/v1/warehouses/{warehouse['id']}/syncs"
    pending = _data(owner.post(path), "sync", 202)
    assert (pending["status"], pending["trigger"], pending["startedAt"], pending["totalRows"]) == ("Pending", "manual", None, 0)
    assert _data(owner.post(path), "sync", 202)["id"] == pending["id"]  # one pending request at a time
    store = plane.store
    store.start_sync(warehouse["id"], sync_id=pending["id"])
    store.finish_sync(pending["id"], status="Partial", rows={"tracks": 2, "pages": 1}, notices=["one notice"])
    scheduled = store.start_sync(warehouse["id"])
    history = _data(owner.get(f"{path}?limit=10"), "syncs")
    assert [sync["id"] for sync in history] == [scheduled.id, pending["id"]]  # newest first
    done = history[1]
    assert (done["status"], done["rows"], done["totalRows"], done["notices"]) == ("Partial", {"tracks": 2, "pages": 1}, 3, ["one notice"])
    assert done["durationSeconds"] >= 0 and done["finishedAt"].endswith("Z")
    assert _data(owner.get(f"{path}/{pending['id']}"), "sync")["status"] == "Partial"
    assert _data(owner.get(f"/api/v1/warehouses/wh/syncs"), "syncs")[0]["id"] == scheduled.id  # by name too


def test_sync_now_rules(plane, client):
    owner, reader = client("owner"), client("read_only")
    warehouse = _data(owner.post("/api/v1/warehouses", json={**DUCKDB, "enabled": False}), "warehouse", 201)
    path = f"/api/v1/warehouses/{warehouse['id']}/syncs"
    assert reader.post(path).status_code == 403
    assert reader.get(path).status_code == 200
    refused = owner.post(path)
    assert refused.status_code == 400 and "disabled" in refused.json()["message"]
    assert owner.post("/api/v1/warehouses/nope/syncs").json()["code"] == "not_found"
    assert owner.get(f"{path}/sync_unknown").status_code == 404
