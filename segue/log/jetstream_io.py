"""JetStream I/O the log needs and nats-py makes slow: publishing with acknowledgements, and
reading a pull consumer in batches (see each class for what was measured)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import orjson

from segue.errors import StorageUnavailable
from segue.log.protocol import Record

log = logging.getLogger(__name__)
NO_WAIT_GUARD_SECONDS = 2.0  # a pull request's end (a status or a full batch) comes well before this


class PublishAcks:
    """Publishes messages to JetStream and waits for their acknowledgements, all in flight at once.

    Why not `js.publish`: it makes a request (a task, a timeout, an inbox) per message, which
    costs more CPU than the rest of ingest together (measured: 27,000 messages/s with one core
    busy; `publish_async` 42,000). Here every message of an append goes out with a reply subject
    under one wildcard subscription, and the acknowledgements (`{"stream","seq","duplicate"}`
    or `{"error"}`) resolve plain futures.
    """

    def __init__(self, nc, prefix: str) -> None:
        self._nc, self._prefix = nc, prefix
        self._waiting: dict[str, asyncio.Future] = {}
        self._next = 0

    @classmethod
    async def open(cls, nc) -> "PublishAcks":
        acks = cls(nc, f"{nc.new_inbox()}.")
        await nc.subscribe(acks._prefix + "*", cb=acks._answer)
        return acks

    async def publish_all(self, messages: list[tuple[str, bytes, dict]], timeout: float = 10.0) -> list[dict]:
        loop = asyncio.get_running_loop()
        tokens, futures = [], []
        try:
            for subject, payload, headers in messages:
                self._next += 1
                tokens.append(f"{self._prefix}{self._next}")
                futures.append(self._waiting.setdefault(tokens[-1], loop.create_future()))
                await self._nc.publish(subject, payload, reply=tokens[-1], headers=headers)
            acks = await asyncio.wait_for(asyncio.gather(*futures), timeout)
        finally:
            for token in tokens:  # answered ones are gone already; the rest will never be
                self._waiting.pop(token, None)
        for ack in acks:
            if "error" in ack:
                raise StorageUnavailable(f"JetStream refused a message: {ack['error'].get('description')}")
        return acks

    async def _answer(self, message) -> None:
        future = self._waiting.pop(message.subject, None)
        if future is not None and not future.done():
            future.set_result(orjson.loads(message.data) if message.data else {"error": {"description": "no answer"}})


Frame = tuple[bytes, bytes, bytes, bytes | None]  # subject, reply, data, headers (None: no headers)
Handler = Callable[[list[Frame]], None]
AWAITING_CONTROL_LINE = 1  # nats-py's parser state between two protocol operations


class RawDispatch:
    """Reads the messages of chosen subscriptions straight off nats-py's receive buffer and hands
    them to a plain function, a list of frames at a time; everything else (other
    subscriptions, PING, INFO, errors, a frame not yet complete) is left to nats-py's parser.

    Why: per message, nats-py's parser tries two regular expressions, copies the frame twice and
    awaits `_process_msg`, which parses the headers, builds a `Msg`, queues it, wakes the
    subscription's task and awaits its callback. On a router reading JetStream that was most
    of the event loop's time beyond delivery itself.

    Two hooks, both on nats-py 2.x internals: the `parse` method of the client's parser
    instance (`nc._ps`, with its `buf` and `state`) takes the frames it can; the client's
    `_process_msg` takes the routed subscriptions' frames that nats-py's parser handled (after
    a frame of another subscription in the same buffer). Both hand them over at once, in the
    order they came: none waits in nats-py's queue while a later one is handed over directly,
    which would reorder a reader's records. When those internals are not there, `enabled` is
    False and readers take nats-py's ordinary path.
    """

    def __init__(self, nc) -> None:
        self._handlers: dict[int, Handler] = {}
        self._parser = getattr(nc, "_ps", None)
        self._generic_parse = getattr(self._parser, "parse", None)
        self._process_msg = getattr(nc, "_process_msg", None)
        self.enabled = self._generic_parse is not None and self._process_msg is not None \
            and isinstance(getattr(self._parser, "buf", None), bytearray) \
            and getattr(self._parser, "state", None) == AWAITING_CONTROL_LINE
        if self.enabled:
            self._parser.parse = self._parse
            nc._process_msg = self._dispatch

    def route(self, subscription, handler: Handler) -> bool:
        """Send `subscription`'s messages to `handler`; False if this nats-py cannot."""
        sid = getattr(subscription, "_id", None)
        if not self.enabled or not isinstance(sid, int):
            return False
        self._handlers[sid] = handler
        return True

    def forget(self, subscription) -> None:
        self._handlers.pop(getattr(subscription, "_id", None), None)

    async def _dispatch(self, sid: int, subject: bytes, reply: bytes, data: bytes, headers: bytes | None) -> None:
        """nats-py's parser's delivery of one message: a routed subscription's goes to its handler."""
        handler = self._handlers.get(sid)
        if handler is None:
            await self._process_msg(sid, subject, reply, data, headers)
        else:
            _hand(handler, [(bytes(subject), bytes(reply), data, headers)])

    async def _parse(self, data: bytes = b"") -> None:
        parser = self._parser
        parser.buf.extend(data)
        if parser.state != AWAITING_CONTROL_LINE or not self._handlers or not self._take_frames(parser.buf):
            await self._generic_parse()

    def _take_frames(self, buffer: bytearray) -> bool:
        """Hand out the complete frames of routed subscriptions at the start of `buffer` (one
        call per run of frames of one subscription) and drop them from it; True when what is
        left is only the start of such a frame (or nothing)."""
        data, position, ours = bytes(buffer), 0, True
        handler, frames = None, []
        while position < len(data):
            frame = self._frame(data, position)
            if not frame:  # None: not ours, or not a message (the generic parser's); (): incomplete
                ours = frame is not None
                break
            if frame[0] is not handler:
                _hand(handler, frames)
                handler, frames = frame[0], []
            frames.append(frame[1])
            position = frame[2]
        _hand(handler, frames)
        del buffer[:position]
        return ours

    def _frame(self, data: bytes, position: int) -> tuple | None:
        """(handler, (subject, reply, data, headers), next position) of the frame at `position`;
        () if it may be ours but is incomplete; None if it is not a message of a routed
        subscription. A frame: `HMSG <subject> <sid> [reply] <header bytes> <total bytes>` (or
        `MSG ...` without header bytes), CRLF, headers and data, CRLF."""
        with_headers = data.startswith(b"HMSG ", position)
        if not with_headers and not data.startswith(b"MSG ", position):
            return None  # also a frame's first bytes alone: the generic parser waits for the rest
        line_end = data.find(b"\r\n", position)
        if line_end < 0:
            return ()
        fields = data[position + (5 if with_headers else 4) : line_end].split()
        handler = self._handlers.get(int(fields[1])) if len(fields) > 2 else None
        if handler is None:
            return None
        body, total = line_end + 2, int(fields[-1])
        if len(data) < body + total + 2:
            return ()
        header_size = int(fields[-2]) if with_headers else 0
        reply = fields[2] if len(fields) == (5 if with_headers else 4) else b""
        headers = data[body : body + header_size] if with_headers else None
        return handler, (fields[0], reply, data[body + header_size : body + total], headers), body + total + 2


