"""Error pages: what the app shows for a missing object, a refused action or a broken page."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from segue.errors import Forbidden, NotFound, SegueError
from segue.web.app.render import page

log = logging.getLogger(__name__)


async def not_found(request: Request, error: Exception) -> Response:
    message = getattr(error, "message", None) or "There is no page here."
    return page(request, "error.html", status=404, title="Not found", message=message)


async def forbidden(request: Request, error: Forbidden) -> Response:
    return page(request, "error.html", status=403, title="Not allowed", message=error.message)


async def refused(request: Request, error: SegueError) -> Response:
    """A rule the control plane enforced on a page with no form to show it on."""
    return page(request, "error.html", status=error.status, title="That did not work", message=error.message)


async def http_error(request: Request, error: HTTPException) -> Response:
    if error.status_code == 404:
        return await not_found(request, error)
    return page(request, "error.html", status=error.status_code, title="Error", message=str(error.detail))


async def unexpected(request: Request, error: Exception) -> Response:
    log.exception("app page %s %s failed", request.method, request.url.path)
    return page(request, "error.html", status=500, title="Something broke",
                message="The server log has the details.")


EXCEPTION_HANDLERS = {
    NotFound: not_found,
    Forbidden: forbidden,
    SegueError: refused,
    HTTPException: http_error,
    Exception: unexpected,
}
