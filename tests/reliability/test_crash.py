"""Crash: kill -9 of `segue serve` under sustained load loses nothing and corrupts nothing, on the
embedded SQLite log (10 kills) and on a NATS JetStream log (8 kills; skipped without a NATS server).

Two sender threads post `/v1/batch` requests with unique messageIds (each thread owns its users,
so each user's events have one order: the order they were acknowledged). A request that fails
while the server is down is resent unchanged, as Segment's clients do. A webhook instance
(single-event delivery: users in parallel, each user's chain in order) delivers to a local
`ScriptedServer`. The server is killed at random moments (seeded); after the final
restart the test waits for delivery to drain, syncs the default DuckDB warehouse and checks the
promises of docs/reliability.md: delivery at least once with duplicates only across a crash and
at most one fetch per crash, per-user order, the warehouse exactly once, no corrupt file.
"""

from __future__ import annotations

import gzip
import random
import sqlite3
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import httpx
import pytest

from segue.pipeline.worker import FETCH_LIMIT
from tests.conftest import LiveServer
from tests.e2e.test_roles import delete_stream
from tests.log.conftest import NATS_URL, nats_reachable
from tests.pipeline.scripted_server import ScriptedServer

pytestmark = pytest.mark.slow

SEED = 20261129
SENDERS = 2
USERS_PER_SENDER = 5
BATCH_SIZE = 20
PACE_SECONDS = 0.05  # between acknowledged batches: about 800 events/s in all, which delivery drains soon
BURST_SECONDS = (0.3, 1.5)  # load runs this long (random, seeded) before each kill
DRAIN_DEADLINE = 90.0  # a stall guard for polling, not a measurement
SQLITE_HEADER = b"SQLite format 3\x00"
CRASH_ENVIRONMENT = {"SEGUE_ARCHIVE_FLUSH_SECONDS": "1"}  # archive parts get written (and interrupted) during the run


@dataclass(frozen=True)
class Backend:
    """An event log the crash test runs on: how often it kills, the settings, the SQLite files
    the data dir must hold at the end (the JetStream log keeps its records, dedup and cursors in NATS)."""

    name: str
    kills: int
    stores: set[str]
    environment: dict[str, str] = field(default_factory=dict)


SQLITE = Backend("sqlite", kills=10, stores={"config.db", "log/dedup.db", "log/cursors.db", "delivery/retries.db"})
# A restarted node under the same name takes its partition and warehouse leases back at once
# (segue/log/leases.py); the short lease time only matters if that ever stops being true.
JETSTREAM = Backend("jetstream", kills=8, stores={"config.db", "delivery/retries.db"},
                    environment={"SEGUE_LOG_URL": NATS_URL, "SEGUE_NODE_NAME": "crash-node",
                                 "SEGUE_LEASE_SECONDS": "2"})


class CrashServer(LiveServer):
    """A LiveServer whose archive flushes every second, so kills land in archive writes too, on
    the embedded log or (`log_environment`) on a JetStream stream; the CLI gets the same settings."""

    def __init__(self, data_dir: Path, log_path: Path, log_environment: dict[str, str]) -> None:
        super().__init__(data_dir, log_path)
        self.log_environment = log_environment

    def environment(self) -> dict[str, str]:
        return {**super().environment(), **CRASH_ENVIRONMENT, **self.log_environment}


class Sender(threading.Thread):
    """Posts batches for its own users until stopped; resends a batch until it is answered 200."""

    def __init__(self, url: str, write_key: str, number: int, stop: threading.Event) -> None:
        super().__init__(name=f"crash-sender-{number}", daemon=True)
        self.url, self.write_key, self.number, self.stop = url, write_key, number, stop
        self.acked: list[dict] = []  # acknowledged events, in acknowledgement order
        self.failures = 0

    def run(self) -> None:
        sequence = 0
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while not self.stop.is_set():
                batch = [self._event(sequence + n) for n in range(BATCH_SIZE)]
                while not self._post(client, batch):
                    if self.stop.is_set():
                        return  # never answered: not acknowledged, so not expected anywhere
                    self.failures += 1
                    time.sleep(0.05)  # down or restarting: resend the same batch
                self.acked.extend(batch)
                sequence += BATCH_SIZE
                time.sleep(PACE_SECONDS)

    def _event(self, sequence: int) -> dict:
        return {"type": "track", "event": "Crash Probe", "messageId": f"crash-{self.number}-{sequence}",
                "userId": f"user-{self.number}-{sequence % USERS_PER_SENDER}", "properties": {"sequence": sequence}}

    def _post(self, client: httpx.Client, batch: list[dict]) -> bool:
        try:
            return client.post("/v1/batch", json={"batch": batch, "writeKey": self.write_key}).status_code == 200
        except httpx.HTTPError:
            return False


