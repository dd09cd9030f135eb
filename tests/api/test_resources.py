"""CRUD for every API resource, with the JSON the API promises."""

from __future__ import annotations

import hashlib
import hmac

import orjson

from tests.api.helpers import assert_error, data, make_source, make_webhook

SECRET = "whsec-0123456789-very-secret"


def test_sources_crud(owner):
    created = make_source(owner, "Marketing Site")
    assert created["slug"] == "marketing-site" and created["enabled"] is True
    assert len(created["writeKeys"][0]) == 32
    listed = data(owner.get("/api/v1/sources"), "sources")
    assert [source["id"] for source in listed] == [created["id"]]
    renamed = data(owner.patch(f"/api/v1/sources/{created['id']}", json={"name": "Site", "enabled": False}), "source")
    assert (renamed["name"], renamed["enabled"]) == ("Site", False)
    rotated = data(owner.post(f"/api/v1/sources/{created['id']}/rotate-write-key"), "source")
    assert rotated["writeKeys"] != created["writeKeys"]
    data(owner.delete(f"/api/v1/sources/{created['id']}"), "source")
    assert_error(owner.get(f"/api/v1/sources/{created['id']}"), 404, "not_found", created["id"])


def test_destination_crud_with_masked_secret(owner):
    source = make_source(owner)
    created = make_webhook(owner, source["id"], name="Hook", settings={"url": "http://127.0.0.1:9/a", "sharedSecret": SECRET})
    assert created["enabled"] is False, "new instances start disabled"
    assert created["metadata"]["slug"] == "webhook" and created["mode"] == "cloud"
    assert SECRET not in orjson.dumps(created).decode()
    shown = data(owner.get(f"/api/v1/destinations/{created['id']}"), "destination")
    assert shown["settings"]["sharedSecret"].startswith("••••") and SECRET not in str(shown)
    change = {"enabled": True, "settings": {"url": "http://127.0.0.1:9/b", "sharedSecret": shown["settings"]["sharedSecret"]}}
    changed = data(owner.patch(f"/api/v1/destinations/{created['id']}", json=change), "destination")
    assert changed["enabled"] is True and changed["settings"]["url"] == "http://127.0.0.1:9/b"
    assert changed["settings"]["sharedSecret"] == shown["settings"]["sharedSecret"], "a masked secret sent back is kept"
    listed = data(owner.get("/api/v1/destinations", params={"sourceId": source["id"]}), "destinations")
    assert [item["id"] for item in listed] == [created["id"]]
    connected = data(owner.get(f"/api/v1/sources/{source['id']}/connected-destinations"), "destinations")
    assert [item["id"] for item in connected] == [created["id"]]
    data(owner.delete(f"/api/v1/destinations/{created['id']}"), "destination")
    assert_error(owner.get(f"/api/v1/destinations/{created['id']}"), 404, "not_found")


def test_settings_errors_name_the_field_and_the_rule(owner):
    source = make_source(owner)
    body = {"sourceId": source["id"], "metadataId": "webhook", "settings": {"url": "http://x", "method": "BREW"}}
    error = assert_error(owner.post("/api/v1/destinations", json=body), 400, "invalid_settings", "method")
    assert {problem["field"] for problem in error["errors"]} == {"method"}
    assert error["errors"][0]["rule"]
    unknown = {**body, "settings": {"url": "http://x", "colour": "blue"}}
    assert_error(owner.post("/api/v1/destinations", json=unknown), 400, "invalid_settings", "colour")


def test_a_disabled_instance_may_wait_for_its_settings_but_enabling_needs_them(owner):
    source = make_source(owner)
    body = {"sourceId": source["id"], "metadataId": "webhook", "settings": {}}
    created = data(owner.post("/api/v1/destinations", json=body), "destination", 201)
    error = assert_error(owner.patch(f"/api/v1/destinations/{created['id']}", json={"enabled": True}), 400, "invalid_settings", "url")
    assert error["errors"][0]["rule"] == "missing"
    assert_error(owner.post("/api/v1/destinations", json={**body, "enabled": True}), 400, "invalid_settings", "url")


def test_copy_settings_from_another_instance(owner):
    web, app = make_source(owner, "Web"), make_source(owner, "App", "ios")
    original = make_webhook(owner, web["id"], settings={"url": "http://127.0.0.1:9/c", "sharedSecret": SECRET})
    body = {"sourceId": app["id"], "metadataId": "webhook", "copySettingsFrom": original["id"]}
    copy = data(owner.post("/api/v1/destinations", json=body), "destination", 201)
    assert copy["sourceId"] == app["id"] and copy["settings"]["url"] == "http://127.0.0.1:9/c"
    assert copy["settings"]["sharedSecret"] == original["settings"]["sharedSecret"]


def test_modes_follow_the_catalog_and_the_source(owner):
    server = make_source(owner, "Backend", "python")
    body = {"sourceId": server["id"], "metadataId": "webhook", "settings": {"url": "http://x"}, "mode": "device"}
    assert_error(owner.post("/api/v1/destinations", json=body), 400, "invalid_config", "mode")
    make_webhook(owner, server["id"], name="One")
    assert_error(owner.post("/api/v1/destinations", json={**body, "mode": "cloud", "name": "One"}), 409, "conflict", "One")


