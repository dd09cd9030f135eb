"""`/destinations/{id}/mappings`: Actions-style mappings, their validation and plan limits."""

from __future__ import annotations

from tests.api.helpers import assert_error, data, make_source, make_webhook

VIEWED = {"name": "Pages as tracks", "trigger": 'type = "page"', "action": "track",
          "fields": {"event": {"@template": "Viewed {{name}}"}, "type": "track"}}  # fmt: skip
PRESET_NAMES = ["Track Calls", "Identify Calls", "Page Calls", "Screen Calls", "Group Calls", "Alias Calls"]


def _path(hook: dict, mapping_id: str | None = None) -> str:
    path = f"/api/v1/destinations/{hook['id']}/mappings"
    return path if mapping_id is None else f"{path}/{mapping_id}"


def _hook(client, **fields) -> dict:
    return make_webhook(client, make_source(client)["id"], **fields)


def set_plan(client, plan: str) -> None:
    data(client.patch("/api/v1/workspace", json={"plan": plan}), "workspace")


def test_a_new_instance_gets_its_destinations_presets(owner):
    hook = _hook(owner)
    mappings = data(owner.get(_path(hook)), "mappings")
    assert [item["name"] for item in mappings] == PRESET_NAMES
    assert [item["position"] for item in mappings] == list(range(6))
    assert mappings[0] == {**mappings[0], "destinationId": hook["id"], "trigger": 'type = "track"', "action": "track",
                           "fields": {}, "enabled": True}  # fmt: skip
    assert mappings[0]["id"].startswith("map_") and mappings[0]["createdAt"].endswith("Z")


def test_slack_presets_only_name_its_actions(owner):
    source = make_source(owner)
    body = {"sourceId": source["id"], "metadataId": "slack", "settings": {}}
    slack = data(owner.post("/api/v1/destinations", json=body), "destination", 201)
    assert [item["action"] for item in data(owner.get(_path(slack)), "mappings")] == ["track", "identify"]


def test_create_update_move_and_delete(owner):
    hook = _hook(owner)
    created = data(owner.post(_path(hook), json=VIEWED), "mapping", 201)
    assert {key: created[key] for key in VIEWED} == VIEWED
    assert (created["enabled"], created["position"]) == (True, 6)
    changed = data(owner.patch(_path(hook, created["id"]), json={"enabled": False, "name": "Views"}), "mapping")
    assert (changed["enabled"], changed["name"], changed["fields"]) == (False, "Views", VIEWED["fields"])
    moved = data(owner.patch(_path(hook, created["id"]), json={"position": 0}), "mapping")
    assert moved["position"] == 0
    names = [item["name"] for item in data(owner.get(_path(hook)), "mappings")]
    assert names == ["Views", *PRESET_NAMES]
    replaced = data(owner.patch(_path(hook, created["id"]), json={"fields": {"type": "track"}}), "mapping")
    assert replaced["fields"] == {"type": "track"}
    assert data(owner.delete(_path(hook, created["id"])), "mapping")["id"] == created["id"]
    assert len(data(owner.get(_path(hook)), "mappings")) == 6
    assert_error(owner.delete(_path(hook, created["id"])), 404, "not_found", created["id"])


def test_copying_settings_copies_the_mappings(owner):
    hook = _hook(owner)
    for item in data(owner.get(_path(hook)), "mappings")[1:]:
        data(owner.delete(_path(hook, item["id"])), "mapping")
    data(owner.post(_path(hook), json={**VIEWED, "enabled": False}), "mapping", 201)
    backend = make_source(owner, "Backend", "python")
    copy = make_webhook(owner, backend["id"], copySettingsFrom=hook["id"])
    copied = data(owner.get(_path(copy)), "mappings")
    assert [(item["name"], item["enabled"]) for item in copied] == [("Track Calls", True), ("Pages as tracks", False)]


