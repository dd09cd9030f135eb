"""Replay (spec 3.8, Business plan): re-send archived events of a time range to a destination.

The target is a cloud-mode instance of a destination that accepts historical timestamps; it
may be disabled. Starting a replay needs a role that may change things and the business plan;
reading a replay's report does not (a workspace that moved off Business still sees its past
replays). The replays themselves run in `ReplayJobs` (segue/pipeline/replay.py), which
`segue serve` hands to the control plane; the CLI runs one in its own process instead.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from segue.control.access import Actor, require_write
from segue.control.plans import require_feature
from segue.errors import ConfigError
from segue.pipeline.instances import instance_config
from segue.pipeline.replay import ReplayJobs, ReplayTarget


class ReplayUseCases:
    """Start replays and read their reports (mixed into ControlPlane; uses `self.replay_jobs`)."""

    def replay_target(self, actor: Actor, destination_id: str, start: datetime, end: datetime) -> ReplayTarget:
        """What a replay would send where, after every rule is checked (ConfigError, PlanLimit...)."""
        require_write(actor)
        require_feature(self.plan, "replay")
        record = self.store.get_destination(destination_id)
        destination = self.catalog.get(record.catalog_slug)
        if record.mode != "cloud":
            raise ConfigError("Replay sends to cloud-mode destinations; this instance is in device mode")
        if not destination.replay:
            raise ConfigError(f"{destination.name} does not accept historical timestamps, so it cannot take a replay")
        start, end = utc(start), utc(end)
        if end <= start:
            raise ConfigError(f"end ({end.isoformat()}) must be after start ({start.isoformat()})")
        return ReplayTarget(instance_config(self.store, self.catalog, record), start, end)

    def start_replay(self, actor: Actor, destination_id: str, start: datetime, end: datetime) -> dict:
        """Start a replay in the background; its report, status `running`."""
        target = self.replay_target(actor, destination_id, start, end)
        return self._replay_jobs().start(target)

    def get_replay(self, destination_id: str, replay_id: str) -> dict:
        return self._replay_jobs().get(self.store.get_destination(destination_id).id, replay_id)

    def list_replays(self, destination_id: str) -> list[dict]:
        return self._replay_jobs().list(self.store.get_destination(destination_id).id)

    def _replay_jobs(self) -> ReplayJobs:
        jobs: Any = getattr(self, "replay_jobs", None)
        if jobs is None:
            raise ConfigError("replays run inside `segue serve`; from a shell use `segue destinations replay`")
        return jobs


def utc(moment: datetime) -> datetime:
    """Naive times are UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
