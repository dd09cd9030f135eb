"""`/warehouses`: databases that events are loaded into, in Segment's table layout."""

from __future__ import annotations

from fastapi import APIRouter, Query

from segue.web.api.deps import ERRORS, Caller, Plane
from segue.web.api.schemas import Warehouse, WarehouseChange, WarehouseIn, WarehouseSync, envelope

router = APIRouter(prefix="/warehouses", tags=["Warehouses"], responses=ERRORS)
One = envelope("warehouse", Warehouse)
OneSync = envelope("sync", WarehouseSync)


@router.get("", response_model=envelope("warehouses", list[Warehouse]))
def list_warehouses(plane: Plane, caller: Caller):
    """Every warehouse."""
    return {"data": {"warehouses": plane.list_warehouses()}}


@router.post("", response_model=One, status_code=201)
def create_warehouse(body: WarehouseIn, plane: Plane, caller: Caller):
    """Add a warehouse (Free and Team: one; Business: as many as needed)."""
    created = plane.create_warehouse(
        caller, engine=body.metadata_id, name=body.name, settings=body.settings, source_ids=body.source_ids,
        selective_sync=body.selective_sync, sync_interval_seconds=body.sync_interval_seconds, enabled=body.enabled,
    )
    return {"data": {"warehouse": created}}


@router.get("/{warehouseId}", response_model=One)
def get_warehouse(warehouseId: str, plane: Plane, caller: Caller):
    """One warehouse; secret settings masked."""
    return {"data": {"warehouse": plane.get_warehouse(warehouseId)}}


@router.patch("/{warehouseId}", response_model=One)
def update_warehouse(warehouseId: str, body: WarehouseChange, plane: Plane, caller: Caller):
    """Change a warehouse. `"sourceIds": null` makes it load every source again."""
    if "source_ids" in body.model_fields_set and body.source_ids is None:
        plane.load_all_sources(caller, warehouseId)
    changes = body.model_dump(exclude={"source_ids"} if body.source_ids is None else set())
    return {"data": {"warehouse": plane.update_warehouse(caller, warehouseId, **changes)}}


@router.delete("/{warehouseId}", response_model=One)
def delete_warehouse(warehouseId: str, plane: Plane, caller: Caller):
    """Delete a warehouse (its tables stay in the database)."""
    return {"data": {"warehouse": plane.delete_warehouse(caller, warehouseId)}}


@router.post("/{warehouseId}/syncs", response_model=OneSync, status_code=202)
def request_sync(warehouseId: str, plane: Plane, caller: Caller):
    """Sync now: the running server starts the sync within a second (a sync already asked for is
    answered instead of a second one). Follow it with `GET .../syncs/{syncId}`."""
    return {"data": {"sync": plane.request_sync(caller, warehouseId)}}


@router.get("/{warehouseId}/syncs", response_model=envelope("syncs", list[WarehouseSync]))
def list_syncs(warehouseId: str, plane: Plane, caller: Caller, limit: int = Query(50, ge=1, le=500)):
    """The sync history, newest first: status, start, duration, rows per table, notices."""
    return {"data": {"syncs": plane.list_syncs(warehouseId, limit)}}


@router.get("/{warehouseId}/syncs/{syncId}", response_model=OneSync)
def get_sync(warehouseId: str, syncId: str, plane: Plane, caller: Caller):
    """One sync of the warehouse."""
    return {"data": {"sync": plane.get_sync(warehouseId, syncId)}}
