"""Every Tracking API route, auth path and response shape (spec 1.1-1.3, 1.10)."""

import base64
import gzip

import orjson
import pytest

BASIC = {"Authorization": "Basic " + base64.b64encode(b"abc123:").decode()}
TRACK = {"userId": "019mr8mf4r", "event": "Item Purchased", "properties": {"name": "Leap to Conclusions Mat", "revenue": 14.99}}
BODIES = {
    "identify": {"userId": "u1", "traits": {"email": "a@example.com"}},
    "track": TRACK,
    "page": {"userId": "u1", "name": "Home"},
    "screen": {"userId": "u1", "name": "Home"},
    "group": {"userId": "u1", "groupId": "g1"},
    "alias": {"userId": "u1", "previousId": "anon-1"},
}
SHORT = {"identify": "i", "track": "t", "page": "p", "screen": "s", "group": "g", "alias": "a"}


def assert_error(response, status, code):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["code"] == code and body["message"]


@pytest.mark.parametrize("method", sorted(BODIES))
@pytest.mark.parametrize("style", ["long", "short", "root", "slash"])
async def test_each_single_route_stores_its_message_typed_by_the_route(client, stored, method, style):
    path = {
        "long": f"/v1/{method}", "short": f"/v1/{SHORT[method]}", "root": f"/{method}", "slash": f"/v1/{method}/",
    }[style]
    response = await client.post(path, json=BODIES[method], headers=BASIC)
    assert response.status_code == 200 and response.json() == {"success": True}
    [message] = await stored()
    assert message["type"] == method and message["userId"] == "u1" if method != "track" else True


@pytest.mark.parametrize("path", ["/v1/batch", "/v1/import", "/v1/b", "/batch", "/v1/batch/"])
async def test_batch_routes_store_every_item(client, stored, path):
    batch = [{"type": "track", "userId": "u", "event": f"E{i}"} for i in range(3)]
    response = await client.post(path, json={"batch": batch, "writeKey": "abc123"})
    assert response.json() == {"success": True}
    assert [m["event"] for m in await stored()] == ["E0", "E1", "E2"]


async def test_vector_1_basic_auth_track(client, stored):
    body = {**TRACK, "context": {"ip": "24.5.68.47"}, "timestamp": "2012-12-02T00:30:12.984Z"}
    response = await client.post("/v1/track", json=body, headers=BASIC)
    assert response.json() == {"success": True}
    [message] = await stored()
    assert message["messageId"] and message["receivedAt"].endswith("Z")
    assert message["originalTimestamp"] == message["timestamp"] == "2012-12-02T00:30:12.984Z"
    assert message["properties"] == TRACK["properties"] and message["context"] == {"ip": "24.5.68.47"}


async def test_write_key_in_body_and_basic_without_colon(client, stored):
    assert (await client.post("/v1/identify", json={"userId": "u", "writeKey": "abc123"})).status_code == 200
    legacy = {"Authorization": "Basic " + base64.b64encode(b"abc123").decode()}
    assert (await client.post("/v1/identify", json={"userId": "u"}, headers=legacy)).status_code == 200
    assert len(await stored()) == 2


async def test_missing_unknown_and_disabled_keys(client, stored):
    assert_error(await client.post("/v1/track", json=TRACK), 400, "missing_write_key")
    assert_error(await client.post("/v1/track", json={**TRACK, "writeKey": "nope"}), 401, "invalid_write_key")
    assert_error(await client.post("/v1/track", json={**TRACK, "writeKey": "offkey"}), 401, "source_disabled")
    bad = {"Authorization": "Basic !!!"}
    assert_error(await client.post("/v1/track", json=TRACK, headers=bad), 400, "invalid_authorization")
    assert await stored() == []


async def test_text_plain_bodies_are_parsed_as_json(client, stored):
    headers = {**BASIC, "Content-Type": "text/plain"}
    response = await client.post("/v1/t", content=orjson.dumps(TRACK), headers=headers)
    assert response.status_code == 200
    assert (await stored())[0]["event"] == "Item Purchased"


async def test_gzip_bodies(client, stored):
    body = gzip.compress(orjson.dumps({"batch": [{"type": "track", **TRACK}], "writeKey": "abc123"}))
    response = await client.post("/v1/batch", content=body, headers={"Content-Encoding": "gzip"})
    assert response.json() == {"success": True}
    assert len(await stored()) == 1
    broken = await client.post("/v1/batch", content=b"not gzip", headers={"Content-Encoding": "gzip"})
    assert_error(broken, 400, "invalid_gzip")


async def test_gzip_bomb_is_refused_by_its_decompressed_size(client, stored):
    bomb = gzip.compress(b'{"batch":[' + b" " * (600 * 1024) + b'], "writeKey": "abc123"}')
    assert len(bomb) < 10_000
    response = await client.post("/v1/batch", content=bomb, headers={"Content-Encoding": "gzip"})
    assert_error(response, 400, "request_too_large")


async def test_cors_preflight_and_response_headers(client):
    preflight = await client.options(
        "/v1/t",
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://shop.example"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-allow-headers"] == "content-type"
    response = await client.post("/v1/t", json={**TRACK, "writeKey": "abc123"}, headers={"Origin": "https://shop.example"})
    assert response.headers["access-control-allow-origin"] == "https://shop.example"


async def test_metrics_route_answers_200_and_stores_nothing(client, stored):
    response = await client.post("/v1/m", json={"series": [{"type": "Counter", "metric": "x", "value": 1}]})
    assert response.status_code == 200
    assert await stored() == []


async def test_get_on_a_tracking_route_is_405_with_the_error_body(client):
    assert_error(await client.get("/v1/track"), 405, "method_not_allowed")


async def test_invalid_json_is_400(client):
    assert_error(await client.post("/v1/track", content=b"{nope", headers=BASIC), 400, "invalid_json")
    assert_error(await client.post("/v1/track", content=b"[1,2]", headers=BASIC), 400, "invalid_json")
