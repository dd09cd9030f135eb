"""Roles (`segue serve --role`): an ingest node and a router node on one JetStream log.

Events sent with Segment's Python client to the ingest node reach a local webhook through the
router node, in per-user order; each node answers only its own routes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid

import httpx
import pytest

from segue.errors import ConfigError
from segue.log.jetstream import JetStreamLog
from segue.server import ALL_ROLES, parse_roles
from tests.conftest import LiveServer
from tests.e2e.test_cloud_delivery import connect_webhook, hook_server, send, wait_for  # noqa: F401 (fixture)
from tests.log.conftest import NATS_URL, nats_reachable


class NodeServer(LiveServer):
    """`segue serve --role ROLE` on a shared data dir and a JetStream log."""

    def __init__(self, data_dir, log_path, role: str, stream: str) -> None:
        super().__init__(data_dir, log_path)
        self.serve_args, self.stream = ("--role", role), stream

    def environment(self) -> dict[str, str]:
        return {**super().environment(), "SEGUE_LOG_URL": NATS_URL, "SEGUE_LOG_STREAM": self.stream}


def test_roles_parse_and_refuse_unknown_names():
    assert parse_roles("all") == ALL_ROLES == parse_roles("")
    assert parse_roles("ingest, app") == {"ingest", "app"}
    with pytest.raises(ConfigError, match="unknown role"):
        parse_roles("ingest,frontend")


@pytest.mark.slow
@pytest.mark.skipif(not nats_reachable(), reason=f"needs a NATS server with JetStream at {NATS_URL}")
def test_an_ingest_node_and_a_router_node_share_one_log(tmp_path, hook_server):  # noqa: F811
    stream = f"T{uuid.uuid4().hex[:12].upper()}"
    ingest = NodeServer(tmp_path / "data", tmp_path / "ingest.log", "ingest", stream)
    router = NodeServer(tmp_path / "data", tmp_path / "router.log", "router", stream)
    ingest.start()
    router.start()
    try:
        source = ingest.create_source("Roles", "python")
        connect_webhook(ingest, source, hook_server.url + "/segment")
        time.sleep(1.5)  # the router node picks up the new destination within a second
        send(source, ingest, 12, "Routed")
        wait_for(lambda: len(hook_server.bodies("/segment")) == 12)
        bodies = hook_server.bodies("/segment")
        for user in range(4):
            mine = [body["properties"]["n"] for body in bodies if body["userId"] == f"user-{user}"]
            assert mine == sorted(mine), "per-user order"
        assert httpx.get(f"{ingest.url}/api/v1/sources").status_code == 404  # no app on an ingest node
        assert httpx.post(f"{router.url}/v1/track", json={}).status_code == 404  # no Tracking API on a router
    finally:
        ingest.stop()
        router.stop()
        delete_stream(stream)


def delete_stream(stream: str) -> None:
    """Remove a test's JetStream stream and its cursors."""
    asyncio.run(_delete_stream(stream))


async def _delete_stream(stream: str) -> None:
    log = JetStreamLog(NATS_URL, stream=stream)
    await log.start()
    await log.delete_everything()
    with contextlib.suppress(Exception):  # the routers' and loaders' leases, when they ran
        await log._js.delete_key_value(f"{stream}_leases")
    await log.close()
