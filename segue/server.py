"""`segue serve`: one process running the Tracking API on the embedded defaults.

`Runtime` opens the config store and the event log, keeps the write keys fresh and owns the
background tasks (the delivery router, the warehouse syncs); `build_app` wraps it in one ASGI
application whose lifespan starts and stops it; `serve` runs that application under uvicorn.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from typing import Any, Awaitable, Callable

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from segue.config import Settings
from segue.errors import ConfigError
from segue.control import Actor, ControlPlane
from segue.control import oauth
from segue.control.device import DeviceSite
from segue.control.oauth import refresh_due_tokens
from segue.destinations.registry import load_catalog
from segue.log import open_log
from segue.log.leases import open_leases
from segue.log.protocol import EventLog
from segue.pipeline.archive import start_archiver
from segue.pipeline.disk import relieve_pressure, watcher_for
from segue.pipeline.ingest import Ingestor
from segue.pipeline.partitions import PartitionOwnership
from segue.pipeline.replay import ReplayJobs
from segue.pipeline.router import Router, adopt_local_retries, open_delivery_stores
from segue.pipeline.source_counts import COUNTS_CONSUMER, SourceCounter, counts_path
from segue.pipeline.sources import SourceDirectory
from segue.pipeline.warehouse_supervisor import SyncSupervisor
from segue.store.changes import ChangeFeed
from segue.store.db import Store
from segue.store.secrets import load_secret_key
from segue.tasks import cancel_tasks
from segue.web.api import build_api
from segue.web.api.errors import http_error
from segue.web.app import build_web_app
from segue.web.device import LIBRARY, device_routes
from segue.web.tracking import TrackingAPI

log = logging.getLogger(__name__)
OAUTH_LEASE = "oauth-token-renewal"
OAUTH_REFRESH_SECONDS = 60.0
SYSTEM = Actor("segue", "owner")  # what the audit trail names for changes Segue makes itself


ALL_ROLES = frozenset({"ingest", "router", "warehouse", "app"})


def parse_roles(text: str) -> frozenset[str]:
    """`all`, or a comma-separated set of: ingest (the Tracking API, device mode's settings and
    bundles), router (cloud-mode delivery, log retention, OAuth renewals), warehouse (syncs, the
    raw archive), app (the web app, the REST API, per-source counts)."""
    names = {name.strip() for name in text.split(",") if name.strip()}
    if not names or names == {"all"}:
        return ALL_ROLES
    unknown = names - ALL_ROLES
    if unknown:
        raise ConfigError(f"unknown role(s) {', '.join(sorted(unknown))}: use all, or some of "
                          f"{', '.join(sorted(ALL_ROLES))}", code="invalid_role")
    return frozenset(names)


class Runtime:
    """The long-lived parts of a running Segue and their background tasks."""

    def __init__(self, settings: Settings, event_log: EventLog | None = None, store: Store | None = None) -> None:
        self.settings = settings
        self.store = store or Store.open(settings)
        self.log = event_log or open_log(settings)
        self.changes = ChangeFeed(settings.config_database_url)  # PostgreSQL's notifications of config changes
        self.sources = SourceDirectory(self.store, settings.config_poll_seconds, changes=self.changes)
        self.disk = watcher_for(settings, relieve=lambda: relieve_pressure(self.log, self.archiver))  # docs/disk.md
        self.ingestor = Ingestor(settings, self.log, self.sources, disk=self.disk)
        self.catalog = load_catalog()
        self.retries, self.delivery_stats = open_delivery_stores(settings)
        self.plane = ControlPlane(self.store, self.catalog, delivery_stats=self.delivery_stats,
                                  allow_private_destinations=settings.allow_private_destinations,
                                  replay_jobs=ReplayJobs(settings))
        self.leases = open_leases(settings)  # who delivers which partition, who loads which warehouse
        sharing = PartitionOwnership(self.leases, self.log.partitions) if settings.log_url else None
        self.router = Router(settings, self.store, self.log, self.catalog, self.retries, self.delivery_stats,
                             renew_token=lambda instance_id: asyncio.to_thread(oauth.refresh, self.plane, instance_id),
                             ownership=sharing, changes=self.changes)
        self.roles = parse_roles(settings.role)
        self._tasks: list[asyncio.Task] = []
        self._stops: list[Callable[[], Awaitable[None]]] = []  # the started parts' stop(), in start order
        self.archiver = None  # the raw archive's log consumer (segue/pipeline/archive.py)
        self.source_counts = SourceCounter(self.log, counts_path(settings.data_dir),  # events per source per minute
                                           consumer_name=settings.node_consumer(COUNTS_CONSUMER))
        self.syncs = SyncSupervisor(settings, self.store, self.log, leases=self.leases,  # one syncer per warehouse
                                    changes=self.changes)

    async def start(self) -> None:
        """Start the parts of this node's roles (`settings.role`; docs/scale-out.md)."""
        if "app" in self.roles:
            ensure_owner_account(self.store, self.settings)
        if self.roles == ALL_ROLES:
            ensure_default_warehouse(self.plane)  # a DuckDB file in this node's data dir: one node only
        await self.log.start()
        self._stops.append(self.log.close)
        self.changes.start()
        self._stops.append(lambda: asyncio.to_thread(self.changes.stop))
        if "warehouse" in self.roles:
            self.archiver = await start_archiver(self.settings, self.log)
            if self.archiver is not None:
                self._stops.append(self.archiver.stop)
        await self._start(self.disk)
        if self.roles & {"router", "warehouse"}:
            await self.leases.start()
            self._stops.append(self.leases.close)
        if "app" in self.roles:
            await self._start(self.source_counts)
        if "router" in self.roles:
            await adopt_local_retries(self.settings, self.retries, self.log.partitions)
            await self._start(self.router)
        if "warehouse" in self.roles:
            await self._start(self.syncs)
        self.sources.refresh_now()
        self._tasks.append(asyncio.create_task(self.sources.follow(), name="follow-config"))
        if "router" in self.roles:
            self._tasks.append(asyncio.create_task(self._prune_periodically(), name="prune-log"))
            self._tasks.append(asyncio.create_task(self._refresh_tokens_periodically(), name="refresh-oauth-tokens"))
        # Everything loaded so far lives as long as the process: keep it out of the cyclic
        # collector's full passes, which otherwise stall ingest for tens of milliseconds
        # (measured: p99 at 4,000 requests/s fell from 67-118 ms to 24-37 ms).
        gc.freeze()

    async def _start(self, part: Any) -> None:
        await part.start()
        self._stops.append(part.stop)

    async def _prune_periodically(self) -> None:
        """Retention: drop log segments every consumer has passed and that are old enough."""
        while True:
            await asyncio.sleep(self.settings.prune_interval_seconds)
            try:
                dropped = await self.log.prune()
            except Exception:  # retention must never stop the server; the next round retries
                log.exception("pruning the event log failed")
            else:
                if dropped:
                    log.info("event log retention dropped %d records", dropped)

    async def _refresh_tokens_periodically(self) -> None:
        """OAuth destinations: renew access tokens that expire within 5 minutes, every minute (on
        one router at a time: a vendor that rotates refresh tokens accepts each only once)."""
        while True:
            await asyncio.sleep(OAUTH_REFRESH_SECONDS)
            try:
                if await self.leases.acquire(OAUTH_LEASE):  # one router at a time renews
                    await asyncio.to_thread(refresh_due_tokens, self.plane, time.time())
                    await self.leases.release(OAUTH_LEASE)
            except Exception:  # a failed round must never stop the server; the next one retries
                log.exception("refreshing OAuth tokens failed")

    async def stop(self) -> None:
        await cancel_tasks(*self._tasks)
        for stop in reversed(self._stops):  # the parts that started, last first
            await stop()
        self._stops.clear()
        await self.retries.close()
        await self.delivery_stats.close()
        self.store.close()


