"""The four measurements taken on every target, and the floors Segue must meet."""

from __future__ import annotations

from dataclasses import dataclass

BATCH_SIZE = 100
FLOOR_TRACK_RPS = 8_000
FLOOR_BATCH_EVENTS = 50_000
FLOOR_P99_SECONDS = 0.050


@dataclass(frozen=True)
class Workload:
    """One load shape: route (batch size), connections, and a rate for open loop."""

    key: str
    title: str
    batch_size: int
    connections: int
    rate: float | None = None  # requests/s; None: closed loop


WORKLOADS = (
    Workload("track", "/v1/track, closed loop, 64 connections", 0, 64),
    Workload("batch", f"/v1/batch ×{BATCH_SIZE}, closed loop, 16 connections", BATCH_SIZE, 16),
    Workload(
        "track_open", f"/v1/track, open loop at {FLOOR_TRACK_RPS // 2:,} req/s", 0, 64, rate=FLOOR_TRACK_RPS / 2
    ),
    Workload(
        "batch_open",
        f"/v1/batch ×{BATCH_SIZE}, open loop at {FLOOR_BATCH_EVENTS // 2:,} events/s",
        BATCH_SIZE,
        16,
        rate=FLOOR_BATCH_EVENTS / 2 / BATCH_SIZE,
    ),
)
