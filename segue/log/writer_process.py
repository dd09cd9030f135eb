"""The log writer in a process of its own, so group commit runs beside ingest, not under its GIL.

The same GroupWriter (writer.py) does the work in the child; only the transport differs. The
parent (the server's event loop) and the child talk over a Unix socket pair in length-prefixed pickle
frames (both ends are this code, so pickle is safe and the cheapest encoding):

    parent -> child   ("append", [(request id, entries), ...])   ("stop",)
    child -> parent   ("ready", head, segment base)
                      ("done", [(request id, offsets | error text), ...], head, segment base, stats)
                      ("stopped",)

Why a process: on two cores, parsing, validating and enriching events in the server and
binding rows, hashing dedup keys and committing in the writer thread all need the one GIL;
in two processes they run in parallel. Crash safety is unchanged: the child acknowledges an
append only after its commit, and GroupWriter's lock file makes sure only one writer owns the
files (a child whose parent died sees end-of-file, finishes its group and exits; the next
writer waits for its lock).
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import pickle
import signal
import socket
import struct
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from segue.errors import StorageUnavailable
from segue.log.consumers import LogStats
from segue.log.dedup_store import SqliteDedup
from segue.log.protocol import Entry
from segue.log.segments import SegmentIndex, SegmentWriter
from segue.log.writer import AppendRequest, GroupWriter, Notify

log = logging.getLogger(__name__)

_LENGTH = struct.Struct("<I")
READY_TIMEOUT_SECONDS = 120.0  # recovery after a crash replays dedup keys; give it time


@dataclass(frozen=True)
class WriterConfig:
    """What the child needs to open the log's files."""

    directory: str
    partitions: int
    dedup_window_seconds: int
    segment_max_records: int
    dedup_flush_keys: int


def encode_frame(message: Any) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(data)) + data


def send_frame(sock: socket.socket, message: Any) -> None:
    sock.sendall(encode_frame(message))


def recv_frame(sock: socket.socket) -> Any | None:
    """The next frame, or None at end-of-file (the other side is gone)."""
    header = _recv_exactly(sock, _LENGTH.size)
    if header is None:
        return None
    body = _recv_exactly(sock, _LENGTH.unpack(header)[0])
    return None if body is None else pickle.loads(body)


def _recv_exactly(sock: socket.socket, size: int) -> bytes | None:
    buffer = bytearray()
    while len(buffer) < size:
        try:
            chunk = sock.recv(min(size - len(buffer), 1 << 20))
        except OSError:  # reset by a killed peer: the same as end-of-file here
            return None
        if not chunk:
            return None
        buffer += chunk
    return bytes(buffer)


# ---------------------------------------------------------------- child side


def child_main(config: WriterConfig, fd: int) -> None:
    """Run the writer until the parent says stop or goes away."""
    # Ctrl-C, or a SIGTERM sent to the whole process group (`timeout`, `kill -- -PGID`, a
    # container runtime), reaches the parent too, which stops us cleanly after its last appends;
    # dying first would only make it restart us while it stops. A parent that is gone closes
    # the socket, which ends us.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    sock = socket.socket(fileno=fd)
    _serve(sock, _group_writer(config, sock))  # open() waits for the writer lock


def _group_writer(config: WriterConfig, sock: socket.socket) -> GroupWriter:
    directory = Path(config.directory)
    stats = LogStats()
    segments = SegmentWriter(SegmentIndex(directory / "segments"), config.segment_max_records)

    def notify(outcomes: list, head: int) -> None:
        replies = [(request_id, _to_wire(outcome)) for request_id, outcome in outcomes]
        try:
            send_frame(sock, ("done", replies, head, segments.base, asdict(stats)))
        except OSError:
            pass  # the parent is gone; nobody waits for these answers

    return GroupWriter(
        segments,
        SqliteDedup(directory / "dedup.db", config.dedup_window_seconds, config.dedup_flush_keys),
        partitions=config.partitions, clock=time.time, stats=stats, notify=notify,
    )


def _serve(sock: socket.socket, writer: GroupWriter) -> None:
    writer.open()
    gc.freeze()  # start-up objects live as long as the process: spare them the collector's full passes
    send_frame(sock, ("ready", writer.head, writer.segments.base))
    writer.start()
    while (frame := recv_frame(sock)) is not None and frame[0] == "append":
        for request_id, rows in frame[1]:
            writer.submit(AppendRequest(list(map(Entry._make, rows)), request_id))
    writer.stop()
    try:
        send_frame(sock, ("stopped",))
    except OSError:
        pass


def _to_wire(outcome: Any) -> Any:
    return f"{outcome}" if isinstance(outcome, BaseException) else outcome


# ---------------------------------------------------------------- parent side


