"""JetStream I/O the log needs and nats-py makes slow: publishing with acknowledgements, and
reading a pull consumer in batches (see each class for what was measured)."""

from __future__ import annotations

import asyncio

import orjson

from segue.errors import StorageUnavailable
from segue.log.protocol import Record

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


class Reader:
    """Reads a pull consumer with batch requests of our own.

    Why not nats-py's `PullSubscription.fetch`: it awaits each message through a task of its
    own, and reads every message's metadata through a parser; that capped a router at 9,000
    records/s. Here one request asks for a batch, a subscription callback collects the answers,
    and a status message (no messages, request timeout) or a full batch ends it.
    """

    def __init__(self, nc, next_subject: str, subjects: str) -> None:
        self._nc, self._next_subject = nc, next_subject
        self._prefix_parts = subjects.count(".") + 1
        self._subscription = self._inbox = None
        self._batch: list[Record] = []
        self._wanted = 0
        self._done: asyncio.Future | None = None

    @classmethod
    async def open(cls, nc, next_subject: str, subjects: str) -> "Reader":
        reader = cls(nc, next_subject, subjects)
        reader._inbox = nc.new_inbox()
        reader._subscription = await nc.subscribe(reader._inbox, cb=reader._received)
        return reader

    async def take(self, limit: int, wait: float) -> list[Record]:
        """Up to `limit` records: what is there now; if nothing, the first to arrive within `wait`
        seconds and what is there with it. Every request ends (a full batch, or a status), so no
        answer to an old request ever arrives during a newer one."""
        batch = await self._request({"batch": limit, "no_wait": True}, limit, NO_WAIT_GUARD_SECONDS)
        if batch or wait <= 0:
            return batch
        first = await self._request({"batch": 1, "expires": int(wait * 1e9)}, 1, wait + NO_WAIT_GUARD_SECONDS)
        if not first or limit == 1:
            return first
        return first + await self._request({"batch": limit - 1, "no_wait": True}, limit - 1, NO_WAIT_GUARD_SECONDS)

    async def _request(self, request: dict, wanted: int, guard: float) -> list[Record]:
        self._batch, self._wanted = [], wanted
        self._done = asyncio.get_running_loop().create_future()
        await self._nc.publish(self._next_subject, orjson.dumps(request), reply=self._inbox)
        try:
            await asyncio.wait_for(self._done, guard)
        except TimeoutError:
            pass  # the server never said it was done: keep what came
        batch, self._batch, self._done = self._batch, [], None
        return batch

    async def _received(self, message) -> None:
        if self._done is None or self._done.done():
            return  # the end of an earlier request
        if not message.data and message.headers and message.headers.get("Status"):
            self._done.set_result(None)  # 404 no messages, 408 request timeout, 409...
            return
        self._batch.append(self._record(message))
        if self._batch and len(self._batch) >= self._wanted:
            self._done.set_result(None)

    def _record(self, message) -> Record:
        parts = message.subject.split(".")
        envelope, _, payload = message.data.partition(b"\n")
        received_at_ms, message_id = orjson.loads(envelope)
        return Record(_stream_sequence(message.reply), int(parts[self._prefix_parts]), parts[self._prefix_parts + 1],
                      message_id, received_at_ms, payload)

    async def close(self) -> None:
        if self._subscription is not None:
            try:
                await self._subscription.unsubscribe()
            except Exception:  # the consumer expires on the server anyway (inactive_threshold)
                pass
            self._subscription = None


def _stream_sequence(reply: str) -> int:
    """The stream sequence in a JetStream message's reply subject: `$JS.ACK.<stream>.<consumer>.
    <delivered>.<stream seq>...` (9 tokens), or with a domain and an account hash (12 or more)."""
    tokens = reply.split(".")
    return int(tokens[5] if len(tokens) == 9 else tokens[7])
