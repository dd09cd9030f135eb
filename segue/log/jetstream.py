"""JetStreamLog: the event log on NATS JetStream, for Segue on more than one machine.

Layout (names from `stream`, default SEGUE):
- stream `SEGUE`, subjects `segue.events.<partition>.<source id>`, file storage. A record's
  offset is its stream sequence: global, strictly increasing, from 1.
- each message: a first line `[receivedAt in epoch ms, messageId]` (JSON), then the enriched
  event; one header, `Nats-Msg-Id` (source id + messageId: JetStream drops a repeat within the
  stream's duplicate window, which is the dedup window).
- key-value bucket `SEGUE_cursors`: one key per consumer, its acknowledged offset.

Why cursors in a bucket rather than JetStream's durable consumers: Segue's consumers hold
records for a long time before acknowledging them (a warehouse chunk until its load commits, a
destination's retries for hours) and go back to their cursor on demand (`rewind`). A durable
consumer would redeliver after its ack wait and cap unacknowledged messages; here reads are
ephemeral pull consumers (no acks) starting after the consumer's position, and the cursor is a
value every node reads and writes. Appends are acknowledged only once JetStream has stored the
message (its PubAck).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Sequence

import orjson

from segue.errors import StorageUnavailable
from segue.log.consumers import LogConsumer, LogStats, check_partition, same_partition
from segue.log.jetstream_io import PublishAcks, RawDispatch, Reader
from segue.log.protocol import Entry, Record, partition_for

SUBJECT_ROOT = "segue.events"
NEWEST_WINDOW = 512


def _safe_key(name: str) -> str:
    """A consumer name as a key-value key (letters, digits, `-_=.`; others as `=XX`)."""
    return re.sub(r"[^A-Za-z0-9_-]", lambda match: "".join(f"={byte:02x}" for byte in match.group().encode()), name)


def _name_of_key(key: str) -> str:
    """The consumer name of a key (`deliver-x=40=33` is `deliver-x@3`; UTF-8 names too)."""
    raw = re.sub(rb"=([0-9a-f]{2})", lambda match: bytes.fromhex(match.group(1).decode()), key.encode())
    return raw.decode()


class JetStreamLog:
    """An EventLog on a NATS server (or cluster) with JetStream."""

    def __init__(self, url: str, partitions: int = 32, dedup_window_seconds: int = 86400,
                 retention_min_seconds: int = 86400, stream: str = "SEGUE", replicas: int = 1,
                 clock: Callable[[], float] = time.time) -> None:
        self.url = url
        self.partitions = partitions
        self.dedup_window_seconds = dedup_window_seconds
        self.retention_min_seconds = retention_min_seconds
        self.stream, self.replicas = stream, replicas
        self.subjects = f"{SUBJECT_ROOT}.{stream.lower()}"
        self.stats = LogStats()
        self._clock = clock
        self._nc = self._js = self._cursors = None
        self.head = 0  # the newest offset this node knows of (its own appends, the stream at start)
        self._consumers: dict[str, JetStreamConsumer] = {}

    async def start(self) -> None:
        import nats
        from nats.js.api import StorageType, StreamConfig

        try:
            self._nc = await nats.connect(self.url, name="segue", max_reconnect_attempts=-1)
        except Exception as error:
            raise StorageUnavailable(f"cannot reach NATS at {self.url}: {error}") from error
        self._js = self._nc.jetstream()
        self._acks = await PublishAcks.open(self._nc)
        self._dispatch = RawDispatch(self._nc)
        config = StreamConfig(name=self.stream, subjects=[f"{self.subjects}.>"], storage=StorageType.FILE,
                              num_replicas=self.replicas, duplicate_window=float(self.dedup_window_seconds))
        await _add_or_update_stream(self._js, config)
        self._cursors = await self._js.create_key_value(bucket=f"{self.stream}_cursors", history=1,
                                                        storage=StorageType.FILE, replicas=self.replicas)
        self.head = await self.head_offset()

    async def delete_everything(self) -> None:
        """Delete the stream and the cursors' bucket (tests; a log being dismantled)."""
        await self._js.delete_stream(self.stream)
        await self._js.delete_key_value(f"{self.stream}_cursors")

    async def close(self) -> None:
        """Stop the readers and disconnect (every append returned has been stored already)."""
        for consumer in self._consumers.values():
            await consumer.close()
        if self._nc is not None:
            await self._nc.close()
            self._nc = None

    # Appending ---------------------------------------------------------------------------------

    async def append(self, entries: Sequence[Entry]) -> list[int | None]:
        """Publish every entry (in order, all in flight at once); each offset once JetStream has
        stored it, None for a duplicate."""
        if not entries:
            return []
        if self._js is None:
            raise StorageUnavailable("the event log is not open for writes")
        try:
            acks = await self._acks.publish_all([self._message(entry) for entry in entries])
        except Exception as error:
            raise StorageUnavailable(f"JetStream did not store the events: {error}") from error
        offsets = [None if ack.get("duplicate") else ack["seq"] for ack in acks]
        self.head = max(self.head, *(ack["seq"] for ack in acks))
        self._count(offsets)
        return offsets

    def _message(self, entry: Entry) -> tuple[str, bytes, dict]:
        partition = partition_for(entry.partition_key, self.partitions)
        data = orjson.dumps([entry.received_at_ms, entry.message_id]) + b"\n" + entry.payload
        return f"{self.subjects}.{partition}.{entry.source_id}", data, {"Nats-Msg-Id": f"{entry.source_id}:{entry.message_id}"}

    def _count(self, offsets: list[int | None]) -> None:
        stored = len(offsets) - offsets.count(None)
        self.stats.appends += 1
        self.stats.commits += 1 if stored else 0
        self.stats.stored += stored
        self.stats.duplicates += len(offsets) - stored

    # Consumers ---------------------------------------------------------------------------------

    def consumer(self, name: str, start_at_head: bool = False, partition: int | None = None) -> JetStreamConsumer:
        if name not in self._consumers:
            check_partition(partition, self.partitions)
            self._consumers[name] = JetStreamConsumer(name, self, start_at_head, partition)
        return same_partition(self._consumers[name], partition)

    def partition_subjects(self, partition: int | None) -> str:
        """The subject filter of one partition's records (of every record with None)."""
        return f"{self.subjects}.>" if partition is None else f"{self.subjects}.{partition}.>"

    async def remove_consumer(self, name: str) -> None:
        consumer = self._consumers.pop(name, None)
        if consumer is not None:
            await consumer.committed()  # its registration is written: the delete comes after it
            await consumer.close()
        await _delete_quietly(self._cursors, _safe_key(name))

    async def consumer_names(self) -> list[str]:
        return sorted(_name_of_key(key) for key in await self._cursor_keys())

    async def cursors(self) -> dict[str, int]:
        loaded = {_name_of_key(key): await self.load_cursor(_name_of_key(key)) for key in await self._cursor_keys()}
        return {name: cursor or 0 for name, cursor in loaded.items()}

    async def load_cursor(self, name: str) -> int | None:
        """The stored cursor of `name`, None when not registered."""
        from nats.js.errors import KeyNotFoundError

        try:
            entry = await self._cursors.get(_safe_key(name))
        except KeyNotFoundError:
            return None
        return int(entry.value) if entry.value else None

    async def save_cursor(self, name: str, offset: int) -> None:
        await self._cursors.put(_safe_key(name), str(offset).encode())

    async def head_offset(self) -> int:
        """The stream's newest sequence, as the server says now (other nodes append too)."""
        return (await self._js.stream_info(self.stream)).state.last_seq

    # Reading -----------------------------------------------------------------------------------

    async def read_after(self, after: int, limit: int, subject: str | None = None,
                         wait: float = 0.0) -> list[Record]:
        """Up to `limit` records above `after` (of one subject filter), waiting up to `wait`."""
        reader = await self.reader(after + 1, subject)
        try:
            return await reader.take(limit, wait)
        finally:
            await reader.close()

    async def reader(self, first: int, subject: str | None = None) -> Reader:
        """A reader from offset `first` on (of one subject filter): an ephemeral consumer
        without acks, which the server drops a minute after its last use."""
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

        config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=max(1, first),
                                ack_policy=AckPolicy.NONE, inactive_threshold=60.0,
                                filter_subject=subject or self.partition_subjects(None))
        info = await self._js.add_consumer(self.stream, config)
        return await Reader.open(self._nc, f"$JS.API.CONSUMER.MSG.NEXT.{self.stream}.{info.name}", self.subjects,
                                 self._dispatch)

    async def newest(self, limit: int = 20, source_id: str | None = None) -> list[Record]:
        """Read windows backwards from the head until `limit` records (of the source) are found."""
        if limit <= 0:
            return []
        subject = f"{self.subjects}.*.{source_id}" if source_id else None
        state = (await self._js.stream_info(self.stream)).state
        found: list[Record] = []
        end, window = state.last_seq, max(NEWEST_WINDOW, limit)
        while end >= state.first_seq and len(found) < limit:
            start = max(state.first_seq, end - window + 1)
            chunk = [r for r in await self.read_after(start - 1, window, subject) if r.offset <= end]
            found = chunk + found
            end, window = start - 1, window * 2
        return found[-limit:]

    async def prune(self) -> int:
        """Purge what every consumer passed and retention allows (below the first record kept)."""
        cursors = await self.cursors()
        state = (await self._js.stream_info(self.stream)).state
        if not state.messages:
            return 0
        floor = min(cursors.values(), default=state.last_seq)
        cutoff_ms = (self._clock() - self.retention_min_seconds) * 1000
        keep_from = await self._first_newer_than(state.first_seq, min(floor, state.last_seq), cutoff_ms)
        if keep_from <= state.first_seq:
            return 0
        await self._js.purge_stream(self.stream, seq=keep_from)
        return keep_from - state.first_seq

    async def _first_newer_than(self, low: int, high: int, cutoff_ms: float) -> int:
        """The first offset in low..high+1 whose record is newer than `cutoff_ms` (binary search:
        receivedAt grows with the offset, give or take the clocks of ingest nodes)."""
        end = high + 1
        while low < end:
            middle = (low + end) // 2
            record = await self._get(middle)
            if record is not None and record.received_at_ms > cutoff_ms:
                end = middle
            else:
                low = middle + 1
        return low

    async def _get(self, offset: int) -> Record | None:
        records = await self.read_after(offset - 1, 1)
        return records[0] if records and records[0].offset == offset else None

    async def _cursor_keys(self) -> list[str]:
        from nats.js.errors import NoKeysError

        try:
            return await self._cursors.keys()
        except NoKeysError:
            return []


