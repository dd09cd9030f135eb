"""`/destinations`: destination instances, their test events, filters and mappings."""

from __future__ import annotations

from fastapi import APIRouter, Query

from segue.web.api.deps import ERRORS, Caller, Plane
from segue.web.api.schemas import (
    DeliverySummary,
    Destination,
    DestinationChange,
    DestinationIn,
    DestinationMapping,
    Filter,
    FilterChange,
    FilterIn,
    MappingChange,
    MappingIn,
    Preview,
    PreviewIn,
    TestEventIn,
    TestResult,
    envelope,
)

router = APIRouter(prefix="/destinations", tags=["Destinations"], responses=ERRORS)
One = envelope("destination", Destination)
OneFilter = envelope("filter", Filter)
OneMapping = envelope("mapping", DestinationMapping)


@router.get("", response_model=envelope("destinations", list[Destination]))
def list_destinations(plane: Plane, caller: Caller, sourceId: str | None = Query(None, max_length=100)):
    """Every destination instance, or those of one source."""
    return {"data": {"destinations": plane.list_destinations(sourceId)}}


@router.post("", response_model=One, status_code=201)
def create_destination(body: DestinationIn, plane: Plane, caller: Caller):
    """Connect a catalog destination to a source. New instances start disabled unless `enabled`."""
    created = plane.create_destination(
        caller, source=body.source_id, slug=body.metadata_id, name=body.name, settings=body.settings,
        enabled=body.enabled, mode=body.mode, copy_from=body.copy_settings_from,
    )
    return {"data": {"destination": created}}


@router.get("/{destinationId}", response_model=One)
def get_destination(destinationId: str, plane: Plane, caller: Caller):
    """One destination instance; secret settings masked."""
    return {"data": {"destination": plane.get_destination(destinationId)}}


@router.patch("/{destinationId}", response_model=One)
def update_destination(destinationId: str, body: DestinationChange, plane: Plane, caller: Caller):
    """Rename, enable, switch mode or change settings (merged; a masked secret keeps its value)."""
    changed = plane.update_destination(
        caller, destinationId, name=body.name, enabled=body.enabled, mode=body.mode, settings=body.settings
    )
    return {"data": {"destination": changed}}


@router.delete("/{destinationId}", response_model=One)
def delete_destination(destinationId: str, plane: Plane, caller: Caller):
    """Delete a destination instance."""
    return {"data": {"destination": plane.delete_destination(caller, destinationId)}}


@router.post("/{destinationId}/test", response_model=envelope("testResult", TestResult))
def test_destination(destinationId: str, body: TestEventIn, plane: Plane, caller: Caller):
    """Send one test event through the instance now and show what was sent and answered."""
    return {"data": {"testResult": plane.test_destination(caller, destinationId, body.type, body.event)}}


@router.post("/{destinationId}/preview", response_model=envelope("preview", Preview))
def preview(destinationId: str, body: PreviewIn, plane: Plane, caller: Caller):
    """What an event (or a sample of `type`) becomes: the mapped payloads and the requests the destination
    would be sent, secrets masked. Runs the router's filters, mappings and translation; sends nothing."""
    draft = body.mapping.model_dump() if body.mapping is not None else None
    return {"data": {"preview": plane.preview_destination(destinationId, body.event, body.type, draft)}}


@router.get("/{destinationId}/delivery", response_model=envelope("delivery", DeliverySummary))
async def delivery(
    destinationId: str,
    plane: Plane,
    caller: Caller,
    window: float | None = Query(None, gt=0, le=14 * 86_400, description="Only the last `window` seconds (default: all kept)."),
):
    """Event delivery: delivered, retried, failed, filtered (by reason), p50/p95 latency, recent failures."""
    return {"data": {"delivery": await plane.delivery_summary(destinationId, window)}}


@router.get("/{destinationId}/filters", response_model=envelope("filters", list[Filter]))
def list_filters(destinationId: str, plane: Plane, caller: Caller):
    """The destination's filters (Business plan)."""
    return {"data": {"filters": plane.list_filters(destinationId)}}


@router.post("/{destinationId}/filters", response_model=OneFilter, status_code=201)
def create_filter(destinationId: str, body: FilterIn, plane: Plane, caller: Caller):
    """Add a filter: an FQL condition and what to do with matching events."""
    actions = [action.model_dump(exclude_none=True) for action in body.actions]
    created = plane.create_filter(
        caller, destinationId, title=body.title, condition=body.if_, actions=actions, enabled=body.enabled
    )
    return {"data": {"filter": created}}


@router.patch("/{destinationId}/filters/{filterId}", response_model=OneFilter)
def update_filter(destinationId: str, filterId: str, body: FilterChange, plane: Plane, caller: Caller):
    """Change a filter."""
    actions = None if body.actions is None else [action.model_dump(exclude_none=True) for action in body.actions]
    changed = plane.update_filter(
        caller, destinationId, filterId, title=body.title, condition=body.if_, actions=actions, enabled=body.enabled
    )
    return {"data": {"filter": changed}}


@router.delete("/{destinationId}/filters/{filterId}", response_model=OneFilter)
def delete_filter(destinationId: str, filterId: str, plane: Plane, caller: Caller):
    """Remove a filter."""
    return {"data": {"filter": plane.delete_filter(caller, destinationId, filterId)}}


@router.get("/{destinationId}/mappings", response_model=envelope("mappings", list[DestinationMapping]))
def list_mappings(destinationId: str, plane: Plane, caller: Caller):
    """The instance's mappings (Actions-style subscriptions), in the order they run."""
    return {"data": {"mappings": plane.list_mappings(destinationId)}}


@router.post("/{destinationId}/mappings", response_model=OneMapping, status_code=201)
def create_mapping(destinationId: str, body: MappingIn, plane: Plane, caller: Caller):
    """Add a mapping, last in the order: events matching `trigger` go to `action` with `fields` merged in.
    Free and team plans allow 2 conditions per trigger; an instance has at most 50 mappings."""
    created = plane.create_mapping(
        caller, destinationId, name=body.name, trigger=body.trigger, action=body.action, fields=body.fields,
        enabled=body.enabled,
    )
    return {"data": {"mapping": created}}


@router.patch("/{destinationId}/mappings/{mappingId}", response_model=OneMapping)
def update_mapping(destinationId: str, mappingId: str, body: MappingChange, plane: Plane, caller: Caller):
    """Change a mapping (`fields` is replaced whole), enable or disable it, or move it (`position`)."""
    changed = plane.update_mapping(
        caller, destinationId, mappingId, name=body.name, trigger=body.trigger, action=body.action, fields=body.fields,
        enabled=body.enabled, position=body.position,
    )
    return {"data": {"mapping": changed}}


@router.delete("/{destinationId}/mappings/{mappingId}", response_model=OneMapping)
def delete_mapping(destinationId: str, mappingId: str, plane: Plane, caller: Caller):
    """Remove a mapping. An instance with no mappings sends each event to its method's translation."""
    return {"data": {"mapping": plane.delete_mapping(caller, destinationId, mappingId)}}
