"""`/sources`: where events come from, and their write keys."""

from __future__ import annotations

from fastapi import APIRouter

from segue.web.api.deps import ERRORS, Caller, Plane
from segue.web.api.schemas import Destination, Source, SourceChange, SourceIn, envelope

router = APIRouter(prefix="/sources", tags=["Sources"], responses=ERRORS)
One = envelope("source", Source)


@router.get("", response_model=envelope("sources", list[Source]))
def list_sources(plane: Plane, caller: Caller):
    """Every source, oldest first."""
    return {"data": {"sources": plane.list_sources()}}


@router.post("", response_model=One, status_code=201)
def create_source(body: SourceIn, plane: Plane, caller: Caller):
    """A new source with a fresh write key."""
    return {"data": {"source": plane.create_source(caller, body.name, body.type)}}


@router.get("/{sourceId}", response_model=One)
def get_source(sourceId: str, plane: Plane, caller: Caller):
    """One source, by id or slug."""
    return {"data": {"source": plane.get_source(sourceId)}}


@router.patch("/{sourceId}", response_model=One)
def update_source(sourceId: str, body: SourceChange, plane: Plane, caller: Caller):
    """Rename, enable or disable a source."""
    return {"data": {"source": plane.update_source(caller, sourceId, name=body.name, enabled=body.enabled)}}


@router.delete("/{sourceId}", response_model=One)
def delete_source(sourceId: str, plane: Plane, caller: Caller):
    """Delete a source and the destination instances connected to it."""
    return {"data": {"source": plane.delete_source(caller, sourceId)}}


@router.post("/{sourceId}/rotate-write-key", response_model=One)
def rotate_write_key(sourceId: str, plane: Plane, caller: Caller):
    """Replace the source's write key; the old one stops working within a second."""
    return {"data": {"source": plane.rotate_write_key(caller, sourceId)}}


@router.get("/{sourceId}/connected-destinations", response_model=envelope("destinations", list[Destination]))
def connected_destinations(sourceId: str, plane: Plane, caller: Caller):
    """The destination instances this source feeds."""
    return {"data": {"destinations": plane.list_destinations(sourceId)}}