def test_errors_name_the_field(owner):
    hook = _hook(owner)
    body = assert_error(owner.post(_path(hook), json={**VIEWED, "trigger": 'type = "page'}), 400, "invalid_fql",
                        "trigger: invalid FQL at position")  # fmt: skip
    assert body["position"] == 8
    bad_fields = {**VIEWED, "fields": {"event": {"@template": "x", "other": 1}}}
    assert_error(owner.post(_path(hook), json=bad_fields), 400, "invalid_mapping", "fields: invalid mapping at $.event")
    assert_error(owner.post(_path(hook), json={**VIEWED, "fields": {"x": {"@liquid": "{{a}}"}}}), 400, "invalid_mapping", "fields:")
    assert_error(owner.post(_path(hook), json={**VIEWED, "action": "fly"}), 400, "invalid_request", "action")
    assert_error(owner.post(_path(hook), json={**VIEWED, "name": " "}), 400, "invalid_request", "name")
    assert_error(owner.post(_path(hook), json={**VIEWED, "extra": 1}), 400, "invalid_request", "extra")
    first = data(owner.get(_path(hook)), "mappings")[0]
    assert_error(owner.patch(_path(hook, first["id"]), json={"trigger": "event ="}), 400, "invalid_fql", "trigger:")
    assert_error(owner.get("/api/v1/destinations/dst_nope/mappings"), 404, "not_found")
    other = make_webhook(owner, make_source(owner, "Backend", "python")["id"])
    assert_error(owner.patch(_path(other, first["id"]), json={"enabled": False}), 404, "not_found", first["id"])


def test_an_action_the_destination_lacks_is_refused(owner):
    source = make_source(owner)
    slack = data(owner.post("/api/v1/destinations", json={"sourceId": source["id"], "metadataId": "slack"}), "destination", 201)
    error = owner.post(_path(slack), json={**VIEWED, "action": "page"})
    assert_error(error, 400, "invalid_config", "action: Slack has no 'page' action", "track, identify")


def test_free_and_team_allow_two_conditions_per_trigger_business_more(owner):
    hook = _hook(owner)
    three = {**VIEWED, "trigger": 'type = "track" and (event = "A" or event = "B")'}
    two = {**VIEWED, "trigger": 'type = "track" and !contains(event, "Test")'}
    for plan in ("free", "team"):
        set_plan(owner, plan)
        assert_error(owner.post(_path(hook), json=three), 403, "plan_limit", f"the {plan} plan allows 2 conditions", "has 3")
        created = data(owner.post(_path(hook), json=two), "mapping", 201)
        assert_error(owner.patch(_path(hook, created["id"]), json={"trigger": three["trigger"]}), 403, "plan_limit", "trigger")
        data(owner.delete(_path(hook, created["id"])), "mapping")
    assert data(owner.get("/api/v1/workspace"), "workspace")["limits"]["maxTriggerConditions"] == 2
    set_plan(owner, "business")
    assert data(owner.get("/api/v1/workspace"), "workspace")["limits"]["maxTriggerConditions"] is None
    created = data(owner.post(_path(hook), json=three), "mapping", 201)
    set_plan(owner, "free")
    assert data(owner.patch(_path(hook, created["id"]), json={"enabled": False}), "mapping")["enabled"] is False


def test_at_most_50_mappings_per_instance(owner):
    hook = _hook(owner)
    for number in range(44):
        data(owner.post(_path(hook), json={**VIEWED, "name": f"M{number}"}), "mapping", 201)
    assert_error(owner.post(_path(hook), json=VIEWED), 400, "invalid_config", "at most 50 mappings")


def test_read_only_tokens_read_but_cannot_change_mappings(owner, api_client):
    hook = _hook(owner)
    reader = api_client("read_only")
    first = data(reader.get(_path(hook)), "mappings")[0]
    assert_error(reader.post(_path(hook), json=VIEWED), 403, "forbidden", "read_only")
    assert_error(reader.patch(_path(hook, first["id"]), json={"enabled": False}), 403, "forbidden")
    assert_error(reader.delete(_path(hook, first["id"])), 403, "forbidden")
    member = api_client("member")
    assert data(member.post(_path(hook), json=VIEWED), "mapping", 201)["name"] == VIEWED["name"]
