"""Replay: re-send a source's archived events in a time range to one cloud-mode destination.

Spec 3.8: the destination must accept historical timestamps (`Destination.replay`); the target
may be disabled; routing is the router's (`route`: filters and mappings still apply) except
that the original `integrations` object is dropped (`context.consent` stays). Requests go
through the delivery `Sender`, paced at `replay_rate_limit` (or the vendor's lower limit), in
batches of the vendor's size when the destination has a batch call (as live delivery). A
retryable answer is tried again a few times with backoff, then counted as failed; a replay
never parks events in the live worker's retry queue. `ReplayJobs` runs replays in background
threads and keeps their reports in `<data dir>/replays/<id>.json`.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Callable, Iterator

import orjson

from segue.config import Settings
from segue.errors import NotFound
from segue.pipeline.archive import epoch_ms, iter_archive
from segue.pipeline.delivery import Backoff, Outcome, Sender, redactor
from segue.pipeline.http import HttpClient
from segue.pipeline.routing import Decision, InstanceConfig, batch_requests, route
from segue.pipeline.transports import Transports
from segue.pipeline.worker import user_key

CHUNK_EVENTS = 500  # read and sent together: users in parallel, each user's events in order
ATTEMPTS = 5  # per event, for retryable answers
MAX_BACKOFF_SECONDS = 60.0
KEPT_FAILURES = 10
SAVE_EVERY_SECONDS = 1.0


@dataclass(frozen=True)
class ReplayTarget:
    """What to replay where: an instance's routing config and a receivedAt range [start, end)."""

    config: InstanceConfig
    start: datetime
    end: datetime


@dataclass
class ReplayReport:
    """A replay's progress and counts: read = delivered + failed + filtered; sent = attempted."""

    id: str
    destination_id: str
    source_id: str
    start: str
    end: str
    status: str = "running"  # running, succeeded, failed
    read: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    filtered: int = 0
    progress: float = 0.0  # share of the time range done
    error: str | None = None
    started_at: str = ""
    finished_at: str | None = None
    failures: list[dict] = field(default_factory=list)  # the first few: messageId and reason

    def to_json(self) -> dict:
        return {_camel(key): value for key, value in asdict(self).items()}


def new_report(target: ReplayTarget) -> ReplayReport:
    return ReplayReport(id=uuid.uuid4().hex, destination_id=target.config.id, source_id=target.config.source_id,
                        start=_iso(target.start), end=_iso(target.end), started_at=_iso(datetime.now(UTC)))


def replayed(event: dict) -> dict:
    """The event as replay sends it: without its original `integrations` object."""
    return {key: value for key, value in event.items() if key != "integrations"}


def replay_rate(destination: Any, settings: Settings) -> float:
    """Requests per second: the lower of replay_rate_limit and the vendor's limit (0: none)."""
    limits = [limit for limit in (settings.replay_rate_limit, destination.rate_limit) if limit > 0]
    return min(limits, default=0.0)


async def run_replay(target: ReplayTarget, settings: Settings, report: ReplayReport | None = None,
                     on_progress: Callable[[ReplayReport], None] | None = None) -> ReplayReport:
    """Replay the target's range; the report ends `succeeded`, or `failed` with the error."""
    report = report or new_report(target)
    allow_private = settings.allow_private_destinations
    http, transports = HttpClient(allow_private=allow_private), Transports(allow_private=allow_private)
    sender = Sender(http, concurrency=settings.delivery_concurrency, timeout=settings.delivery_timeout_seconds,
                    rate_limit=replay_rate(target.config.destination, settings), transports=transports)
    status, error = "succeeded", None
    try:
        await Replayer(target, sender, settings, report, on_progress).run(settings.data_dir)
    except Exception as failure:  # the report says why; the CLI and API show it
        status, error = "failed", f"{type(failure).__name__}: {failure}"
    finally:
        await http.close()
        await transports.close()
    report.finished_at, report.error = _iso(datetime.now(UTC)), error
    report.progress = 1.0 if status == "succeeded" else report.progress
    report.status = status  # last: a report that says finished is complete
    return report


