"""The one JSON error body on every API failure, whatever raised it.

`{"success": false, "code": ..., "message": ...}`, plus `errors` naming each field and rule
when a request body or query broke the schema.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match

from segue.errors import SegueError

log = logging.getLogger(__name__)
_HTTP_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 409: "conflict"}


def error_response(status: int, code: str, message: str, headers: dict | None = None, **details) -> JSONResponse:
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    body = {"success": False, "code": code, "message": message, **details}
    return JSONResponse(body, status_code=status, headers=headers)


def install_error_handlers(api: FastAPI) -> None:
    api.add_exception_handler(SegueError, _segue_error)
    api.add_exception_handler(RequestValidationError, _invalid_request)
    api.add_exception_handler(HTTPException, http_error)
    api.add_exception_handler(Exception, _unexpected)


async def _segue_error(request: Request, error: SegueError) -> JSONResponse:
    return error_response(error.status, error.code, error.message, **error.details)


async def _invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
    problems = [_problem(item) for item in error.errors()]
    summary = "; ".join(f"{problem['field']}: {problem['message']} ({problem['rule']})" for problem in problems)
    return error_response(400, "invalid_request", f"invalid request: {summary}", errors=problems)


def _problem(item: dict) -> dict:
    location = [str(part) for part in item.get("loc", ()) if part != "body"]
    return {"field": ".".join(location) or "body", "rule": item.get("type", "invalid"), "message": item.get("msg", "")}


async def http_error(request: Request, error: HTTPException) -> JSONResponse:
    """Starlette's own errors (no route, wrong method) in the one body, with their headers (`Allow`)."""
    code = _HTTP_CODES.get(error.status_code, "http_error")
    headers = error.headers
    if error.status_code == 405:
        headers = {**(headers or {}), "Allow": _allowed_methods(request)}
    return error_response(error.status_code, code, str(error.detail), headers=headers)


def _allowed_methods(request: Request) -> str:
    """Every method some route offers at this path (Starlette's `Allow` names only one route's)."""
    methods = set()
    for route in request.app.router.routes:
        if getattr(route, "methods", None) and route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods
    return ", ".join(sorted(methods))


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("API request %s %s failed", request.method, request.url.path)
    return error_response(500, "internal_error", "internal error; the server log has the details")
