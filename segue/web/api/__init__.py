"""The REST API under `/api/v1`, described by OpenAPI 3.1 at `/api/v1/openapi.json`.

FastAPI, mounted at `/api` inside Segue's one ASGI app. Every route needs an API token; every
change goes through the control plane, so roles, plans and settings schemas hold here as they
do in the app and the CLI.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi_offline import FastAPIOffline

from segue.control import ControlPlane
from segue.web.api import catalog, destinations, oauth, replays, sources, warehouses, workspace
from segue.web.api.errors import install_error_handlers

DESCRIPTION = """Manage Segue's workspace: sources, destinations, warehouses, users and tokens.

Authenticate with an API token (`segue tokens create NAME`) in `Authorization: Bearer <token>`.
Responses are wrapped as `{"data": {...}}`; errors are `{"success": false, "code", "message"}`.
"""


def build_api(plane: ControlPlane) -> FastAPI:
    """The FastAPI application; mount it at `/api`."""
    # FastAPIOffline serves Swagger UI's files itself, so the docs work without a CDN.
    api = FastAPIOffline(
        title="Segue API",
        version="1",
        description=DESCRIPTION,
        openapi_url="/v1/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        static_url="/docs-assets",
    )
    api.state.plane = plane
    version_one = APIRouter(prefix="/v1")
    for module in (catalog, sources, destinations, replays, oauth, warehouses, workspace):
        version_one.include_router(module.router)
    api.include_router(version_one)
    install_error_handlers(api)
    return api
