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


def test_events_a_dead_router_parked_for_a_retry_are_delivered_by_the_next_one(tmp_path, config_database,
                                                                               hook_server):  # noqa: F811
    """Router A parks every event of a failing destination, then dies with its disk. The parked
    events are in the shared queue (PostgreSQL), so router B, taking the partitions over, delivers
    them all once the destination answers again, each user's in order."""
    import shutil

    import psycopg
    from cryptography.fernet import Fernet

    stream, secret = f"T{uuid.uuid4().hex[:12].upper()}", Fernet.generate_key().decode()
    slow_retries = {"SEGUE_RETRY_BASE_SECONDS": "3", "SEGUE_RETRY_MAX_DELAY_SECONDS": "3"}

    def node(name: str, role: str) -> ClusterNode:
        server = ClusterNode(tmp_path, name, role, stream, config_database, secret)
        server.shared.update(slow_retries)
        return server

    ingest, router_a, router_b = node("ingest", "ingest"), node("router-a", "router"), node("router-b", "router")
    started = []
    try:
        for server in (ingest, router_a):
            server.start()
            started.append(server)
        source = ingest.create_source("Parked", "python")
        hook_server.default = 503
        connect_webhook(ingest, source, hook_server.url + "/parked")
        time.sleep(2 * LEASE_SECONDS)
        client = Client(source["write_key"], host=ingest.url, sync_mode=True, max_retries=0)
        for n in range(10):
            for user in range(4):
                client.track(f"u{user}", "Parked", {"n": n}, message_id=f"u{user}-{n}")

        def parked() -> int:
            with psycopg.connect(config_database) as connection:
                return connection.execute("SELECT count(*) FROM parked").fetchone()[0]

        deadline = time.monotonic() + 30
        while parked() < 40:
            assert time.monotonic() < deadline, f"router A parked {parked()} of 40 events"
            time.sleep(0.2)
        router_a.kill()
        shutil.rmtree(router_a.data_dir)  # its disk is gone too
        hook_server.default = 200
        router_b.start()
        started.append(router_b)
        deadline = time.monotonic() + 60
        while len(delivered := hook_server.bodies("/parked")) < 40:
            assert time.monotonic() < deadline, f"{len(delivered)} of 40 parked events delivered"
            time.sleep(0.2)
        for user in range(4):
            assert [body["properties"]["n"] for body in delivered if body["userId"] == f"u{user}"] == list(range(10))
        deadline = time.monotonic() + 10
        while parked():  # the last one is removed just after its answer
            assert time.monotonic() < deadline, f"{parked()} delivered events still parked"
            time.sleep(0.1)
    finally:
        for server in started:
            server.stop()
        delete_stream(stream)
