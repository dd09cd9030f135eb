"""`/warehouses`: databases that events are loaded into, in Segment's table layout."""

from __future__ import annotations

from fastapi import APIRouter

from segue.web.api.deps import ERRORS, Caller, Plane
from segue.web.api.schemas import Warehouse, WarehouseChange, WarehouseIn, envelope

router = APIRouter(prefix="/warehouses", tags=["Warehouses"], responses=ERRORS)
One = envelope("warehouse", Warehouse)


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
