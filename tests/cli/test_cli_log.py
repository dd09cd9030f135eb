"""`segue log cursors` and `segue log forget-node`, on the embedded log and on NATS."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from segue.log.jetstream import JetStreamLog
from segue.log.sqlite import SqliteLog
from tests.log.conftest import NATS_URL, nats_reachable
from tests.log.log_helpers import entries


async def _fill(event_log, acked: dict[str, int], events: int = 5) -> None:
    await event_log.start()
    try:
        await event_log.append(entries(events))
        for name, offset in acked.items():
            await event_log.consumer(name).ack(offset)
    finally:
        await event_log.close()


def test_cursors_of_the_embedded_log_with_how_far_behind_each_is(segue):
    asyncio.run(_fill(SqliteLog(segue.data_dir / "log"), {"destination:abc": 3, "warehouse:w1": 5}))
    listed = json.loads(segue.ok("log", "cursors", "--json").stdout)
    assert listed == {"head": 5, "cursors": [
        {"name": "destination:abc", "cursor": 3, "behind": 2, "node": None},
        {"name": "warehouse:w1", "cursor": 5, "behind": 0, "node": None},
    ]}
    assert "destination:abc" in segue.ok("log", "cursors").stdout


def test_an_empty_log_has_no_cursors_and_no_node_to_forget(segue):
    assert "No consumers registered." in segue.ok("log", "cursors").stdout
    assert "no per-node cursors" in segue.fails("log", "forget-node", "web-1")


@pytest.mark.skipif(not nats_reachable(), reason=f"needs a NATS server with JetStream at {NATS_URL}")
def test_forget_node_removes_only_that_nodes_own_cursors(segue):
    stream = f"T{uuid.uuid4().hex[:12].upper()}"
    env = {"SEGUE_LOG_URL": NATS_URL, "SEGUE_LOG_STREAM": stream}
    cursors = {"archive@old-node": 1, "source-counts@old-node": 2, "archive@web-2": 4, "destination:x@3": 5}
    asyncio.run(_fill(JetStreamLog(NATS_URL, stream=stream), cursors))
    try:
        nodes = {row["name"]: row["node"] for row in json.loads(segue.ok("log", "cursors", "--json", env=env).stdout)["cursors"]}
        assert nodes == {"archive@old-node": "old-node", "source-counts@old-node": "old-node", "archive@web-2": "web-2",
                         "destination:x@3": None}
        assert "no cursors of node 'gone'" in segue.fails("log", "forget-node", "gone", "--yes", env=env)
        declined = segue("log", "forget-node", "old-node", input="n\n", env=env)
        assert declined.exit_code == 1 and len(_names(segue, env)) == 4, "declining removes nothing"
        assert "Removed 2 cursor(s)" in segue.ok("log", "forget-node", "old-node", "--yes", env=env).stdout
        assert _names(segue, env) == ["archive@web-2", "destination:x@3"]
    finally:
        asyncio.run(_delete(stream))


def _names(segue, env: dict) -> list[str]:
    return [row["name"] for row in json.loads(segue.ok("log", "cursors", "--json", env=env).stdout)["cursors"]]


async def _delete(stream: str) -> None:
    event_log = JetStreamLog(NATS_URL, stream=stream)
    await event_log.start()
    await event_log.delete_everything()
