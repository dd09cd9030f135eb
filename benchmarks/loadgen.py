"""A small HTTP/1.1 load generator: closed loop (throughput) and open loop (latency at a rate).

Hand-written on purpose. wrk is not installed here and wrk2 (the usual open-loop tool) is not
packaged; the maintained Python tools (locust, httpx/aiohttp scripts) either spend more CPU per
request than the server under test on a 2-core machine, or are closed-loop only and so hide
coordinated omission. This one keeps the per-request cost to a few microseconds: uvloop, raw
keep-alive connections (asyncio.Protocol), requests pre-built as bytes, and a response parser
that reads only the status line and Content-Length.

Open loop follows wrk2: connection g of C sends its j-th request at t0 + (j*C + g) / rate and
latency is measured from that scheduled time, so a stalled server is charged for every request
that should have been sent meanwhile. How late the generator itself dispatched each request is
reported on its own (`generator_lag`), to show whether it kept up.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import secrets
import time
import traceback
from array import array
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Callable

import uvloop

from benchmarks.events import IdSource, RequestFactory

TICK_SECONDS = 0.001  # open loop: how often due requests are handed to their connections
DRAIN_SECONDS = 10.0  # how long to wait for answers after the window closes


@dataclass(frozen=True)
class LoadSpec:
    """One load run. `rate` None means closed loop; otherwise requests per second."""

    host: str
    port: int
    write_key: str
    batch_size: int  # 0: single /v1/track requests; n: /v1/batch with n events
    connections: int
    duration: float
    warmup: float = 1.0
    rate: float | None = None
    workers: int = 1
    ports: tuple[int, ...] = ()  # several servers: connection g goes to ports[g % len(ports)]


@dataclass
class Samples:
    """What one worker measured inside the measurement window."""

    latencies: array = field(default_factory=lambda: array("d"))
    generator_lags: array = field(default_factory=lambda: array("d"))
    statuses: Counter = field(default_factory=Counter)

    def merge(self, other: "Samples") -> None:
        self.latencies.extend(other.latencies)
        self.generator_lags.extend(other.generator_lags)
        self.statuses.update(other.statuses)


@dataclass(frozen=True)
class LoadResult:
    """Throughput and latency of one run (latencies in seconds)."""

    spec: LoadSpec
    samples: Samples
    window: tuple[float, float] = (0.0, 0.0)  # the measured seconds (time.monotonic), after the warm-up

    @property
    def requests_per_second(self) -> float:
        return len(self.samples.latencies) / self.spec.duration

    @property
    def events_per_second(self) -> float:
        return self.requests_per_second * max(self.spec.batch_size, 1)

    @property
    def errors(self) -> int:
        return sum(count for status, count in self.samples.statuses.items() if status != 200)

    def latency(self, quantile: float) -> float:
        return _quantile(self.samples.latencies, quantile)

    def generator_lag(self, quantile: float) -> float:
        return _quantile(self.samples.generator_lags, quantile)


def _quantile(values: array, quantile: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))]


class Connection(asyncio.Protocol):
    """One keep-alive connection with at most one request in flight.

    Callback-driven (no future per request): when a response is complete, `on_response`
    is called with this connection and the status, and usually sends the next request.
    """

    def __init__(self, on_response: Callable[["Connection", int], None]) -> None:
        self.on_response = on_response
        self.busy = False
        self.pending: deque[float] = deque()  # open loop: scheduled times not yet sent
        self.scheduled = 0.0  # the in-flight request's scheduled (open loop) or send time
        self._buffer = bytearray()
        self._expected: int | None = None
        self._status = 0
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self.busy:
            self._complete(0)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._expected is None and not self._read_head():
            return
        if len(self._buffer) >= self._expected:
            del self._buffer[: self._expected]
            self._expected = None
            self._complete(self._status)

    def _read_head(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self._buffer[:end]).lower()
        self._status = int(head[9:12])
        start = head.find(b"content-length:")
        length = int(head[start + 15 :].split(b"\r\n", 1)[0]) if start >= 0 else 0
        self._expected = end + 4 + length
        return True

    def _complete(self, status: int) -> None:
        self.busy = False
        self.on_response(self, status)

    def send(self, data: bytes, scheduled: float) -> None:
        """Send one request; `scheduled` is what its latency is measured from."""
        self.busy = True
        self.scheduled = scheduled
        if self._transport is None:
            asyncio.get_running_loop().call_soon(self._complete, 0)  # an error, counted as such
        else:
            self._transport.write(data)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


class Worker:
    """Drives connections `first` .. `first + count - 1` of a run, in one process."""

    def __init__(self, spec: LoadSpec, first: int, count: int, t0: float) -> None:
        self.spec = spec
        self.first = first
        self.count = count
        self.t0 = t0
        self.start, self.end = t0 + spec.warmup, t0 + spec.warmup + spec.duration
        self.samples = Samples()
        self.factory = RequestFactory.create(f"{spec.host}:{spec.port}", spec.write_key, spec.batch_size, seed=first)
        self.ids = IdSource(f"{secrets.token_hex(4)}{first:x}")
        self.outstanding = 0  # requests due or sent and not yet answered
        self.drained: asyncio.Event | None = None
        self.closing = False  # no more requests will be sent
        self.finished = False  # results are final; late answers are ignored

    async def run(self) -> Samples:
        """Connect, wait for t0, drive the load until the window closes, wait for the answers."""
        self.drained = asyncio.Event()
        connections = [await self._connect(self.first + index) for index in range(self.count)]
        await asyncio.sleep(max(0.0, self.t0 - time.monotonic()))
        if self.spec.rate:
            await self._tick(connections)
        else:
            for connection in connections:
                self.outstanding += 1
                self._send(connection)
        await self._drain()
        for connection in connections:
            connection.close()
        return self.samples

    async def _connect(self, number: int) -> Connection:
        on_response = self._after_open if self.spec.rate else self._after_closed
        loop = asyncio.get_running_loop()
        port = self.spec.ports[number % len(self.spec.ports)] if self.spec.ports else self.spec.port
        _, connection = await loop.create_connection(lambda: Connection(on_response), self.spec.host, port)
        return connection

    async def _drain(self) -> None:
        """Wait for the answers still due; any missing after the grace period count as errors."""
        await asyncio.sleep(max(0.0, self.end - time.monotonic()))
        self.closing = True
        if self.outstanding:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.drained.wait(), DRAIN_SECONDS)
        if self.outstanding:
            self.samples.statuses[0] += self.outstanding
        self.finished = True

    def _send(self, connection: Connection, scheduled: float | None = None) -> None:
        """Build and send the next request; closed loop (no schedule) times it from now."""
        data = self.factory.build(self.ids)
        connection.send(data, time.monotonic() if scheduled is None else scheduled)

    def _answered(self, connection: Connection, status: int) -> float:
        now = time.monotonic()
        if self.finished:
            return now
        self.outstanding -= 1
        # closed loop: answers within the window; open loop: every request scheduled in it
        counted = connection.scheduled >= self.start if self.spec.rate else self.start <= now < self.end
        if counted:
            self._record(status, now - connection.scheduled)
        if self.closing and not self.outstanding:
            self.drained.set()
        return now

    def _after_closed(self, connection: Connection, status: int) -> None:
        now = self._answered(connection, status)
        if now < self.end and not self.finished:
            self.outstanding += 1
            self._send(connection)

    def _after_open(self, connection: Connection, status: int) -> None:
        self._answered(connection, status)
        if connection.pending and not self.finished:
            self._send(connection, connection.pending.popleft())

    async def _tick(self, connections: list[Connection]) -> None:
        """Every millisecond, hand each due request to its connection (queued if busy)."""
        total, rate = self.spec.connections, self.spec.rate
        schedule = [(self.t0 + (self.first + i) / rate, i) for i in range(self.count)]
        step = total / rate
        while True:
            now = time.monotonic()
            for slot, (due, i) in enumerate(schedule):
                while due <= now and due < self.end:
                    self._dispatch(connections[i], due, now)
                    due += step
                schedule[slot] = (due, i)
            if now >= self.end:
                return
            await asyncio.sleep(TICK_SECONDS)

    def _dispatch(self, connection: Connection, due: float, now: float) -> None:
        self.outstanding += 1
        if due >= self.start:
            self.samples.generator_lags.append(now - due)
        if connection.busy:
            connection.pending.append(due)
        else:
            self._send(connection, due)

    def _record(self, status: int, latency: float) -> None:
        self.samples.statuses[status] += 1
        self.samples.latencies.append(latency)


def _worker_main(spec: LoadSpec, first: int, count: int, t0: float, pipe) -> None:
    try:
        samples = uvloop.run(Worker(spec, first, count, t0).run())
        pipe.send((samples.latencies.tobytes(), samples.generator_lags.tobytes(), dict(samples.statuses)))
    except BaseException:
        pipe.send(traceback.format_exc())
    pipe.close()


def run_load(spec: LoadSpec) -> LoadResult:
    """Run `spec` in `spec.workers` processes and merge what they measured."""
    context = multiprocessing.get_context("fork")
    t0 = time.monotonic() + 0.5 + 0.02 * spec.connections
    processes, pipes = [], []
    for first, count in _split(spec.connections, spec.workers):
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_worker_main, args=(spec, first, count, t0, sender), daemon=True)
        process.start()
        processes.append(process)
        pipes.append(receiver)
    merged = Samples()
    for receiver, process in zip(pipes, processes):
        merged.merge(_receive(receiver))
        process.join()
    return LoadResult(spec, merged, (t0 + spec.warmup, t0 + spec.warmup + spec.duration))


def _receive(receiver) -> Samples:
    message = receiver.recv()
    if isinstance(message, str):
        raise RuntimeError(f"a load generator worker failed:\n{message}")
    latencies, lags, statuses = message
    samples = Samples(array("d"), array("d"), Counter(statuses))
    samples.latencies.frombytes(latencies)
    samples.generator_lags.frombytes(lags)
    return samples


def _split(connections: int, workers: int) -> list[tuple[int, int]]:
    """(first connection number, count) per worker."""
    base, extra = divmod(connections, workers)
    shares = [base + (1 if i < extra else 0) for i in range(workers)]
    return [(sum(shares[:i]), share) for i, share in enumerate(shares) if share]
