"""What JetStream adds to the log contract: several nodes share one log, its dedup and its cursors."""

from __future__ import annotations

import uuid

import pytest

from segue.errors import StorageUnavailable
from segue.log.jetstream import JetStreamLog
from segue.log.jetstream_io import RawDispatch
from tests.log.conftest import NATS_URL, nats_reachable
from tests.log.log_helpers import entries, entry

pytestmark = pytest.mark.skipif(not nats_reachable(), reason=f"needs a NATS server with JetStream at {NATS_URL}")


@pytest.fixture
async def two_nodes():
    stream = f"T{uuid.uuid4().hex[:12].upper()}"
    first, second = JetStreamLog(NATS_URL, stream=stream), JetStreamLog(NATS_URL, stream=stream)
    await first.start()
    await second.start()
    yield first, second
    await first.delete_everything()
    await first.close()
    await second.close()


async def test_two_nodes_append_to_one_log_with_one_dedup(two_nodes):
    first, second = two_nodes
    assert await first.append(entries(2, "a")) == [1, 2]
    assert await second.append([entry("a1"), entry("b0")]) == [None, 3]  # a1 came through the other node
    assert [record.message_id for record in await second.newest(10)] == ["a0", "a1", "b0"]


async def test_a_cursor_acknowledged_on_one_node_is_where_another_node_resumes(two_nodes):
    first, second = two_nodes
    await first.append(entries(5))
    router = first.consumer("destination:abc")
    assert [record.offset for record in await router.fetch(3)] == [1, 2, 3]
    await router.ack(3)
    takeover = second.consumer("destination:abc")  # the partition moved to the other node
    assert await takeover.committed() == 3
    assert [record.offset for record in await takeover.fetch(10)] == [4, 5]
    assert await second.consumer_names() == ["destination:abc"]


async def test_an_append_the_server_does_not_store_fails_clearly(two_nodes):
    first, _ = two_nodes
    await first._js.delete_stream(first.stream)
    with pytest.raises(StorageUnavailable, match="JetStream"):
        await first.append([entry("lost")])
    await first._js.add_stream(name=first.stream, subjects=[f"{first.subjects}.>"])  # for the teardown


@pytest.mark.parametrize("raw", [True, False], ids=["raw-dispatch", "nats-py-callbacks"])
async def test_reads_ahead_return_every_record_once_in_order(monkeypatch, raw):
    """Full batches have the next one asked for ahead; with or without RawDispatch (the
    fallback when nats-py's parser is not the expected one), nothing is lost or repeated."""
    if not raw:
        monkeypatch.setattr(RawDispatch, "route", lambda self, subscription, handler: False)
    log = JetStreamLog(NATS_URL, stream=f"T{uuid.uuid4().hex[:12].upper()}")
    await log.start()
    try:
        await log.append(entries(23, "a"))
        consumer, seen = log.consumer("router"), []
        while len(seen) < 23:
            seen += await consumer.fetch(4)
            if len(seen) == 12:
                await log.append(entries(1, "b"))  # lands after a read ahead was asked for
        await consumer.ack(seen[-1].offset)
        await log.append(entries(1, "c"))
        seen += await consumer.fetch(10, wait=1)
        assert [record.offset for record in seen] == list(range(1, 26))
    finally:
        await log.delete_everything()
        await log.close()
