"""A Segue cluster on this machine: two ingest nodes and two routers on one JetStream log and a
PostgreSQL config store. Mid-load one router is killed with kill -9 and a third joins.

Every event the ingest nodes acknowledged to Segment's Python client reaches the local webhook;
each user's events arrive in order; an event arrives twice only if it was first delivered
before the cluster settled after the kill and the join (docs/scale-out.md, "At least once").
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from segment.analytics import Client

from segue.log.protocol import partition_for
from tests.conftest import LiveServer, fresh_database
from tests.e2e.test_cloud_delivery import connect_webhook, hook_server  # noqa: F401 (fixture)
from tests.e2e.test_roles import delete_stream
from tests.log.conftest import NATS_URL, nats_reachable

LEASE_SECONDS = 2.0
USERS = 12

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not nats_reachable(), reason=f"needs a NATS server with JetStream at {NATS_URL}")]


class ClusterNode(LiveServer):
    """`segue serve --role ROLE` with its own data dir, the shared log and the shared config store."""

    def __init__(self, work_dir, name: str, role: str, stream: str, database_url: str, secret_key: str) -> None:
        super().__init__(work_dir / name, work_dir / f"{name}.log")
        self.name, self.serve_args = name, ("--role", role)
        self.shared = {"SEGUE_LOG_URL": NATS_URL, "SEGUE_LOG_STREAM": stream, "SEGUE_DATABASE_URL": database_url,
                       "SEGUE_SECRET_KEY": secret_key, "SEGUE_NODE_NAME": name,
                       "SEGUE_LEASE_SECONDS": str(LEASE_SECONDS), "SEGUE_CONFIG_POLL_SECONDS": "0.2"}

    def environment(self) -> dict[str, str]:
        return {**super().environment(), **self.shared}


@pytest.fixture
def config_database():
    """A fresh PostgreSQL database for the cluster's config store."""
    with fresh_database("segue_cluster") as url:
        yield url


class Load:
    """Segment's Python client sending each user's numbered events, alternately to each ingest
    node, until stopped; keeps what the nodes acknowledged."""

    def __init__(self, source: dict, ingest_nodes: list[LiveServer]) -> None:
        self.clients = [Client(source["write_key"], host=node.url, sync_mode=True, max_retries=0,
                               on_error=self._failed) for node in ingest_nodes]
        self.acknowledged: set[str] = set()
        self.failed: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _failed(self, error, batch) -> None:
        self.failed.update(message["messageId"] for message in batch)

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            for user in range(USERS):
                message_id = f"u{user}-{n}"
                self.clients[(n + user) % 2].track(f"u{user}", "Clustered", {"n": n}, message_id=message_id)
                if message_id not in self.failed:
                    self.acknowledged.add(message_id)
            n += 1
            time.sleep(0.01)

    def __enter__(self) -> "Load":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _missing(message_ids: set[str]) -> str:
    users = sorted({message_id.split("-")[0] for message_id in message_ids})
    return (f"{len(message_ids)} acknowledged events never arrived, of users {users} "
            f"(partitions {sorted({partition_for(user, 32) for user in users})})")


def _order_breaks(received: list) -> list[str]:
    """Where a user's event arrived before an earlier one of theirs (a repeat, going back to what
    was already delivered, is at-least-once and allowed)."""
    last: dict[str, int] = {}
    breaks = []
    for request in received:
        body = request.json()
        user, n = body["userId"], body["properties"]["n"]
        if n > last.get(user, -1) + 1:
            breaks.append(f"{user}: {n} after {last.get(user)} at {request.at:.2f}")
        last[user] = max(last.get(user, -1), n)
    return breaks


def test_a_router_killed_mid_load_and_one_joining_lose_nothing_and_keep_order(tmp_path, config_database,
                                                                             hook_server):  # noqa: F811
    from cryptography.fernet import Fernet

    stream, secret = f"T{uuid.uuid4().hex[:12].upper()}", Fernet.generate_key().decode()

    def node(name: str, role: str) -> ClusterNode:
        return ClusterNode(tmp_path, name, role, stream, config_database, secret)

    ingest = [node("ingest-1", "ingest"), node("ingest-2", "ingest")]
    routers = [node("router-a", "router"), node("router-b", "router")]
    joining = node("router-c", "router")
    started = []
    try:
        for server in [*ingest, *routers]:
            server.start()
            started.append(server)
        source = ingest[0].create_source("Cluster", "python")
        ingest[1]._wait_accepted(source["write_key"])
        connect_webhook(ingest[0], source, hook_server.url + "/cluster")
        time.sleep(2 * LEASE_SECONDS)  # the routers pick up the destination and split the partitions
        with Load(source, ingest) as load:
            time.sleep(3)
            routers[0].kill()
            killed_at = time.monotonic()
            time.sleep(1)
            joining.start()
            joined_at = time.monotonic()
            started.append(joining)
            time.sleep(3 * LEASE_SECONDS)
            settled_at = time.monotonic()
            time.sleep(2)
        assert len(load.acknowledged) > 500 and not load.failed

        def delivered() -> set[str]:
            return {body["messageId"] for body in hook_server.bodies("/cluster")}

        deadline = time.monotonic() + 60
        while not load.acknowledged <= delivered():
            assert time.monotonic() < deadline, _missing(load.acknowledged - delivered())
            time.sleep(0.2)
        received = hook_server.received
        assert not _order_breaks([request for request in received if request.path == "/cluster"])
        first_seen: dict[str, float] = {}
        repeats = []
        for request in received:
            message_id = request.json()["messageId"]
            if message_id in first_seen:
                repeats.append(first_seen[message_id])
            first_seen.setdefault(message_id, request.at)
        late = sorted(round(at - killed_at, 2) for at in repeats if at >= settled_at)
        assert not late, f"repeats of events first delivered after the cluster settled (s after the kill): {late}"
        print(f"{len(load.acknowledged)} acknowledged, {len(repeats)} delivered twice "
              f"(kill at {killed_at:.1f}, router-c started at {joined_at:.1f}, settled at {settled_at:.1f})")
    finally:
        for server in started:
            server.stop()
        delete_stream(stream)
