"""`POST /destinations/{id}/preview`: what an event becomes, through the router's own code; nothing is sent."""

from __future__ import annotations

import json

from tests.api.helpers import assert_error, data, make_source, make_webhook

ORDER = {"type": "track", "event": "Order Completed", "userId": "u1", "messageId": "m1",
         "properties": {"sku": "<script>alert(1)</script>", "total": 12}}  # fmt: skip
BOUGHT = {"name": "Orders", "trigger": 'event = "Order Completed"', "action": "track",
          "fields": {"event": {"@template": "Bought {{properties.sku}}"}}}  # fmt: skip


def _preview(client, hook: dict, body: dict, status: int = 200):
    response = client.post(f"/api/v1/destinations/{hook['id']}/preview", json=body)
    return data(response, "preview", status) if status == 200 else response


def _hook(client, **fields) -> dict:
    return make_webhook(client, make_source(client)["id"], **fields)


def test_an_event_becomes_the_requests_the_destination_would_get(owner, receiver):
    hook = _hook(owner, url=receiver.url + "/in")
    preview = _preview(owner, hook, {"event": ORDER})
    assert preview["outcome"] == "sent" and preview["reason"] is None
    assert [(call["mapping"], call["action"]) for call in preview["calls"]] == [("Track Calls", "track")]
    [request] = preview["requests"]
    assert (request["method"], request["url"]) == ("POST", receiver.url + "/in")
    assert json.loads(request["body"])["properties"]["sku"] == "<script>alert(1)</script>"
    assert receiver.received == []  # a preview sends nothing


def test_an_edited_mapping_changes_the_preview(owner):
    hook = _hook(owner)
    mapping = data(owner.post(f"/api/v1/destinations/{hook['id']}/mappings", json=BOUGHT), "mapping", 201)
    bodies = [json.loads(r["body"])["event"] for r in _preview(owner, hook, {"event": ORDER})["requests"]]
    assert bodies == ["Order Completed", "Bought <script>alert(1)</script>"]  # Track Calls, then Orders
    fields = {"event": {"@template": "Paid {{properties.total}}"}}
    owner.patch(f"/api/v1/destinations/{hook['id']}/mappings/{mapping['id']}", json={"fields": fields})
    bodies = [json.loads(r["body"])["event"] for r in _preview(owner, hook, {"event": ORDER})["requests"]]
    assert bodies == ["Order Completed", "Paid 12"]


def test_a_draft_mapping_is_previewed_alone_and_checked_like_a_saved_one(owner):
    hook = _hook(owner)
    preview = _preview(owner, hook, {"event": ORDER, "mapping": BOUGHT})
    assert [call["mapping"] for call in preview["calls"]] == ["Orders"]
    assert preview["calls"][0]["payload"]["event"] == "Bought <script>alert(1)</script>"
    bad = _preview(owner, hook, {"event": ORDER, "mapping": {**BOUGHT, "trigger": "event = "}}, 400)
    assert_error(bad, 400, "invalid_fql", "trigger: invalid FQL at position")
    silent = _preview(owner, hook, {"event": ORDER, "mapping": {**BOUGHT, "trigger": 'event = "Other"'}})
    assert (silent["outcome"], silent["reason"], silent["requests"]) == ("filtered", "no matching mapping", [])


def test_secrets_are_masked_and_missing_settings_still_show_the_mapped_payload(owner):
    hook = _hook(owner, settings={"url": "http://user:hunter22@127.0.0.1:9/hook", "headers": {"Authorization": "Bearer tok-123456"},
                                  "sharedSecret": "s3cret-value"})  # fmt: skip
    text = json.dumps(_preview(owner, hook, {"type": "identify"}), ensure_ascii=False)
    assert "hunter22" not in text and "tok-123456" not in text and "Bearer ••••" in text
    source = make_source(owner, name="Other")
    unset = data(owner.post("/api/v1/destinations", json={"sourceId": source["id"], "metadataId": "webhook"}), "destination", 201)
    preview = _preview(owner, unset, {"event": ORDER})
    assert preview["outcome"] == "incomplete" and "url" in preview["reason"]
    assert preview["calls"][0]["payload"]["event"] == "Order Completed" and preview["requests"] == []


def test_filters_apply_on_the_business_plan_only(owner):
    hook = _hook(owner)
    owner.patch("/api/v1/workspace", json={"plan": "business"})
    rule = {"title": "No orders", "if": 'event = "Order Completed"', "actions": [{"type": "DROP"}]}
    data(owner.post(f"/api/v1/destinations/{hook['id']}/filters", json=rule), "filter", 201)
    dropped = _preview(owner, hook, {"event": ORDER})
    assert (dropped["outcome"], dropped["reason"]) == ("filtered", "filter 'No orders': DROP")
    owner.patch("/api/v1/workspace", json={"plan": "free"})
    assert _preview(owner, hook, {"event": ORDER})["outcome"] == "sent"


def test_a_read_only_token_may_preview_and_bodies_are_checked(api_client, owner):
    hook = _hook(owner)
    assert _preview(api_client("read_only"), hook, {"type": "page"})["outcome"] == "sent"
    assert_error(_preview(owner, hook, {"event": "text"}, 400), 400, "invalid_request")
    assert_error(_preview(owner, hook, {"event": {"type": ["track"], "userId": "u"}}, 400), 400, "invalid_config", "event: type")
    assert_error(_preview(owner, hook, {"event": {"type": "track"}}, 400), 400, "invalid_config", "userId or anonymousId")
    assert_error(owner.post("/api/v1/destinations/dst_nope/preview", json={}), 404, "not_found")


def test_the_sample_is_the_newest_event_a_mapping_takes(owner, plane):
    hook = _hook(owner)
    newest_first = [{"type": "page", "name": "Home", "userId": "u"}, {**ORDER, "messageId": "m2"}, ORDER]
    assert plane.preview_sample(hook["id"], newest_first)["type"] == "page"  # the presets take every method
    assert plane.preview_sample(hook["id"], newest_first, draft=BOUGHT)["messageId"] == "m2"
    assert plane.preview_sample(hook["id"], newest_first[:1], draft=BOUGHT) is None
