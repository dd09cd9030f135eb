"""One destination instance's delivery loop: its own cursor, retries and circuit breaker.

Each loop turn first retries the parked events that are due, then, while the breaker is
closed, reads the next records from the event log, routes them, sends them (users in
parallel, each user's events in order) and acknowledges the log only once every record is
delivered, finally failed, filtered or parked on disk for a retry. A user whose event waits
for a retry has their later events parked behind it, for at most `user_hold_seconds`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any, Awaitable, Callable

import orjson

from segue.config import Settings
from segue.log.protocol import Record
from segue.pipeline.delivery import (
    Backoff,
    CircuitBreaker,
    Outcome,
    Sender,
    mask_exchange,
)
from segue.pipeline.retries import Parked, ParkRequest
from segue.pipeline.routing import Decision, InstanceConfig, batch_requests, route
from segue.tasks import RepeatedFailure

log = logging.getLogger(__name__)
FETCH_LIMIT = 1_000
IDLE_WAIT_SECONDS = 0.2
CLEAR_RECHECK_SECONDS = 2.0  # how long the retry queue's "nothing parked" (or not) is trusted
WAITING_BEHIND = "waiting behind an earlier event of this user"


CONSUMER_PREFIX = "destination:"


def consumer_name(instance_id: str) -> str:
    return f"{CONSUMER_PREFIX}{instance_id}"


def user_key(event: dict) -> str:
    return str(event.get("userId") or event.get("anonymousId") or "")


class InstanceWorker:
    """Delivers one instance's events; `run()` until cancelled."""

    def __init__(self, config: InstanceConfig, consumer: Any, sender: Sender, retries: Any, stats: Any,
                 settings: Settings, clock: Callable[[], float] = time.time, sample: Callable[[], float] | None = None,
                 reauthorize: Callable[[str], Awaitable[InstanceConfig | None]] | None = None,
                 partitions: frozenset[int] | None = None) -> None:
        self.config = config
        self.partitions = partitions  # the log partitions the consumer reads (None: the whole log)
        self.reauthorize = reauthorize  # OAuth: renew the token, give the new config
        self.consumer = consumer
        self.sender = sender
        self.retries = retries
        self.stats = stats
        self.settings = settings
        self.clock = clock
        self.sample = sample or random.random  # draws for SAMPLE filters
        self.backoff = Backoff(settings.retry_base_seconds, settings.retry_max_delay_seconds)
        self.breaker = CircuitBreaker(
            failure_threshold=settings.breaker_failures, open_seconds=settings.breaker_open_seconds, clock=clock
        )
        self._held_since: dict[str, float] = {}
        self._nothing_parked_seen = False  # what the retry queue last said of this worker's partitions ...
        self._seen_until = 0.0  # ... trusted until then (time.monotonic())
        self.stopping = False  # set by the router: finish the current turn, then return

    async def run(self) -> None:
        trouble = RepeatedFailure(log, f"deliver to {self.config.id}")
        while not self.stopping:
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # one bad turn must not end delivery; the log keeps the events
                trouble.failed(error)
                self.consumer.rewind()
                await asyncio.sleep(1.0)
            else:
                trouble.succeeded()

    async def step(self) -> bool:
        """One turn: due retries, then new records; True when there was work."""
        retried = await self._retry_due()
        if not await self._may_read_new():
            await asyncio.sleep(IDLE_WAIT_SECONDS)
            return retried
        limit = FETCH_LIMIT if self.breaker.state == "closed" else 1
        records = await self.consumer.fetch(limit, wait=0 if retried else IDLE_WAIT_SECONDS)
        if records:
            await self._deliver_records(records)
        return retried or bool(records)

    async def _may_read_new(self) -> bool:
        """Closed breaker: yes. Open: no. Half-open: a parked event is the probe when one waits;
        when none does (all given up), one new event is, or nothing would ever close it."""
        state = self.breaker.state
        if state == "half_open":
            return await self.retries.oldest(self.config.id, self.partitions) is None
        return state == "closed"

    # New records ---------------------------------------------------------------------------

    async def _deliver_records(self, records: list[Record]) -> None:
        by_user: dict[str, list[tuple[Record, dict]]] = {}
        for record in records:
            if record.source_id == self.config.source_id:
                event = orjson.loads(record.payload)
                by_user.setdefault(user_key(event), []).append((record, event))
        waiting = set() if await self._nothing_parked() else await self.retries.waiting_users(self.config.id, by_user.keys())
        parks: list[ParkRequest] = []
        if self.config.batching:
            await self._deliver_batch(by_user, waiting, parks)
        else:
            await self._deliver_chains(by_user, waiting, parks)
        if parks:
            self._nothing_parked_seen = False
            await self.retries.park(list({park.offset: park for park in parks}.values()))  # once per event
        await self.consumer.ack(records[-1].offset)

    async def _deliver_batch(self, by_user: dict, waiting: set, parks: list[ParkRequest]) -> None:
        """Route every event, then send the sendable ones in batches of the destination's size."""
        ready: list[tuple[Record, dict, str]] = []
        for user, items in by_user.items():
            held = user in waiting and not self._hold_expired(user)
            for record, event in items:
                if held:
                    parks.append(self._park_request(record, user, reason=WAITING_BEHIND, blocked=True))
                else:
                    ready.extend((record, sendable, user) for sendable in self._routed(event))
        size = self.config.destination.batch_size or len(ready) or 1
        chunks = [ready[start:start + size] for start in range(0, len(ready), size)]
        await asyncio.gather(*(self._send_batch(chunk, parks) for chunk in chunks))

    async def _send_batch(self, chunk: list, parks: list[ParkRequest]) -> None:
        chunk, requests = self._batch_requests(chunk)
        if not requests:
            return
        events = [event for _, event, _ in chunk]
        outcome, exchanges = await self._send(requests, lambda: self.config.destination.batch(events, self.config.settings))
        self.breaker.record(outcome)
        if outcome.kind == "retry":
            self.stats.record_retry(self.config.id, len(chunk))
            for record, _, user in chunk:
                parks.append(self._park_request(record, user, reason=outcome.message, outcome=outcome))
                self._held_since.setdefault(user, self.clock())
            return
        for record, event, _ in chunk:
            self._count(outcome, event, exchanges, record.received_at_ms)

    def _batch_requests(self, chunk: list) -> tuple[list, list]:
        """The batch call's requests; an event it refuses fails alone (counted with the reason)."""
        kept, requests, refused = batch_requests(self.config, [event for _, event, _ in chunk])
        for position, reason in refused.items():
            self.stats.record_failed(self.config.id, self._failure(chunk[position][1], [], reason, None))
        return [chunk[position] for position in kept], requests

    def _routed(self, event: dict) -> list[dict]:
        """The events the destination's batch call gets for this one (one per matching mapping);
        none when it was filtered or failed (and counted)."""
        decision = self._decide(event)
        return [] if decision is None else decision.batch_events

    async def _deliver_chains(self, by_user: dict, waiting: set, parks: list[ParkRequest]) -> None:
        """Each user's events in order; as many users at once as the sender has slots.

        A fixed set of loops takes the next user's chain when it finishes one, rather than a
        task per user: with a thousand users in a fetch, tasks cost more than the sending."""
        chains = iter(by_user.items())

        async def take_chains() -> None:
            for user, items in chains:
                await self._deliver_user(user, items, user in waiting, parks)

        loops = min(self.settings.delivery_concurrency, len(by_user))
        await asyncio.gather(*(take_chains() for _ in range(loops)))

    async def _deliver_user(self, user: str, items: list, waiting: bool, parks: list[ParkRequest]) -> None:
        held = waiting and not self._hold_expired(user)
        for record, event in items:
            if held:
                parks.append(self._park_request(record, user, reason=WAITING_BEHIND, blocked=True))
                continue
            outcome = await self._attempt(event, record.received_at_ms)
            if outcome is not None and outcome.kind == "retry":
                parks.append(self._park_request(record, user, reason=outcome.message, outcome=outcome))
                self._held_since.setdefault(user, self.clock())
                held = True

    # Retries -------------------------------------------------------------------------------

    async def _retry_due(self) -> bool:
        """Retry what is due while the breaker lets requests go; give up what is past the retry
        window whatever the breaker says (that sends nothing, so it must not use up a probe)."""
        if await self._nothing_parked():
            return False
        due = await self.retries.due(self.config.id, self.clock(), limit=50, partitions=self.partitions)
        for parked in due:
            if self._past_window(parked):
                await self._give_up(parked)
            elif self.breaker.allow():
                await self._retry(parked)
        return bool(due)

    async def _nothing_parked(self) -> bool:
        """Whether no event of this instance's partitions waits in the retry queue.

        Speed: the queue's answer is trusted for CLEAR_RECHECK_SECONDS (a park by this worker
        makes it "something parked" at once), so a turn asks the queue for due events and
        waiting users only while something is parked: on PostgreSQL those round trips cost a
        router on NATS about a sixth of its throughput. Only this worker parks for its
        partitions while it runs (a partition's previous holder stopped before it let go); the
        recheck bounds the wait should one that lost its lease unknowingly still park.
        """
        if time.monotonic() >= self._seen_until:
            self._nothing_parked_seen = await self.retries.oldest(self.config.id, self.partitions) is None
            self._seen_until = time.monotonic() + CLEAR_RECHECK_SECONDS
        return self._nothing_parked_seen

    def _past_window(self, parked: Parked) -> bool:
        return bool(parked.attempts) and self.clock() - parked.first_failed_at > self.settings.retry_window_seconds

    async def _give_up(self, parked: Parked) -> None:
        self.stats.record_failed(self.config.id, self._sample(parked, f"gave up after {parked.attempts} attempts: {parked.reason}"))
        await self._finish(parked)

    async def _retry(self, parked: Parked) -> None:
        now = self.clock()
        outcome = await self._attempt(orjson.loads(parked.payload), parked.received_at_ms)
        if outcome is None or outcome.kind != "retry":
            return await self._finish(parked)
        attempts = parked.attempts + 1
        await self.retries.reschedule(parked.id, now + self.backoff.delay(attempts, outcome.retry_after), attempts, outcome.message)
        if now - self._held_since.setdefault(parked.user_key, parked.first_failed_at) > self.settings.user_hold_seconds:
            await self._release_behind(parked)

    async def _finish(self, parked: Parked) -> None:
        await self.retries.done([parked.id])
        self._held_since.pop(parked.user_key, None)
        await self.retries.release_user(self.config.id, parked.user_key, self.clock())

    async def _release_behind(self, parked: Parked) -> None:
        """The hold is over: the user's later events go on while this one keeps retrying."""
        await self.retries.detach(parked.id)
        await self.retries.release_user(self.config.id, parked.user_key, self.clock())
        self._held_since[parked.user_key] = self.clock()

    # Sending -------------------------------------------------------------------------------

    async def _attempt(self, event: dict, received_at_ms: int) -> Outcome | None:
        """Route and send one event; records the outcome. None when nothing was sent."""
        decision = self._decide(event)
        if decision is None:
            return None
        outcome, exchanges = await self._send(decision.requests, lambda: route(event, self.config, self.sample).requests)
        self.breaker.record(outcome)
        self._count(outcome, event, exchanges, received_at_ms)
        return outcome

    async def _send(self, requests: list, rebuild: Callable[[], list]) -> tuple[Outcome, list]:
        """Send; an OAuth destination that answers 401 gets its token renewed and one more try
        (the requests rebuilt with the new token), as Segment does."""
        outcome, exchanges = await self.sender.send(requests, self.config.destination.interpret)
        if outcome.status == 401 and await self._reauthorized():
            outcome, again = await self.sender.send(rebuild(), self.config.destination.interpret)
            exchanges = exchanges + again
        return outcome, exchanges

    async def _reauthorized(self) -> bool:
        if self.config.destination.oauth is None or self.reauthorize is None:
            return False
        config = await self.reauthorize(self.config.id)
        if config is None:
            return False
        self.config = config
        return True

    def _decide(self, event: dict) -> Decision | None:
        """The routing decision, or None when the event was filtered or failed (and counted)."""
        decision = route(event, self.config, self.sample)
        if decision.filtered:
            self.stats.record_filtered(self.config.id, decision.filtered)
        elif decision.failed:
            self.stats.record_failed(self.config.id, self._failure(event, [], decision.failed, None))
        else:
            return decision
        return None

    def _count(self, outcome: Outcome, event: dict, exchanges: list, received_at_ms: int) -> None:
        if outcome.kind == "delivered":
            self.stats.record_delivered(self.config.id, self.clock() * 1000 - received_at_ms)
        elif outcome.kind == "retry":
            self.stats.record_retry(self.config.id)
        else:
            self.stats.record_failed(self.config.id, self._failure(event, exchanges, outcome.message, outcome))

    def _failure(self, event: dict, exchanges: list, message: str, outcome: Outcome | None) -> dict:
        """A sample for the event delivery view: what was sent, asked and answered; secrets masked."""
        described = outcome.to_json() if outcome else {"kind": "failed", "status": None}
        return mask_exchange({
            "at": self.clock(), "messageId": event.get("messageId"), "event": event, "exchanges": exchanges,
            "outcome": {**described, "message": message},
        }, self.config.secrets)

    def _sample(self, parked: Parked, message: str) -> dict:
        return self._failure(orjson.loads(parked.payload), [], message, None)

    def _park_request(self, record: Record, user: str, *, reason: str, blocked: bool = False, outcome: Outcome | None = None) -> ParkRequest:
        now = self.clock()
        delay = 0.0 if blocked else self.backoff.delay(1, outcome.retry_after if outcome else None)
        return ParkRequest(
            instance_id=self.config.id, user_key=user, offset=record.offset, payload=record.payload,
            received_at_ms=record.received_at_ms, attempts=0 if blocked else 1, next_attempt_at=now + delay,
            first_failed_at=now, reason=reason, blocked=blocked, partition=record.partition,
        )

    def _hold_expired(self, user: str) -> bool:
        since = self._held_since.get(user)
        return since is not None and self.clock() - since > self.settings.user_hold_seconds