class Replayer:
    """Sends archived events through routing and the Sender, counting outcomes in a report."""

    def __init__(self, target: ReplayTarget, sender: Sender, settings: Settings, report: ReplayReport,
                 on_progress: Callable[[ReplayReport], None] | None = None) -> None:
        self.target, self.config, self.sender, self.report = target, target.config, sender, report
        self.backoff = Backoff(settings.retry_base_seconds, min(settings.retry_max_delay_seconds, MAX_BACKOFF_SECONDS))
        self.on_progress = on_progress or (lambda report: None)
        self.redact = redactor(self.config.secrets)

    async def run(self, data_dir: Path) -> None:
        events = iter_archive(data_dir, self.config.source_id, self.target.start, self.target.end)
        while chunk := await asyncio.to_thread(_take, events, CHUNK_EVENTS):
            await self._send_chunk(chunk)
            self.report.progress = self._progress(chunk[-1])
            self.on_progress(self.report)

    async def _send_chunk(self, chunk: list[dict]) -> None:
        if self.config.batching:
            return await self._send_batches([replayed(event) for event in chunk])
        by_user: dict[str, list[dict]] = {}
        for event in chunk:
            by_user.setdefault(user_key(event), []).append(replayed(event))
        await asyncio.gather(*(self._send_in_order(events) for events in by_user.values()))

    async def _send_batches(self, events: list[dict]) -> None:
        """A destination with a batch call gets the chunk in batches of its size, as the live
        worker sends; an event counts as delivered once every part of it was."""
        parts: list[tuple[int, dict]] = []  # (the event's position, what the batch call gets)
        for position, event in enumerate(events):
            decision = self._decided(event)
            if decision is not None:
                parts.extend((position, sendable) for sendable in decision.batch_events)
        size = self.config.destination.batch_size or len(parts) or 1
        failures: dict[int, str] = {}  # position -> why
        await asyncio.gather(*(self._send_batch(parts[first:first + size], failures)
                               for first in range(0, len(parts), size)))
        for position in dict.fromkeys(position for position, _ in parts):
            self.report.sent += 1
            if position in failures:
                self._fail(events[position], failures[position])
            else:
                self.report.delivered += 1

    async def _send_batch(self, parts: list[tuple[int, dict]], failures: dict[int, str]) -> None:
        kept, requests, refused = batch_requests(self.config, [sendable for _, sendable in parts])
        for index, reason in refused.items():
            failures.setdefault(parts[index][0], reason)
        if requests:
            outcome = await self._send_with_retries(requests)
            if outcome.kind != "delivered":
                for index in kept:
                    failures.setdefault(parts[index][0], _described(outcome))

    async def _send_in_order(self, events: list[dict]) -> None:
        for event in events:
            await self._deliver(event)

    async def _deliver(self, event: dict) -> None:
        decision = self._decided(event)
        if decision is None:
            return
        self.report.sent += 1
        outcome = await self._send_with_retries(decision.requests)
        if outcome.kind == "delivered":
            self.report.delivered += 1
        else:
            self._fail(event, _described(outcome))

    def _decided(self, event: dict) -> Decision | None:
        """The routing decision, or None when the event was filtered or failed (and counted)."""
        self.report.read += 1
        decision = route(event, self.config)
        if decision.filtered:
            self.report.filtered += 1
        elif decision.failed:
            self._fail(event, decision.failed)
        else:
            return decision
        return None

    async def _send_with_retries(self, requests: list) -> Outcome:
        for attempt in range(1, ATTEMPTS + 1):
            outcome, _ = await self.sender.send(requests, self.config.destination.interpret)
            if outcome.kind != "retry" or attempt == ATTEMPTS:
                return outcome
            await asyncio.sleep(self.backoff.delay(attempt, outcome.retry_after))
        return outcome

    def _fail(self, event: dict, message: str) -> None:
        self.report.failed += 1
        if len(self.report.failures) < KEPT_FAILURES:
            self.report.failures.append({"messageId": event.get("messageId"), "message": self.redact(message)})

    def _progress(self, event: dict) -> float:
        start, end = epoch_ms(self.target.start), epoch_ms(self.target.end)
        done = _received_ms(event, start) - start
        return max(0.0, min(1.0, done / max(1, end - start)))


class ReplayJobs:
    """Runs replays in background threads; reports live in memory and `<data dir>/replays/`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.directory = Path(settings.data_dir) / "replays"
        self._running: dict[str, ReplayReport] = {}
        self._lock = threading.Lock()

    def start(self, target: ReplayTarget) -> dict:
        report = new_report(target)
        with self._lock:
            self._running[report.id] = report
        self._save(report)
        threading.Thread(target=self._run, args=(target, report), name=f"replay-{report.id}", daemon=True).start()
        return report.to_json()

    def get(self, destination_id: str, replay_id: str) -> dict:
        view = self._view(replay_id)
        if view is None or view["destinationId"] != destination_id:
            raise NotFound(f"no replay {replay_id!r} of destination {destination_id!r}")
        return view

    def list(self, destination_id: str) -> list[dict]:
        """The destination's replays, oldest first."""
        ids = [path.stem for path in self.directory.glob("*.json")] if self.directory.is_dir() else []
        views = [view for view in map(self._view, ids) if view and view["destinationId"] == destination_id]
        return sorted(views, key=lambda view: view["startedAt"])

    def _run(self, target: ReplayTarget, report: ReplayReport) -> None:
        saved = [time.monotonic()]

        def progress(report: ReplayReport) -> None:
            if time.monotonic() - saved[0] >= SAVE_EVERY_SECONDS:
                saved[0] = time.monotonic()
                self._save(report)

        try:
            asyncio.run(run_replay(target, self.settings, report, progress))
        finally:
            self._save(report)
            with self._lock:
                self._running.pop(report.id, None)

    def _save(self, report: ReplayReport) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        temp = self.directory / f".{report.id}.tmp"
        temp.write_bytes(orjson.dumps(report.to_json()))
        temp.replace(self.directory / f"{report.id}.json")

    def _view(self, replay_id: str) -> dict | None:
        with self._lock:
            live = self._running.get(replay_id)
        if live is None:
            return self._load(replay_id)
        return {**live.to_json(), "status": "running"}  # finished once its report is saved

    def _load(self, replay_id: str) -> dict | None:
        path = self.directory / f"{replay_id}.json"
        if not replay_id.isalnum() or not path.is_file():
            return None
        try:
            view = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        if view.get("status") == "running":  # saved by a process that stopped before it finished
            view.update(status="failed", error="interrupted: Segue stopped before the replay finished")
        return view


def _described(outcome: Outcome) -> str:
    """The outcome's message, with the HTTP status when the message does not say it."""
    if outcome.status is None or str(outcome.status) in outcome.message:
        return outcome.message
    return f"HTTP {outcome.status}: {outcome.message}"


def _take(events: Iterator[dict], count: int) -> list[dict]:
    return list(itertools.islice(events, count))


def _received_ms(event: dict, default: int) -> int:
    try:
        return epoch_ms(datetime.fromisoformat(event["receivedAt"]))
    except (KeyError, TypeError, ValueError):
        return default


def _iso(moment: datetime) -> str:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)
