"""Tools for the outage tests: a hand-moved clock, a destination that can go down, a delivery
world on the real on-disk stores, a TCP forwarder to PostgreSQL that can be cut, and the
events a warehouse must hold.

Nothing here sleeps for simulated time: the test moves a `FakeClock` and waits (in real time,
a few polls) until the workers have done what that moment allows.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

import orjson
import pytest

from segue.config import Settings
from segue.control import OPERATOR, ControlPlane
from segue.log import open_log
from segue.log.protocol import Entry
from segue.pipeline.retries import SqliteRetryQueue, SqlRetryQueue
from segue.pipeline.retries_postgres import PostgresRetryQueue
from segue.pipeline.router import Router
from segue.pipeline.stats import PostgresStatsStore, SqliteStatsStore, SqlStatsStore
from segue.store import Store
from tests.clock import FakeClock
from tests.pipeline.scripted_server import Received, ScriptedServer

STALL_SECONDS = 20.0  # a guard against a hang while polling, not a measurement
POLL_SECONDS = 0.01
MINUTE, HOUR = 60.0, 3600.0


OUTAGE_ANSWER = {"status": 500, "body": b'{"message": "down for maintenance"}'}


class ClockedServer(ScriptedServer):
    """A destination server that notes the simulated time and status of every answer; while
    `down` it answers 500 with a reason in the body, as a vendor in trouble does."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock
        self.down = False
        self.answers: dict[str, list[tuple[float, int]]] = defaultdict(list)  # messageId -> [(time, status)]

    def next_step(self, path: str) -> dict:
        return OUTAGE_ANSWER if self.down else super().next_step(path)

    def keep(self, request: Received) -> None:
        super().keep(request)
        with self._lock:
            self.answers[request.json()["messageId"]].append((self.clock(), request.status))

    def delivered(self) -> list[dict]:
        """The events answered 200, in arrival order."""
        return self.bodies(status=200)


async def wait_until(predicate, what: str, describe=None) -> None:
    """Poll `predicate()` (sync or async) until it is true; fail after STALL_SECONDS, with
    `describe()` (async) in the message when given."""
    deadline = time.monotonic() + STALL_SECONDS
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            state = f": {await describe()}" if describe else ""
            raise AssertionError(f"stalled waiting until {what}{state}")
        await asyncio.sleep(POLL_SECONDS)


@dataclass
class DeliveryWorld:
    """A router on the real stores (SQLite event log, retry queue, statistics), its clock
    simulated, delivering one source to webhook instances on local servers."""

    settings: Settings
    clock: FakeClock
    store: Store
    plane: ControlPlane
    log: object
    retries: SqlRetryQueue
    stats: SqlStatsStore
    source: dict
    router: Router | None = None
    servers: list[ClockedServer] = field(default_factory=list)

    def webhook(self, name: str) -> tuple[dict, ClockedServer]:
        server = ClockedServer(self.clock).start()
        self.servers.append(server)
        instance = self.plane.create_destination(OPERATOR, source=self.source["id"], slug="webhook", name=name,
                                                 settings={"url": f"{server.url}/hook"}, enabled=True)
        return instance, server

    async def start_router(self) -> Router:
        self.router = Router(self.settings, self.store, self.log, self.plane.catalog, self.retries, self.stats,
                             clock=self.clock)
        await self.router.start()
        return self.router

    async def send(self, users: list[str], label: str) -> list[dict]:
        """One event per user, received now (simulated), appended to the log as ingest would."""
        received_ms = int(self.clock() * 1000)
        events = [{"type": "track", "event": "Outage Tested", "messageId": str(uuid.uuid4()), "userId": user,
                   "properties": {"label": label}} for user in users]
        await self.log.append([Entry(self.source["id"], event["messageId"], event["userId"], received_ms,
                                     orjson.dumps(event)) for event in events])
        return events

    async def settled(self, instance_id: str) -> bool:
        """Has the instance's worker done all it may at this simulated moment? Nothing due is
        left to retry while its breaker lets requests go, and the log is read to its end unless
        the breaker holds new events back (open, or half-open with a parked event to probe with)."""
        breaker = self.router.workers[instance_id].breaker
        if breaker.state == "open":
            return True
        if breaker.state == "half_open" and breaker._probing:  # a probe is on its way
            return False
        if await self.retries.due(instance_id, self.clock(), 1):
            return False
        if breaker.state == "half_open" and await self.retries.oldest(instance_id) is not None:
            return True  # its probe is a parked event, not due yet
        worker = self.router.workers[instance_id]
        newest = await self.log.newest(1)
        return not newest or await worker.consumer.committed() >= newest[-1].offset

    async def describe(self, instance_id: str) -> str:
        """The worker's state, for a stall message."""
        worker = self.router.workers[instance_id]
        due = await self.retries.due(instance_id, self.clock(), 1000)
        newest = [record.offset for record in await self.log.newest(1)]
        return (f"breaker {worker.breaker.state} (probing: {worker.breaker._probing}), {len(due)} due, "
                f"{await self.retries.count(instance_id)} parked, cursor {await worker.consumer.committed()}, "
                f"newest {newest}")

    async def summary(self, instance_id: str) -> dict:
        await self.stats.flush()
        return await self.stats.summary(instance_id)


