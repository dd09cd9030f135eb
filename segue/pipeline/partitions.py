"""Routers sharing the event log's partitions (docs/scale-out.md, "Routers").

Every router delivers, for every destination instance, the partitions it holds a lease on.
A user's events all fall in one partition, so one router at a time delivers them, in order.

- `fair_share` decides which partitions a router should hold, from the live routers' names:
  each gets at most ceil(partitions / routers), and a router joining or leaving moves few
  partitions besides its own share (rendezvous hashing, capped at the quota).
- `PartitionOwnership` turns that into leases, renewed every few seconds: it keeps what it
  holds and wants, takes what it wants when the lease is free, and lets go of the rest once the
  router stopped delivering it. A router killed mid-load stops renewing; its partitions pass on
  after the lease time, and the next holder starts at each partition's acknowledged cursor.
- `PartitionsConsumer` reads a set of per-partition consumers as one consumer, so a delivery
  worker does not know whether it reads the whole log or a share of it.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import math
import time
import zlib
from typing import Any, Awaitable, Callable

from segue.log.leases import Leases
from segue.log.protocol import Record

ROUTERS = "router"  # the leases' member group of routers
HEAD_SECONDS = 2.0  # how often a merged consumer asks the log for its newest offset


def fair_share(partitions: int, members: list[str], me: str) -> frozenset[int]:
    """The partitions `me` should hold when `members` share `partitions` partitions: every
    (partition, member) pair gets a hash score, and pairs are taken best score first while the
    partition is free and the member below its quota."""
    members = sorted(set(members) | {me})
    quota = -(-partitions // len(members))
    pairs = sorted(((zlib.crc32(f"{member}/{partition}".encode()), partition, member)
                    for partition in range(partitions) for member in members), reverse=True)
    owners: dict[int, str] = {}
    load = dict.fromkeys(members, 0)
    for _, partition, member in pairs:
        if partition not in owners and load[member] < quota:
            owners[partition] = member
            load[member] += 1
    return frozenset(partition for partition, owner in owners.items() if owner == me)


def partition_lease(partition: int) -> str:
    return f"partition-{partition}"


class PartitionOwnership:
    """This router's partition leases."""

    def __init__(self, leases: Leases, partitions: int) -> None:
        self.leases, self.partitions = leases, partitions
        self.held: frozenset[int] = frozenset()  # leased, and to be delivered
        self.leaving: frozenset[int] = frozenset()  # still leased until their delivery stopped

    async def rebalance(self) -> frozenset[int]:
        """Renew, take and give up leases; returns the partitions to deliver now. A partition
        this router should no longer hold stays leased (renewed) until `release_leaving`; one
        whose lease could not be renewed is dropped at once."""
        await self.leases.announce(ROUTERS)
        wanted = fair_share(self.partitions, await self.leases.members(ROUTERS), self.leases.holder)
        renewed = {partition for partition in self.held | self.leaving if await self._lease(partition)}
        taken = {partition for partition in wanted - renewed if await self._lease(partition)}
        self.leaving = frozenset(renewed - wanted)
        self.held = frozenset((renewed | taken) & wanted)
        return self.held

    async def release_leaving(self, delivered: frozenset[int]) -> None:
        """Give up the leases of the leaving partitions no longer in `delivered`."""
        for partition in self.leaving - delivered:
            await self.leases.release(partition_lease(partition))
        self.leaving &= delivered

    async def release_all(self) -> None:
        for partition in self.held | self.leaving:
            await self.leases.release(partition_lease(partition))
        self.held = self.leaving = frozenset()

    async def _lease(self, partition: int) -> bool:
        return await self.leases.acquire(partition_lease(partition))