def _hand(handler: Handler | None, frames: list[Frame]) -> None:
    if handler is None or not frames:
        return
    try:
        handler(frames)
    except Exception:  # as nats-py does with a failing callback: report it, keep reading
        log.exception("messages on %s could not be read", frames[0][0])


class Reader:
    """Reads a pull consumer with batch requests of our own, one batch ahead of its caller.

    Why not nats-py's `PullSubscription.fetch`: it awaits each message through a task of its
    own, and reads every message's metadata through a parser; that capped a router at 9,000
    records/s. Here one request asks for a batch, the answers are collected as they arrive
    (through `RawDispatch` when it can), and a status message (no messages, request timeout)
    or a full batch ends it. Before handing out a full batch, the reader asks for the next one,
    so the server sends it while the caller works on this one (at most one request in flight,
    at most one batch held: the backlog stays in the stream).
    """

    def __init__(self, nc, next_subject: str, subjects: str) -> None:
        self._nc, self._next_subject = nc, next_subject
        self._prefix_parts = subjects.count(".") + 1
        self._subscription = self._inbox = self._dispatch = None
        self._ready: list[Record] = []  # received, not handed out yet
        self._wanted = self._arrived = 0  # of the request in flight
        self._done: asyncio.Future | None = None  # the end of the request in flight
        self._drained = False  # the last request ended with a status: nothing more was there

    @classmethod
    async def open(cls, nc, next_subject: str, subjects: str, dispatch: RawDispatch | None = None) -> "Reader":
        reader = cls(nc, next_subject, subjects)
        reader._inbox = nc.new_inbox()
        reader._subscription = await nc.subscribe(reader._inbox, cb=reader._received)
        if dispatch is not None and dispatch.route(reader._subscription, reader._raw):
            reader._dispatch = dispatch
        return reader

    async def take(self, limit: int, wait: float, ahead: bool = False) -> list[Record]:
        """Up to `limit` records: what is there now; if nothing, the first to arrive within `wait`
        seconds and what is there with it. With `ahead`, a full batch has the next one asked for
        before it is returned.

        Every record the consumer delivers is kept, whichever request it answers, and a take
        that is cancelled leaves what it had received for the next one: the server delivers
        each record once, so dropping one would skip it.
        """
        await self._settle(NO_WAIT_GUARD_SECONDS)  # the batch asked for ahead
        missing = limit - len(self._ready)
        if missing > 0 and not (self._ready and self._drained):
            await self._request({"batch": missing, "no_wait": True}, missing, NO_WAIT_GUARD_SECONDS)
        if not self._ready and wait > 0:
            await self._request({"batch": 1, "expires": int(wait * 1e9)}, 1, wait + NO_WAIT_GUARD_SECONDS)
            if self._ready and limit > 1:
                await self._request({"batch": limit - 1, "no_wait": True}, limit - 1, NO_WAIT_GUARD_SECONDS)
        if ahead and len(self._ready) == limit:
            await self._ask({"batch": limit, "no_wait": True}, limit)  # more is likely: fetch ahead
        batch, self._ready = self._ready[:limit], self._ready[limit:]  # no await from here on
        return batch

    async def _request(self, request: dict, wanted: int, guard: float) -> None:
        await self._ask(request, wanted)
        await self._settle(guard)

    async def _ask(self, request: dict, wanted: int) -> None:
        self._wanted, self._arrived = wanted, 0
        self._done = asyncio.get_running_loop().create_future()
        await self._nc.publish(self._next_subject, orjson.dumps(request), reply=self._inbox)

    async def _settle(self, guard: float) -> None:
        """Wait for the request in flight to end (at most `guard` seconds). Cancelling the wait
        leaves the request in flight: the next take waits for it."""
        if self._done is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._done), guard)
        except TimeoutError:
            pass  # the server never said it was done: keep what came
        self._done = None

    def _raw(self, frames: list[Frame]) -> None:
        """Messages straight from the receive buffer (see RawDispatch); one loop, no calls per
        message beyond the record's own, as this is the router's hottest path on JetStream."""
        prefix_parts = self._prefix_parts
        for subject, reply, data, headers in frames:
            if not data and headers and headers.startswith(b"NATS/1.0 "):
                self._end(drained=True)  # 404 no messages, 408 request timeout, 409...
                continue
            parts, tokens = subject.decode().split("."), reply.decode().split(".")
            envelope, _, payload = data.partition(b"\n")
            received_at_ms, message_id = orjson.loads(envelope)
            self._collect(Record(int(tokens[5] if len(tokens) == 9 else tokens[7]), int(parts[prefix_parts]),
                                 parts[prefix_parts + 1], message_id, received_at_ms, payload))

    async def _received(self, message) -> None:
        """A message through nats-py's subscription (when RawDispatch is not in use)."""
        if not message.data and message.headers and message.headers.get("Status"):
            self._end(drained=True)
            return
        self._collect(_record(message.subject, message.reply, message.data, self._prefix_parts))

    def _collect(self, record: Record) -> None:
        self._ready.append(record)
        self._arrived += 1
        if self._arrived >= self._wanted:
            self._end(drained=False)

    def _end(self, drained: bool) -> None:
        """The request in flight has its answer (a status or a full batch)."""
        if self._done is not None and not self._done.done():
            self._drained = drained
            self._done.set_result(None)

    async def close(self) -> None:
        if self._dispatch is not None:
            self._dispatch.forget(self._subscription)
            self._dispatch = None
        if self._subscription is not None:
            try:
                await self._subscription.unsubscribe()
            except Exception:  # the consumer expires on the server anyway (inactive_threshold)
                pass
            self._subscription = None


def _record(subject: str, reply: str, data: bytes, prefix_parts: int) -> Record:
    """A record from a message: partition and source from the subject, offset from the reply,
    receivedAt and messageId from the first line of the data."""
    parts = subject.split(".")
    envelope, _, payload = data.partition(b"\n")
    received_at_ms, message_id = orjson.loads(envelope)
    return Record(_stream_sequence(reply), int(parts[prefix_parts]), parts[prefix_parts + 1],
                  message_id, received_at_ms, payload)


def _stream_sequence(reply: str) -> int:
    """The stream sequence in a JetStream message's reply subject: `$JS.ACK.<stream>.<consumer>.
    <delivered>.<stream seq>...` (9 tokens), or with a domain and an account hash (12 or more)."""
    tokens = reply.split(".")
    return int(tokens[5] if len(tokens) == 9 else tokens[7])