def test_test_event_goes_to_the_destination_with_its_signature(owner, receiver):
    source = make_source(owner)
    hook = make_webhook(owner, source["id"], settings={"url": receiver.url + "/hook", "sharedSecret": SECRET})
    result = data(owner.post(f"/api/v1/destinations/{hook['id']}/test", json={"type": "identify"}), "testResult")
    assert result["delivered"] is True and result["requests"][0]["response"]["status"] == 200
    method, path, headers, body = receiver.received[0]
    assert (method, path) == ("POST", "/hook")
    assert orjson.loads(body)["type"] == "identify"
    expected = hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    assert headers["X-Signature"] == expected
    assert SECRET not in orjson.dumps(result).decode()


def test_a_failed_test_event_says_so(owner, receiver):
    receiver.status = 500
    source = make_source(owner)
    hook = make_webhook(owner, source["id"], settings={"url": receiver.url})
    result = data(owner.post(f"/api/v1/destinations/{hook['id']}/test", json={}), "testResult")
    assert result["delivered"] is False and result["requests"][0]["response"]["status"] == 500
    refused = make_webhook(owner, source["id"], name="Nowhere", settings={"url": "http://127.0.0.1:9/"})
    result = data(owner.post(f"/api/v1/destinations/{refused['id']}/test", json={}), "testResult")
    assert result["delivered"] is False and result["requests"][0]["error"]


def test_warehouse_crud(owner):
    body = {"metadataId": "postgres", "name": "Analytics DB",
            "settings": {"host": "db.internal", "database": "analytics", "user": "segue", "password": SECRET}}
    created = data(owner.post("/api/v1/warehouses", json=body), "warehouse", 201)
    assert created["engine"] == "postgres" and created["sourceIds"] is None
    assert created["syncIntervalSeconds"] == 86_400, "free plan: once a day"
    assert SECRET not in str(created) and created["settings"]["password"].startswith("••••")
    changed = data(owner.patch(f"/api/v1/warehouses/{created['id']}", json={"name": "DB", "enabled": False}), "warehouse")
    assert (changed["name"], changed["enabled"]) == ("DB", False)
    assert len(data(owner.get("/api/v1/warehouses"), "warehouses")) == 1
    data(owner.delete(f"/api/v1/warehouses/{created['id']}"), "warehouse")
    assert data(owner.get("/api/v1/warehouses"), "warehouses") == []


def test_workspace_and_audit_trail(owner):
    workspace = data(owner.get("/api/v1/workspace"), "workspace")
    assert workspace["plan"] == "free" and workspace["limits"]["maxWarehouses"] == 1
    renamed = data(owner.patch("/api/v1/workspace", json={"name": "Acme"}), "workspace")
    assert renamed["name"] == "Acme"
    source = make_source(owner)
    make_webhook(owner, source["id"], settings={"url": "http://x", "sharedSecret": SECRET})
    events = data(owner.get("/api/v1/audit"), "auditEvents")
    actions = [event["action"] for event in events if event["resourceType"] != "mapping"]
    assert actions[:2] == ["destination.created", "source.created"], actions
    assert events[0]["action"] == "mapping.created"  # the webhook's presets, right after it
    assert all(event["actor"].startswith(("token:", "cli")) for event in events)
    assert SECRET not in orjson.dumps(events).decode()
    only_source = data(owner.get("/api/v1/audit", params={"resourceId": source["id"]}), "auditEvents")
    assert {event["resourceId"] for event in only_source} == {source["id"]}


def test_users_and_tokens(owner, api_client):
    user = data(owner.post("/api/v1/users", json={"username": "ana", "password": "correct horse", "role": "member"}), "user", 201)
    assert user["role"] == "member" and "password" not in str(user)
    promoted = data(owner.patch("/api/v1/users/ana", json={"role": "read_only"}), "user")
    assert promoted["role"] == "read_only"
    token = data(owner.post("/api/v1/tokens", json={"name": "ci", "role": "read_only"}), "token", 201)
    assert token["token"].startswith("sgt_") and token["prefix"] in token["token"]
    listed = data(owner.get("/api/v1/tokens"), "tokens")
    assert all("token" not in item for item in listed)
    data(owner.delete(f"/api/v1/tokens/{token['id']}"), "revokedToken")
    revoked = owner.get("/api/v1/workspace", headers={"Authorization": f"Bearer {token['token']}"})
    assert_error(revoked, 401, "unauthorized")
    data(owner.delete("/api/v1/users/ana"), "user")


def test_config_database_holds_no_secret_in_plain_text(owner, settings):
    source = make_source(owner)
    hook = make_webhook(owner, source["id"], settings={"url": "http://x", "sharedSecret": SECRET})
    owner.patch(f"/api/v1/destinations/{hook['id']}", json={"settings": {"sharedSecret": SECRET + "-2"}})
    warehouse = {"metadataId": "mysql", "name": "M", "settings": {"host": "h", "database": "d", "user": "u", "password": SECRET + "-3"}}
    data(owner.post("/api/v1/warehouses", json=warehouse), "warehouse", 201)
    files = [path for path in settings.data_dir.iterdir() if path.name.startswith("config.db")]
    assert files
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), path.name
