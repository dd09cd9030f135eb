"""The log writer in a process of its own, so group commit runs beside ingest, not under its GIL.

The same GroupWriter (writer.py) does the work in the child; only the transport differs. The
parent (the server) and the child talk over a Unix socket pair in length-prefixed pickle
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

import gc
import json
import logging
import pickle
import queue
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from segue.errors import StorageUnavailable
from segue.log.consumers import LogStats
from segue.log.dedup_store import SqliteDedup
from segue.log.protocol import Entry
from segue.log.segments import SegmentIndex, SegmentWriter
from segue.log.writer import STOP, AppendRequest, GroupWriter, Notify, take_group

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


def send_frame(sock: socket.socket, message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(_LENGTH.pack(len(data)) + data)


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
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us cleanly
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


class ProcessWriter:
    """The parent's handle on the child: GroupWriter's interface (open, start, submit, stop, head)."""

    def __init__(self, config: WriterConfig, index: SegmentIndex, stats: LogStats, notify: Notify) -> None:
        self.head = 0
        self._config = config
        self._index = index
        self._stats = stats
        self._notify = notify
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self._pending: dict[int, Any] = {}  # request id -> future
        self._next_id = 0
        self._stopping = False
        self._child: subprocess.Popen | None = None
        self._sock: socket.socket | None = None
        self._threads: list[threading.Thread] = []

    def open(self) -> None:
        """Start the child and wait until it has recovered the files (blocking)."""
        self._spawn()

    def start(self) -> None:
        for target, name in ((self._send_loop, "segue-log-send"), (self._receive_loop, "segue-log-receive")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def submit(self, request: AppendRequest) -> None:
        self._outbox.put(request)

    def stop(self) -> None:
        """Let the child write what is queued, then end it (blocking)."""
        self._stopping = True
        self._outbox.put(STOP)
        for thread in self._threads:
            thread.join()
        if self._child is not None:
            self._child.wait(timeout=60)
        if self._sock is not None:
            self._sock.close()

    def _spawn(self) -> None:
        parent, child = socket.socketpair()
        command = [sys.executable, "-c", _CHILD_COMMAND, json.dumps(asdict(self._config)), str(child.fileno())]
        self._child = subprocess.Popen(command, pass_fds=(child.fileno(),))
        child.close()
        parent.settimeout(READY_TIMEOUT_SECONDS)
        ready = recv_frame(parent)
        parent.settimeout(None)
        if ready is None or ready[0] != "ready":
            raise StorageUnavailable("the event-log writer process did not start; see its output")
        self.head = ready[1]
        self._sock = parent
        self._index.refresh()

    def _send_loop(self) -> None:
        while True:
            requests, stopping = take_group(self._outbox)  # one frame for all that is queued
            if requests:
                self._send(requests)
            if stopping:
                self._send_quietly(("stop",))
                return

    def _send(self, requests: list[AppendRequest]) -> None:
        frame = []
        for request in requests:
            self._next_id += 1
            self._pending[self._next_id] = request.future
            frame.append((self._next_id, [tuple(entry) for entry in request.entries]))  # 5x cheaper to pickle
        try:
            send_frame(self._sock, ("append", frame))
        except OSError as error:
            self._fail([request_id for request_id, _ in frame], f"the event-log writer is unreachable: {error}")

    def _send_quietly(self, message: Any) -> None:
        try:
            send_frame(self._sock, message)
        except OSError:
            pass

    def _receive_loop(self) -> None:
        while True:
            frame = recv_frame(self._sock)
            if frame is not None and frame[0] == "done":
                self._settle(*frame[1:])
                continue
            self._fail(list(self._pending), "the event-log writer process stopped")
            if self._stopping or not self._restart():
                return

    def _settle(self, replies: list, head: int, segment_base: int, stats: dict) -> None:
        if segment_base not in self._index.bases:
            self._index.add(segment_base)
        for name, value in stats.items():
            setattr(self._stats, name, value)
        outcomes = [(self._pending.pop(request_id, None), _from_wire(outcome)) for request_id, outcome in replies]
        outcomes = [(future, outcome) for future, outcome in outcomes if future is not None]  # failed meanwhile
        self.head = head
        self._notify(outcomes, head)

    def _fail(self, request_ids: list[int], reason: str) -> None:
        futures = [self._pending.pop(request_id) for request_id in request_ids if request_id in self._pending]
        if futures:
            self._notify([(future, StorageUnavailable(reason)) for future in futures], self.head)

    def _restart(self) -> bool:
        """The child died: start another (appends meanwhile fail with StorageUnavailable)."""
        log.error("the event-log writer process exited (code %s); restarting it", self._child.poll())
        while not self._stopping:
            try:
                self._spawn()
                return True
            except (OSError, StorageUnavailable):
                log.exception("could not restart the event-log writer; retrying in 1 s")
                time.sleep(1)
        return False


def _from_wire(outcome: Any) -> Any:
    return StorageUnavailable(f"the event log cannot take writes: {outcome}") if isinstance(outcome, str) else outcome



_CHILD_COMMAND = (
    "import json, sys; from segue.log.writer_process import WriterConfig, child_main; "
    "child_main(WriterConfig(**json.loads(sys.argv[1])), int(sys.argv[2]))"
)
