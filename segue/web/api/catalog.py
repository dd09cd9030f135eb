"""`/catalog`: the destinations and warehouse engines Segue can send data to."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse, Response

from segue.destinations.docs import docs_page
from segue.destinations.registry import serialize
from segue.warehouses.catalog import get_engine, serialize_engine
from segue.web.api.deps import ERRORS, Caller, Plane
from segue.web.api.schemas import DestinationMetadata, WarehouseMetadata, envelope

router = APIRouter(prefix="/catalog", tags=["Catalog"], responses=ERRORS)


@router.get("/destinations", response_model=envelope("destinationsCatalog", list[DestinationMetadata]))
def list_catalog_destinations(
    plane: Plane,
    caller: Caller,
    search: str | None = Query(None, max_length=100, description="Words in the name, slug, description or categories."),
    category: str | None = Query(None, max_length=100, description="A category, e.g. `Analytics`."),
    method: str | None = Query(None, max_length=20, description="A Segment method: track, identify, page, screen, group, alias."),
    mode: str | None = Query(None, max_length=20, description="`cloud` or `device`."),
    platform: str | None = Query(None, max_length=20, description="`browser`, `mobile` or `server`."),
):
    """The destination catalog, filtered."""
    found = plane.catalog.find(search=search, category=category, method=method, mode=mode, platform=platform)
    return {"data": {"destinationsCatalog": [serialize(destination) for destination in found]}}


@router.get("/destinations/{slug}", response_model=envelope("destinationMetadata", DestinationMetadata))
def get_catalog_destination(slug: str, plane: Plane, caller: Caller):
    """One catalog destination: metadata, settings, presets."""
    return {"data": {"destinationMetadata": serialize(plane.catalog.get(slug))}}


@router.get("/destinations/{slug}/docs", response_class=Response,
            responses={200: {"content": {"text/markdown": {"schema": {"type": "string"}}},
                             "description": "The page as Markdown."}})
def get_catalog_destination_docs(slug: str, plane: Plane, caller: Caller):
    """One catalog destination's documentation page (Markdown), generated from its metadata and settings."""
    return PlainTextResponse(docs_page(plane.catalog.get(slug)), media_type="text/markdown; charset=utf-8")


@router.get("/warehouses", response_model=envelope("warehousesCatalog", list[WarehouseMetadata]))
def list_catalog_warehouses(plane: Plane, caller: Caller):
    """The warehouse engines Segue loads into."""
    return {"data": {"warehousesCatalog": [serialize_engine(engine) for engine in plane.engines.values()]}}


@router.get("/warehouses/{slug}", response_model=envelope("warehouseMetadata", WarehouseMetadata))
def get_catalog_warehouse(slug: str, caller: Caller):
    """One warehouse engine and its connection settings."""
    return {"data": {"warehouseMetadata": serialize_engine(get_engine(slug))}}