@contextlib.asynccontextmanager
async def delivery_world(tmp_path, shared_url: str | None = None, **settings_overrides):
    """A DeliveryWorld in `tmp_path`, its retry queue and statistics in SQLite files, or in the
    PostgreSQL database at `shared_url` (a cluster's); stops the router and closes every store
    on exit."""
    clock = FakeClock.from_now()
    settings = Settings.load(environ={}, data_dir=tmp_path / "data", log_writer_process=False,
                             allow_private_destinations=True, config_poll_seconds=0.05, **settings_overrides)
    store = Store.open(settings)
    plane = ControlPlane(store)
    event_log = open_log(settings)
    await event_log.start()
    delivery = tmp_path / "data" / "delivery"
    if shared_url is None:
        retries, stats = SqliteRetryQueue(delivery / "retries.db"), SqliteStatsStore(delivery / "stats.db", clock)
    else:
        retries, stats = PostgresRetryQueue(shared_url), PostgresStatsStore(shared_url, clock)
    world = DeliveryWorld(settings, clock, store, plane, event_log, retries, stats,
                          plane.create_source(OPERATOR, "Web", "javascript"))
    try:
        yield world
    finally:
        if world.router is not None:
            await world.router.stop()
        for server in world.servers:
            server.stop()
        await event_log.close()
        await world.retries.close()
        await world.stats.close()
        store.close()


# A warehouse link that can be cut ---------------------------------------------------------------

COMMIT_REPLY = b"C\x00\x00\x00\x0bCOMMIT\x00"  # PostgreSQL's CommandComplete for COMMIT


class Forwarder:
    """A TCP relay on 127.0.0.1:`port` to `target`, in this event loop.

    `close()` stops listening and cuts every open connection (the warehouse is unreachable:
    connection refused); `open()` listens again on the same port. With `lose_commit_reply` set
    to n, the n-th COMMIT the server confirms is never passed on and that connection is cut: the
    warehouse committed a load that the client never heard of, the worst moment for a drop.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self.lose_commit_reply: int | None = None
        self.commits_seen = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.close()

    async def _relay(self, client_reader, client_writer) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.close()
            return
        self._writers |= {client_writer, server_writer}
        await asyncio.gather(self._pipe(client_reader, server_writer, client_writer),
                             self._pipe(server_reader, client_writer, server_writer, replies=True))
        self._writers -= {client_writer, server_writer}

    async def _pipe(self, reader, writer, other, replies: bool = False) -> None:
        """Copy until either side closes (then close both)."""
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                if replies and self._loses(data):
                    break
                writer.write(data)
                await writer.drain()
        for end in (writer, other):
            end.close()

    def _loses(self, data: bytes) -> bool:
        if self.lose_commit_reply is None or COMMIT_REPLY not in data:
            return False
        self.commits_seen += data.count(COMMIT_REPLY)
        return self.commits_seen >= self.lose_commit_reply > self.commits_seen - data.count(COMMIT_REPLY)


# Warehouse events and what a warehouse must hold ---------------------------------------------------

POSTGRES = ("127.0.0.1", 5432)
TABLES = {"track": "tracks", "identify": "identifies", "page": "pages"}
KINDS = [("track", {"event": "Order Completed", "properties": {"revenue": 9.5}}),
         ("track", {"event": "Cart Viewed", "properties": {"items": 3}}),
         ("identify", {"traits": {"plan": "pro"}}),
         ("page", {"name": "Home", "properties": {"path": "/"}})]


def postgres_or_skip():
    """A psycopg connection to the test database (autocommit), or skip with the reason."""
    try:
        import psycopg
    except ImportError as error:
        pytest.skip(f"the PostgreSQL driver is missing (pip install 'segue[postgres]'): {error}")
    host, port = POSTGRES
    try:
        return psycopg.connect(host=host, port=port, dbname="test", user="postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL is not reachable at {host}:{port} (db test, trust auth): {error}")


def warehouse_events(label: str, count: int, users: int = 12) -> list[dict]:
    """`count` events of two track names, identifies and pages, spread over `users` users."""
    events = []
    for n in range(count):
        kind, fields = KINDS[n % len(KINDS)]
        events.append({"type": kind, "messageId": f"{label}-{n}-{uuid.uuid4().hex[:8]}", "userId": f"user-{n % users}",
                       "timestamp": "2026-11-29T10:00:00.000Z", "receivedAt": "2026-11-29T10:00:00.000Z", **fields})
    return events


def expected_ids(events: list[dict]) -> dict[str, set[str]]:
    """The ids each table must hold: one row per event, one per event name's table, one per user."""
    tables: dict[str, set[str]] = defaultdict(set)
    for event in events:
        tables[TABLES[event["type"]]].add(event["messageId"])
        if event["type"] == "track":
            tables[event["event"].lower().replace(" ", "_")].add(event["messageId"])
        if event["type"] == "identify":
            tables["users"].add(event["userId"])
    return dict(tables)


def stored_ids(connection, schema: str, table: str) -> list[str]:
    return [row[0] for row in connection.execute(f'SELECT id FROM "{schema}"."{table}"').fetchall()]


async def finished_syncs(store, warehouse_id: str, count: int) -> list:
    """The warehouse's sync history, oldest first, once `count` syncs have finished."""

    def finished() -> list:
        return [sync for sync in reversed(store.list_syncs(warehouse_id)) if sync.status not in ("Running", "Pending")]

    await wait_until(lambda: len(finished()) >= count, f"{count} syncs finished")
    return finished()