class ProcessWriter(asyncio.Protocol):
    """The server's handle on the child, driven by the event loop (no threads, no GIL handoffs).

    `open()` starts the child (blocking: run it off the loop), `connect()` attaches its socket
    to the loop, `submit()` queues an append (all appends of one loop iteration share a frame),
    and replies settle their futures directly on the loop through `settle`.
    """

    def __init__(self, config: WriterConfig, index: SegmentIndex, stats: LogStats, settle: Notify) -> None:
        self.head = 0
        self._config = config
        self._index = index
        self._stats = stats
        self._settle_outcomes = settle
        self._pending: dict[int, asyncio.Future] = {}
        self._outgoing: list[tuple[int, list[tuple]]] = []
        self._next_id = 0
        self._buffer = bytearray()
        self._stopping = False
        self._child: subprocess.Popen | None = None
        self._sock: socket.socket | None = None
        self._transport: asyncio.Transport | None = None
        self._disconnected: asyncio.Future | None = None
        self._restarting: asyncio.Task | None = None

    def open(self) -> None:
        """Start the child and wait until it has recovered the files (blocking)."""
        parent, child = socket.socketpair()
        command = [sys.executable, "-c", _CHILD_COMMAND, json.dumps(asdict(self._config)), str(child.fileno())]
        self._child = subprocess.Popen(command, pass_fds=(child.fileno(),))
        child.close()
        parent.settimeout(READY_TIMEOUT_SECONDS)
        ready = recv_frame(parent)
        if ready is None or ready[0] != "ready":
            parent.close()
            raise StorageUnavailable("the event-log writer process did not start; see its output")
        parent.setblocking(False)
        self.head, self._sock = ready[1], parent
        self._index.refresh()

    async def connect(self) -> None:
        """Attach the child's socket to the running loop."""
        loop = asyncio.get_running_loop()
        self._disconnected = loop.create_future()
        await loop.connect_accepted_socket(lambda: self, sock=self._sock)

    def submit(self, request: AppendRequest) -> None:
        if self._transport is None or self._transport.is_closing():
            request.future.set_exception(StorageUnavailable("the event-log writer is restarting"))
            return
        self._next_id += 1
        self._pending[self._next_id] = request.future
        self._outgoing.append((self._next_id, [tuple(entry) for entry in request.entries]))  # 5x cheaper to pickle
        if len(self._outgoing) == 1:
            asyncio.get_running_loop().call_soon(self._flush)

    async def close(self) -> None:
        """Let the child write what it has, then end it."""
        self._stopping = True
        if self._restarting is not None:
            await self._restarting  # a child being started now must be stopped like the others
        if self._transport is not None and not self._transport.is_closing():
            self._flush()
            self._transport.write(encode_frame(("stop",)))
            await self._disconnected
        if self._child is not None:
            await asyncio.to_thread(self._child.wait, 60)

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) >= _LENGTH.size:
            size = _LENGTH.unpack_from(self._buffer)[0]
            if len(self._buffer) < _LENGTH.size + size:
                return
            frame = pickle.loads(self._buffer[_LENGTH.size : _LENGTH.size + size])
            del self._buffer[: _LENGTH.size + size]
            if frame[0] == "done":
                self._settle(*frame[1:])

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._buffer.clear()
        self._fail_pending("the event-log writer process stopped")
        self._disconnected.set_result(None)
        if not self._stopping:
            self._restarting = asyncio.get_running_loop().create_task(self._restart(), name="segue-log-writer-restart")

    def _flush(self) -> None:
        frame, self._outgoing = self._outgoing, []
        if frame and self._transport is not None:
            self._transport.write(encode_frame(("append", frame)))
        elif frame:
            self._fail_pending("the event-log writer is restarting")

    def _settle(self, replies: list, head: int, segment_base: int, stats: dict) -> None:
        if segment_base not in self._index.bases:
            self._index.add(segment_base)
        for name, value in stats.items():
            setattr(self._stats, name, value)
        outcomes = [(self._pending.pop(request_id, None), _from_wire(outcome)) for request_id, outcome in replies]
        self.head = head
        self._settle_outcomes([(future, outcome) for future, outcome in outcomes if future is not None], head)

    def _fail_pending(self, reason: str) -> None:
        futures, self._pending = list(self._pending.values()), {}
        self._outgoing = []
        self._settle_outcomes([(future, StorageUnavailable(reason)) for future in futures], self.head)

    async def _restart(self) -> None:
        """The child died: start another (appends meanwhile fail with StorageUnavailable)."""
        log.error("the event-log writer process exited (code %s); restarting it", self._child.poll())
        try:
            while not self._stopping:
                try:
                    await asyncio.to_thread(self.open)
                    await self.connect()
                    return
                except (OSError, StorageUnavailable):
                    log.exception("could not restart the event-log writer; retrying in 1 s")
                    await asyncio.sleep(1)
        finally:
            self._restarting = None


def _from_wire(outcome: Any) -> Any:
    return StorageUnavailable(f"the event log cannot take writes: {outcome}") if isinstance(outcome, str) else outcome



_CHILD_COMMAND = (
    "import json, sys; from segue.log.writer_process import WriterConfig, child_main; "
    "child_main(WriterConfig(**json.loads(sys.argv[1])), int(sys.argv[2]))"
)