class JetStreamConsumer(LogConsumer):
    """A consumer whose cursor lives in the bucket and whose reads come from a `Reader` kept
    positioned after the last fetch (re-made after `rewind` or an ack past it).

    With a partition, its reader's filter subject is that partition's (the server skips the
    other partitions' messages). It registers when created, as the embedded log's consumers
    do: at 0, or with `start_at_head` at the stream's newest offset; a cursor stored already
    (by an earlier process or another node) wins. The registration runs in the background;
    every call waits for it.

    After `close()` the next call reads the stored cursor again: in between another node may
    have owned this consumer (routers sharing partitions) and moved it on.
    """

    def __init__(self, name: str, log: JetStreamLog, start_at_head: bool, partition: int | None = None) -> None:
        super().__init__(name, log.head if start_at_head else 0, log, partition)
        self._log = log
        self._registered = asyncio.get_running_loop().create_task(self._register(start_at_head))
        self._reader: Reader | None = None
        self._reader_next = 0  # the offset the reader delivers next
        self._reload = False  # read the stored cursor again before the next call (after close)

    async def fetch(self, max_records: int = 500, wait: float = 0.0) -> list[Record]:
        rewinds = self._rewinds
        await self._ready()
        if self._reader is None or self._reader_next != self._position + 1:
            await self._drop_reader()
            subject = self._log.partition_subjects(self.partition)
            self._reader, self._reader_next = await self._log.reader(self._position + 1, subject), self._position + 1
        records = await self._reader.take(max_records, wait, ahead=True)
        if self._rewinds != rewinds:
            return []  # rewound meanwhile: the next fetch reads again from the cursor, with a new reader
        if records:
            self._position = records[-1].offset
            self._reader_next = self._position + 1
        return records

    async def ack(self, offset: int) -> None:
        await self._ready()
        await super().ack(offset)

    async def committed(self) -> int:
        await self._ready()
        return self._committed

    def rewind(self) -> None:
        super().rewind()
        self._reader_next = -1  # a read cut short may have left a pull request open: new reader

    async def close(self) -> None:
        await self._drop_reader()
        self._reload = True

    async def _ready(self) -> None:
        await asyncio.shield(self._registered)  # a cancelled call must not cancel the registration
        if self._reload:
            self._reload = False
            stored = await self._log.load_cursor(self.name)
            if stored is not None:
                self._committed = self._position = stored

    async def _drop_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            await reader.close()

    async def _register(self, start_at_head: bool) -> None:
        stored = await self._log.load_cursor(self.name)
        if stored is None:  # new: at 0, or at the stream's head now (other nodes append too)
            stored = await self._log.head_offset() if start_at_head else 0
            await self._log.save_cursor(self.name, stored)
        self._committed = self._position = stored


async def _add_or_update_stream(js, config) -> None:
    from nats.js.errors import BadRequestError

    try:
        await js.add_stream(config)
    except BadRequestError:  # exists with another configuration: bring it to this one
        await js.update_stream(config)


async def _delete_quietly(bucket, key: str) -> None:
    from nats.js.errors import KeyNotFoundError

    try:
        await bucket.delete(key)
    except KeyNotFoundError:
        pass