def sqlite_files(data_dir: Path) -> list[Path]:
    """Every SQLite database under the data dir (not its -wal/-shm companions, not `.partial`
    log segments, which start() deletes unread: docs/event-log.md, Crash recovery)."""
    found = []
    for path in sorted(data_dir.rglob("*")):
        if not path.is_file() or path.name.endswith(("-wal", "-shm", "-journal", ".partial")):
            continue
        with path.open("rb") as file:
            if file.read(16) == SQLITE_HEADER:
                found.append(path)
    return found


def integrity_problems(data_dir: Path) -> dict[str, str]:
    """`PRAGMA integrity_check` of every SQLite file (read-only, as the crash left it) that is not ok."""
    problems = {}
    for path in sqlite_files(data_dir):
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        try:
            result = connection.execute("PRAGMA integrity_check").fetchall()
        except sqlite3.DatabaseError as error:
            result = [(f"error: {error}",)]
        finally:
            connection.close()
        if result != [("ok",)]:
            problems[str(path.relative_to(data_dir))] = repr(result)
    return problems


def archive_problems(data_dir: Path) -> dict[str, str]:
    """Archive parts that do not decompress to whole lines."""
    problems = {}
    for part in sorted((data_dir / "archive").rglob("part-*.ndjson.gz")):
        try:
            text = gzip.decompress(part.read_bytes())
            if text and not text.endswith(b"\n"):
                problems[str(part.relative_to(data_dir))] = "last line cut"
        except (OSError, EOFError) as error:
            problems[str(part.relative_to(data_dir))] = repr(error)
    return problems


def lives_of(deliveries: list, boundaries: list[float]) -> list[tuple[str, int]]:
    """(messageId, server life) of every delivery, in arrival order; life n starts at boundaries[n-1]."""
    return [(received.json()["messageId"], sum(received.at >= start for start in boundaries))
            for received in deliveries]


def wait_for_delivery(hook: ScriptedServer, path: str, expected: set[str]) -> None:
    """Poll until every expected messageId arrived, or the deadline passed (the caller then names what is missing)."""
    deadline = time.monotonic() + DRAIN_DEADLINE
    while not expected <= {body["messageId"] for body in hook.bodies(path)} and time.monotonic() < deadline:
        time.sleep(0.2)


def per_user_first_arrivals(deliveries: list[tuple[str, int]], user_of: dict[str, str]) -> dict[str, list[str]]:
    """Each user's messageIds in the order they first reached the destination (resends dropped)."""
    order: dict[str, list[str]] = defaultdict(list)
    seen: set[str] = set()
    for message_id, _ in deliveries:
        if message_id not in seen:
            seen.add(message_id)
            order[user_of[message_id]].append(message_id)
    return dict(order)


def first_order_differences(arrived: dict[str, list[str]], acknowledged: dict[str, list[str]]) -> dict[str, str]:
    """For each user whose first arrivals differ from the acknowledgement order: where, and what
    came instead of what (a failure message that names the events)."""
    differences = {}
    for user, expected in acknowledged.items():
        got = arrived.get(user, [])
        if got != expected:
            at = next((n for n, (one, other) in enumerate(zip(got, expected)) if one != other),
                      min(len(got), len(expected)))
            differences[user] = f"position {at}: arrived {got[at:at + 3]}, acknowledged {expected[at:at + 3]}"
    return differences


def resends_per_life(deliveries: list[tuple[str, int]]) -> Counter:
    """How many deliveries of each server life repeated one of an earlier life."""
    first_life: dict[str, int] = {}
    for message_id, life in deliveries:
        first_life.setdefault(message_id, life)
    return Counter(life for message_id, life in deliveries if life > first_life[message_id])


def warehouse_counts(data_dir: Path, source_name: str) -> Counter:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as connection:
        found = connection.execute(f"SELECT id, count(*) FROM {source_name}.tracks GROUP BY id").fetchall()
    return Counter(dict(found))


@pytest.fixture
def hook():
    server = ScriptedServer().start()
    yield server
    server.stop()


@pytest.fixture(params=[SQLITE, JETSTREAM], ids=lambda backend: backend.name)
def backend(request):
    """The event log under test; a JetStream run gets a stream of its own, deleted afterwards."""
    if request.param is SQLITE:
        yield SQLITE
        return
    if not nats_reachable():
        pytest.skip(f"the JetStream crash test needs a NATS server with JetStream at {NATS_URL}")
    stream = f"CRASH{uuid.uuid4().hex[:10].upper()}"
    yield replace(JETSTREAM, environment={**JETSTREAM.environment, "SEGUE_LOG_STREAM": stream})
    delete_stream(stream)


@pytest.fixture
def live_server(tmp_path, backend):
    """Not started yet: the test configures the data dir first. Named `live_server` so a failing
    test's report gets the server's output (tests/conftest.py)."""
    server = CrashServer(tmp_path / "data", tmp_path / "server.log", backend.environment)
    yield server
    server.stop()


