"""`/destinations/{destinationId}/replays`: re-send archived events of a time range (Business plan)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import Field

from segue.web.api.deps import ERRORS, Caller, Plane
from segue.web.api.schemas import Body, Out, envelope

router = APIRouter(prefix="/destinations", tags=["Replays"], responses=ERRORS)


class ReplayIn(Body):
    """A receivedAt range, start included, end excluded; times without an offset are UTC."""

    start: datetime = Field(strict=False, description="ISO-8601, e.g. `2024-05-01T00:00:00Z`.")
    end: datetime = Field(strict=False, description="ISO-8601, after `start`.")


class ReplayFailure(Out):
    message_id: str | None = None
    message: str


class Replay(Out):
    id: str
    destination_id: str
    source_id: str
    start: str
    end: str
    status: Literal["running", "succeeded", "failed"]
    read: int = Field(description="Events read from the archive: delivered + failed + filtered.")
    sent: int = Field(description="Events sent to the destination (retries not counted again).")
    delivered: int
    failed: int
    filtered: int = Field(description="Events that Destination Filters, mappings or the method dropped.")
    progress: float = Field(description="Share of the time range done, 0 to 1.")
    error: str | None = None
    started_at: str
    finished_at: str | None = None
    failures: list[ReplayFailure] = Field(description="The first few failed events and why.")


One = envelope("replay", Replay)


@router.post("/{destinationId}/replays", response_model=One, status_code=202)
def start_replay(destinationId: str, body: ReplayIn, plane: Plane, caller: Caller):
    """Replay the source's archived events of a time range into this instance, in the background
    (Business plan; the instance may be disabled; its destination must accept past timestamps)."""
    return {"data": {"replay": plane.start_replay(caller, destinationId, body.start, body.end)}}


@router.get("/{destinationId}/replays", response_model=envelope("replays", list[Replay]))
def list_replays(destinationId: str, plane: Plane, caller: Caller):
    """The instance's replays, oldest first."""
    return {"data": {"replays": plane.list_replays(destinationId)}}


@router.get("/{destinationId}/replays/{replayId}", response_model=One)
def get_replay(destinationId: str, replayId: str, plane: Plane, caller: Caller):
    """One replay's status, progress and counts."""
    return {"data": {"replay": plane.get_replay(destinationId, replayId)}}
