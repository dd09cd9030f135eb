"""Limits, per-message validation, partial batches, dedup and client IPs (spec 1.4-1.10, vectors 7, 8)."""

import base64

import pytest

BASIC = {"Authorization": "Basic " + base64.b64encode(b"abc123:").decode()}


def track(i=0, **fields):
    return {"type": "track", "userId": f"user-{i}", "event": "Song Played", **fields}


def assert_error(response, status, code):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["code"] == code and body["message"]


async def test_single_message_over_32kb_is_400(client, stored):
    body = {"userId": "u", "event": "big", "properties": {"blob": "x" * (32 * 1024)}}
    assert_error(await client.post("/v1/track", json=body, headers=BASIC), 400, "request_too_large")
    assert await stored() == []


async def test_batch_over_500kb_is_400(client, stored):
    batch = [track(i, properties={"blob": "x" * 20_000}) for i in range(30)]
    assert_error(await client.post("/v1/batch", json={"batch": batch}, headers=BASIC), 400, "request_too_large")
    assert await stored() == []


async def test_batch_over_2500_messages_is_400(client, stored):
    batch = [{"type": "track", "userId": "u", "event": "e"} for _ in range(2501)]
    assert_error(await client.post("/v1/batch", json={"batch": batch}, headers=BASIC), 400, "too_many_messages")
    ok = await client.post("/v1/batch", json={"batch": batch[:2500]}, headers=BASIC)
    assert ok.status_code == 200 and len(await stored()) == 2500


async def test_vector_7_one_oversized_item_is_rejected_the_rest_kept(client, stored):
    batch = [track(0), track(1, properties={"blob": "x" * 40_000}), track(2)]
    response = await client.post("/v1/batch", json={"batch": batch}, headers=BASIC)
    assert response.status_code == 200
    [rejected] = response.json()["rejected"]
    assert rejected["index"] == 1 and rejected["code"] == "message_too_large"
    assert [m["userId"] for m in await stored()] == ["user-0", "user-2"]


async def test_vector_7_envelope_context_merged_into_every_item(client, stored):
    device = {"type": "phone", "name": "Apple iPhone 6"}
    batch = [
        {"type": "identify", "userId": "u", "traits": {"plan": "pro"}},
        track(1, event="Song Played"),
        {"type": "identify", "userId": "u2"},
        track(2),
    ]
    body = {"batch": batch, "context": {"device": device}, "writeKey": "abc123"}
    assert (await client.post("/v1/batch", json=body)).json() == {"success": True}
    messages = await stored()
    assert len(messages) == 4 and all(m["context"]["device"] == device for m in messages)


async def test_vector_8_invalid_items_are_named_and_valid_ones_kept(client, stored):
    batch = [
        track(0),
        {"type": "track", "userId": "u"},
        {"type": "track", "event": "no user", "messageId": "m-anon"},
        {"type": "group", "userId": "u"},
        {"type": "alias", "userId": "u"},
        {"type": "nope", "userId": "u"},
        "not an object",
        track(7),
    ]
    response = await client.post("/v1/batch", json={"batch": batch}, headers=BASIC)
    assert response.status_code == 200
    rejected = response.json()["rejected"]
    assert [(r["index"], r["code"]) for r in rejected] == [
        (1, "missing_event"), (2, "no_user_anon_id"), (3, "missing_group_id"),
        (4, "missing_previous_id"), (5, "invalid_type"), (6, "invalid_message"),
    ]
    assert rejected[1]["messageId"] == "m-anon"
    assert [m["userId"] for m in await stored()] == ["user-0", "user-7"]


async def test_a_batch_with_no_valid_message_is_400_and_lists_them(client, stored):
    response = await client.post("/v1/batch", json={"batch": [{"type": "track", "userId": "u"}]}, headers=BASIC)
    assert_error(response, 400, "invalid_batch")
    assert response.json()["rejected"][0]["code"] == "missing_event"


@pytest.mark.parametrize(
    "route, body, code",
    [
        ("track", {"userId": "u"}, "missing_event"),
        ("track", {"event": "x"}, "no_user_anon_id"),
        ("group", {"userId": "u"}, "missing_group_id"),
        ("alias", {"userId": "u"}, "missing_previous_id"),
        ("alias", {"anonymousId": "a", "previousId": "p"}, "missing_user_id"),
        ("identify", {"userId": "u", "timestamp": "last tuesday"}, "invalid_timestamp"),
    ],
)
async def test_single_invalid_message_is_400_with_its_code(client, stored, route, body, code):
    assert_error(await client.post(f"/v1/{route}", json=body, headers=BASIC), 400, code)
    assert await stored() == []


async def test_batch_must_be_an_array(client):
    assert_error(await client.post("/v1/batch", json={"batch": {"a": 1}}, headers=BASIC), 400, "invalid_batch")


async def test_vector_8_repeated_message_id_is_acknowledged_and_stored_once(client, stored):
    for _ in range(3):
        response = await client.post("/v1/track", json=track(messageId="dup-1"), headers=BASIC)
        assert response.json() == {"success": True}
    batch = [track(messageId="dup-1"), track(messageId="dup-2"), track(messageId="dup-2")]
    assert (await client.post("/v1/batch", json={"batch": batch}, headers=BASIC)).status_code == 200
    assert sorted(m["messageId"] for m in await stored()) == ["dup-1", "dup-2"]


async def test_dedup_is_per_source(client, stored):
    await client.post("/v1/track", json=track(messageId="same"), headers=BASIC)
    await client.post("/v1/track", json={**track(messageId="same"), "writeKey": "webkey"})
    assert len(await stored()) == 2


async def test_browser_sources_get_the_connection_ip_server_sources_do_not(client, stored):
    await client.post("/v1/t", json={**track(1), "writeKey": "webkey"})
    await client.post("/v1/t", json={**track(2), "writeKey": "abc123"})
    browser, server = await stored()
    assert browser["context"]["ip"] == "203.0.113.9"
    assert "context" not in server


async def test_stored_messages_lose_write_key_and_metadata(client, stored):
    body = {**track(), "writeKey": "webkey", "_metadata": {"bundled": ["Segment.io"]}}
    await client.post("/v1/t", json=body)
    [message] = await stored()
    assert "writeKey" not in message and "_metadata" not in message


async def test_segment_style_200_for_unknown_keys_when_configured():
    from segue.config import Settings
    from segue.log.memory import MemoryLog
    from segue.pipeline.ingest import Ingestor
    from segue.pipeline.sources import SourceDirectory
    from tests.web.conftest import SOURCES, MemorySources

    directory = SourceDirectory(MemorySources(*SOURCES))
    directory.refresh_now()
    event_log = MemoryLog()
    await event_log.start()
    ingestor = Ingestor(Settings.load(environ={}, unknown_write_key_status=200), event_log, directory)
    result = await ingestor.ingest("track", b'{"userId":"u","event":"e","writeKey":"nope"}', None, None)
    assert (result.stored, result.rejected) == (0, [])
    assert await event_log.newest(10) == []