def run_load_with_kills(server: CrashServer, write_key: str, kills: int,
                        rng: random.Random) -> tuple[list[Sender], list[float], dict]:
    """Load, `kills` kills at random moments (integrity checked while down), a final restart, more load."""
    stop = threading.Event()
    senders = [Sender(server.url, write_key, n, stop) for n in range(SENDERS)]
    boundaries, corrupt_after_kill = [], {}
    for sender in senders:
        sender.start()
    try:
        for kill in range(1, kills + 1):
            time.sleep(rng.uniform(*BURST_SECONDS))
            server.kill()
            problems = integrity_problems(server.data_dir)
            corrupt_after_kill.update({f"kill {kill}: {name}": why for name, why in problems.items()})
            time.sleep(0.2)  # a request the old process had fully sent is recorded before the next life starts
            boundaries.append(time.monotonic())
            server.start()
        time.sleep(rng.uniform(*BURST_SECONDS))
    finally:
        stop.set()
        for sender in senders:
            sender.join()
    return senders, boundaries, corrupt_after_kill


def sync_warehouse(server: CrashServer) -> None:
    """Load the default DuckDB warehouse: `segue warehouses sync` hands the sync to the running
    server (which holds the log's writer lock, or on JetStream the warehouse's lease)."""
    server.cli("warehouses", "sync", "warehouse")


def test_kill_9_under_load_loses_nothing_keeps_order_and_corrupts_nothing(live_server, hook, backend):
    source = live_server.create_source("crash", "python")
    live_server.cli("destinations", "create", "webhook", "--source", source["id"],
                     "--setting", f"url={hook.url}/crash", "--enable", "--json")
    live_server.start()

    senders, boundaries, corrupt_after_kill = run_load_with_kills(live_server, source["write_key"], backend.kills,
                                                                 random.Random(SEED))
    acked = [event for sender in senders for event in sender.acked]
    acked_ids = {event["messageId"] for event in acked}
    assert len(acked_ids) == len(acked), "the senders made unique messageIds"
    print(f"{len(acked)} events acknowledged, {sum(s.failures for s in senders)} batches resent, {backend.kills} kills")
    assert corrupt_after_kill == {}, "a kill left a corrupt SQLite file"

    # Delivery: every acknowledged event, at least once (and nothing that was never sent).
    wait_for_delivery(hook, "/crash", acked_ids)
    sync_warehouse(live_server)
    live_server.stop()
    deliveries = lives_of([r for r in hook.received if r.path == "/crash" and r.status == 200], boundaries)
    delivered = Counter(message_id for message_id, _ in deliveries)
    missing = sorted(acked_ids - set(delivered))
    assert missing == [], f"{len(missing)} acknowledged events never reached the destination, e.g. {missing[:5]}"
    assert set(delivered) == acked_ids, "the destination got events no client sent"

    # Duplicates only across a crash: within one server life an event goes out once, and a
    # crash resends at most what the worker had fetched but not acknowledged (one fetch; on
    # JetStream up to 100 records of each partition held, and the ten users fill at most ten).
    assert [pair for pair, times in Counter(deliveries).items() if times > 1] == []
    resent = resends_per_life(deliveries)
    assert all(count <= FETCH_LIMIT for count in resent.values()), resent
    print(f"{sum(resent.values())} duplicate deliveries, by server life: {dict(sorted(resent.items()))}")

    # Per-user order: each user's events first arrive in the order they were acknowledged.
    acknowledged_order: dict[str, list[str]] = defaultdict(list)
    for event in acked:
        acknowledged_order[event["userId"]].append(event["messageId"])
    user_of = {event["messageId"]: event["userId"] for event in acked}
    assert first_order_differences(per_user_first_arrivals(deliveries, user_of), dict(acknowledged_order)) == {}

    # The warehouse: every acknowledged event exactly once.
    rows = warehouse_counts(live_server.data_dir, "crash")
    not_loaded = sorted(acked_ids - set(rows))
    assert not_loaded == [], f"{len(not_loaded)} acknowledged events not in the warehouse, e.g. {not_loaded[:5]}"
    assert set(rows) == acked_ids, "the warehouse holds events no client sent"
    assert [message_id for message_id, count in rows.items() if count != 1] == []

    # Nothing corrupt once it is all over (and the check did look at the stores that matter).
    checked = {path.relative_to(live_server.data_dir).as_posix() for path in sqlite_files(live_server.data_dir)}
    assert backend.stores <= checked, checked
    assert integrity_problems(live_server.data_dir) == {}
    assert archive_problems(live_server.data_dir) == {}
    assert list((live_server.data_dir / "archive").rglob("part-*.ndjson.gz")), "the archive wrote parts"