def ensure_owner_account(store: Store, settings: Settings) -> None:
    """On first start, the owner account; a generated password is shown this once, in the log."""
    username = settings.admin_user
    password = store.ensure_owner(username, settings.admin_password or None)
    if password is not None:
        log.warning(
            "created the owner account %r with the one-time password: %s  (change it with "
            "`segue users set-password %s`)", username, password, username,
        )


def ensure_default_warehouse(plane: ControlPlane) -> None:
    """On first start, a DuckDB warehouse in the data dir, so a new user gets tables with no setup."""
    try:
        created = plane.ensure_default_warehouse(SYSTEM)
    except Exception:  # a convenience: never a reason not to start
        log.exception("could not create the default DuckDB warehouse")
        return
    if created is not None:
        log.info("created the DuckDB warehouse %r (<data dir>/warehouse.duckdb); it loads every source, "
                 "every %d s; load now with `segue warehouses sync %s`", created["name"],
                 created["syncIntervalSeconds"], created["name"])


def build_app(runtime: Runtime) -> Callable:
    """The ASGI app of this node's roles: the Tracking API routes first (ingest), then /healthz,
    device mode's settings and bundles (ingest; segue/web/device.py), the REST API (/api) and
    the app (/) (app)."""
    routes = [Route("/healthz", _healthz)]
    if "ingest" in runtime.roles:
        routes += device_routes(DeviceSite(runtime.store, runtime.catalog, LIBRARY), runtime.settings)
    if "app" in runtime.roles:
        routes += _app_routes(runtime)
    fallback = Starlette(routes=routes, exception_handlers={HTTPException: http_error})
    front = TrackingAPI(runtime.settings, runtime.ingestor, fallback) if "ingest" in runtime.roles else fallback

    async def app(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(runtime, receive, send)
        else:
            await front(scope, receive, send)

    return app


def _app_routes(runtime: Runtime) -> list:
    """The REST API (/api) and the web app (/, which takes every other path)."""
    api = build_api(runtime.plane)
    api.state.public_url = runtime.settings.public_url  # where OAuth logins come back to
    web_app = build_web_app(runtime.plane, runtime.log, load_secret_key(runtime.settings), runtime.settings.public_url,
                            source_counts=runtime.source_counts)
    return [Mount("/api", app=api), Mount("/", app=web_app)]


async def _healthz(request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def _lifespan(runtime: Runtime, receive: Callable, send: Callable) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                await runtime.start()
            except Exception as error:
                log.exception("Segue failed to start")
                await send({"type": "lifespan.startup.failed", "message": str(error)})
                return
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await runtime.stop()
            await send({"type": "lifespan.shutdown.complete"})
            return


# How Segue (and the benchmark's no-op baseline, for a fair comparison) runs under uvicorn.
UVICORN_OPTIONS = {"loop": "uvloop", "http": "httptools", "access_log": False}


def serve(settings: Settings) -> None:
    """Run Segue in this process until interrupted."""
    settings.ensure_data_dir()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per delivered request is noise
    app = build_app(Runtime(settings))
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        lifespan="on",
        log_level="info",
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
        **UVICORN_OPTIONS,
    )