class PartitionsConsumer:
    """Several partitions' consumers read as one.

    `fetch` keeps one read outstanding per partition and returns what the first ones bring,
    merged in offset order. `ack(offset)` acknowledges, in each partition, the newest record
    returned so far at or below `offset`: the records a worker finished (it acks after a whole
    fetch) and never one it was not given.

    An idle partition's cursor moves too: when a read of a partition with nothing outstanding
    comes back empty, the partition holds no record up to the log's head as known when that
    read started (offsets are given in order), so its cursor moves there. Otherwise one quiet
    partition would hold back the log's retention for all. `head` gives the log's newest
    offset (asked at most every HEAD_SECONDS).
    """

    def __init__(self, consumers: dict[int, Any], head: Callable[[], Awaitable[int]] | None = None) -> None:
        self.consumers = consumers
        self._head, self._head_known, self._head_asked = head, 0, -math.inf
        self._read_from_head: dict[int, int] = {}  # the head known when each outstanding read started
        self.name = ",".join(consumer.name for consumer in consumers.values())
        self._pending: dict[int, asyncio.Future] = {}
        self._cancelled: list[asyncio.Future] = []  # reads cut short, finished before the next ones start
        self._returned: dict[int, list[int]] = {partition: [] for partition in consumers}

    async def fetch(self, max_records: int = 500, wait: float = 0.0) -> list[Record]:
        if not self.consumers:
            await asyncio.sleep(wait)
            return []
        await self._settle_cancelled()
        await self._learn_head()
        share = max(100, max_records // len(self.consumers))
        for partition, consumer in self.consumers.items():
            if partition not in self._pending:
                self._read_from_head[partition] = self._head_known
                self._pending[partition] = asyncio.ensure_future(consumer.fetch(share, wait))
        if wait > 0:
            await asyncio.wait(self._pending.values(), timeout=wait, return_when=asyncio.FIRST_COMPLETED)
        else:
            await asyncio.wait(self._pending.values())
        return await self._collect()

    async def _collect(self) -> list[Record]:
        chunks = []
        for partition, task in list(self._pending.items()):
            if task.done():
                del self._pending[partition]
                records = task.result()
                if records:
                    self._returned[partition].extend(record.offset for record in records)
                    self._head_known = max(self._head_known, records[-1].offset)
                    chunks.append(records)
                elif not self._returned[partition]:  # idle and nothing outstanding
                    await self.consumers[partition].ack(self._read_from_head[partition])
        return list(heapq.merge(*chunks, key=lambda record: record.offset))

    async def _learn_head(self) -> None:
        if self._head is not None and time.monotonic() - self._head_asked >= HEAD_SECONDS:
            self._head_asked = time.monotonic()
            self._head_known = max(self._head_known, await self._head())

    async def ack(self, offset: int) -> None:
        for partition, returned in self._returned.items():
            done = bisect.bisect_right(returned, offset)
            if done:
                await self.consumers[partition].ack(returned[done - 1])
                del returned[:done]

    async def committed(self) -> int:
        """The lowest of the partitions' cursors (everything up to it is done everywhere)."""
        return min([await consumer.committed() for consumer in self.consumers.values()], default=0)

    def rewind(self) -> None:
        self._cancel_pending()
        for partition, consumer in self.consumers.items():
            consumer.rewind()
            self._returned[partition].clear()

    async def close(self) -> None:
        """Stop reading; what was fetched and not acknowledged is read again by the next reader."""
        self._cancel_pending()
        await self._settle_cancelled()
        for consumer in self.consumers.values():
            consumer.rewind()
            await consumer.close()

    def _cancel_pending(self) -> None:
        """Cut the outstanding reads short (the callers rewind every partition after this)."""
        for task in self._pending.values():
            task.cancel()
        self._cancelled.extend(self._pending.values())
        self._pending.clear()

    async def _settle_cancelled(self) -> None:
        """Let reads cut short finish unwinding: a consumer takes one read at a time."""
        if self._cancelled:
            await asyncio.gather(*self._cancelled, return_exceptions=True)
            self._cancelled.clear()


def rate_share(rate_limit: float, held: frozenset[int] | None, partitions: int) -> float:
    """The requests per second one router may send a vendor whose documented limit (per account)
    is `rate_limit`: all of it on one node (`held` None), else its share of the partitions, so
    that the routers together stay within the limit. At least one partition's share: a limit of
    0 would mean no pacing at all."""
    if held is None or rate_limit <= 0:
        return rate_limit
    return rate_limit * max(len(held), 1) / partitions
