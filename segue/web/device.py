"""Device mode's CDN routes, where analytics.js (Segment's or Segue's) finds its settings and code.

- `GET /v1/projects/{writeKey}/settings`: analytics-next's CDN settings (spec section 5.1);
- `GET /analytics.js/v1/{writeKey}/analytics.min.js` (or `analytics.js`): the source's bundle,
  what the standard Segment snippet loads once its host is changed to Segue's;
- `GET /analytics.js/v1/plugins/{slug}.js`: one device-mode plugin (a `remotePlugins` url).

Every answer may be read from any origin (CORS `*`), carries an ETag and may be cached for 60
seconds, so a change in the app reaches browsers within a minute; a matching If-None-Match
gets 304. Answers of 1 KiB or more go gzipped to clients that accept it. An unknown or
disabled write key gets 404 with the project's JSON error body.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
from pathlib import Path
from typing import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from segue.config import Settings
from segue.control.device import Built, DeviceSite
from segue.web.api.errors import error_response

LIBRARY = Path(__file__).parent / "browser" / "analytics.js"  # Segue's browser library (plain JS)
MAX_AGE = 60
JSON = "application/json"
JAVASCRIPT = "application/javascript; charset=utf-8"
CORS = {"Access-Control-Allow-Origin": "*"}
PREFLIGHT = {**CORS, "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
             "Access-Control-Allow-Headers": "*", "Access-Control-Max-Age": "86400"}
METHODS = ["GET", "HEAD", "OPTIONS"]
GZIP_MIN_BYTES = 1024  # smaller answers go as they are


def device_routes(site: DeviceSite, settings: Settings) -> list[Route]:
    """The routes, bound to `site`; the public URL is the operator's, else the request's own."""
    configured = settings.public_url.rstrip("/") if settings.public_url != Settings.public_url else ""

    def public_url(request: Request) -> str:
        return configured or str(request.base_url).rstrip("/")

    settings_of = _endpoint(lambda request: site.settings(request.path_params["write_key"], public_url(request)),
                            JSON, "write key")
    bundle_of = _endpoint(lambda request: site.bundle(request.path_params["write_key"], public_url(request)),
                          JAVASCRIPT, "write key")
    plugin = _endpoint(lambda request: site.plugin(request.path_params["slug"]), JAVASCRIPT, "device-mode destination")
    return [
        Route("/v1/projects/{write_key}/settings", settings_of, methods=METHODS),
        Route("/v1/projects/{write_key}/settings/", settings_of, methods=METHODS),
        Route("/analytics.js/v1/plugins/{slug}.js", plugin, methods=METHODS),
        Route("/analytics.js/v1/{write_key}/analytics.min.js", bundle_of, methods=METHODS),
        Route("/analytics.js/v1/{write_key}/analytics.js", bundle_of, methods=METHODS),
    ]


def _endpoint(build: Callable[[Request], Built | None], media_type: str, what: str) -> Callable:
    """A Starlette endpoint answering with what `build` makes (run in a worker thread: it reads the store)."""

    async def endpoint(request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=PREFLIGHT)
        return _answer(request, await asyncio.to_thread(build, request), media_type, what)

    return endpoint


def _answer(request: Request, built: Built | None, media_type: str, what: str) -> Response:
    if built is None:
        return error_response(404, "not_found", f"no such {what} (unknown or disabled)",
                              headers={**CORS, "Cache-Control": "no-store"})
    compress = len(built.body) >= GZIP_MIN_BYTES and "gzip" in request.headers.get("accept-encoding", "")
    etag = f'"{built.digest}-gz"' if compress else f'"{built.digest}"'
    headers = {**CORS, "ETag": etag, "Cache-Control": f"public, max-age={MAX_AGE}", "Vary": "Accept-Encoding"}
    if _matches(request.headers.get("if-none-match"), built.digest):
        return Response(status_code=304, headers=headers)
    if compress:
        return Response(_gzipped(built.body), media_type=media_type, headers={**headers, "Content-Encoding": "gzip"})
    return Response(built.body, media_type=media_type, headers=headers)


@functools.lru_cache(maxsize=64)
def _gzipped(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=6, mtime=0)


def _matches(if_none_match: str | None, digest: str) -> bool:
    """Whether If-None-Match names this content, plain or gzipped (weak comparison, as RFC 9110
    asks for GET)."""
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return bool(tags & {"*", f'"{digest}"', f'"{digest}-gz"'})
