"""`segue warehouses sync NAME`: one sync, waited for, from the command line.

The event log has one writer, `segue serve`, which holds `<data dir>/log/writer.lock` while
it runs; a second process cannot follow the log beside it (a consumer needs the writable log),
and DuckDB lets only one process write its file. So when a server holds the log, the command
records a sync request ("sync now", as the API does), which the server's sync supervisor picks
up within a second, and follows the request's progress in the sync history. When no server
runs, it opens the log itself and runs the sync in this process with the same code.

On a shared log (JetStream) there is no writer lock; the warehouse's lease says whether a
server loads it (segue/pipeline/warehouse_supervisor.py). The command tries to take that lease:
held by a server, the server does the sync; taken, the command holds it (renewed) while it
syncs here, so no server starts loading the same warehouse meanwhile.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from segue.config import Settings
from segue.control.warehouses import sync_view
from segue.errors import SegueError

POLL_SECONDS = 0.25
TAKE_SECONDS = 30.0  # a running server takes a request within a second; this is generous
Progress = Callable[[str, int, int | None, int | None], None]  # status, rows, offset done, offset aimed for


class SyncTimeout(SegueError):
    code = "sync_timeout"


def server_holds_the_log(log_dir: Path) -> bool:
    """Whether a running `segue serve` owns the event log (its writer lock is taken)."""
    lock_path = Path(log_dir) / "writer.lock"
    if not lock_path.exists():
        return False
    with open(lock_path, "a+b") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock, fcntl.LOCK_UN)
    return False


def run_sync(plane: Any, settings: Settings, ref: str, actor: Any, progress: Progress, timeout: float) -> dict:
    """Sync the warehouse `ref` now and wait for the end; returns the finished sync's view."""
    request = plane.request_sync(actor, ref)  # checks the role and that the warehouse is enabled
    warehouse = plane.store.get_warehouse(ref)
    if settings.log_url:
        return asyncio.run(_sync_on_shared_log(plane.store, settings, warehouse, request["id"], progress, timeout))
    if server_holds_the_log(settings.log_dir):
        return wait_for_server(plane.store, request["id"], progress, timeout)
    return asyncio.run(sync_here(settings, plane.store, warehouse, request["id"], progress))


async def _sync_on_shared_log(store: Any, settings: Settings, warehouse: Any, sync_id: str, progress: Progress,
                              timeout: float) -> dict:
    """Sync here while holding the warehouse's lease, or let the server holding it do the sync.

    The command holds leases under a name of its own: under the node's name it would take a
    server's lease on the same node for its own (a node restarted under its name does, on purpose)
    and load the warehouse while that server loads it too."""
    from segue.log.leases import open_leases
    from segue.pipeline.warehouse_supervisor import lease_name

    leases = open_leases(settings, holder=cli_holder(settings))
    await leases.start()
    try:
        if not await leases.acquire(lease_name(warehouse.id)):
            return await asyncio.to_thread(wait_for_server, store, sync_id, progress, timeout)
        renewing = asyncio.create_task(_keep_lease(leases, lease_name(warehouse.id)))
        try:
            return await sync_here(settings, store, warehouse, sync_id, progress)
        finally:
            renewing.cancel()
    finally:
        await leases.close()


def cli_holder(settings: Settings) -> str:
    """The lease holder name of this command: the node's name, marked, and this process."""
    return f"{settings.node}/cli-{os.getpid()}"


async def _keep_lease(leases: Any, name: str) -> None:
    while True:
        await asyncio.sleep(leases.ttl / 3)
        await leases.acquire(name)


def wait_for_server(store: Any, sync_id: str, progress: Progress, timeout: float,
                    clock: Callable[[], float] = time.monotonic) -> dict:
    """Follow a sync request in the history until the server has finished it."""
    asked = clock()
    while True:
        record = store.get_sync(sync_id)
        progress(record.status, record.total_rows, None, None)
        if record.finished:
            return sync_view(record)
        waited = clock() - asked
        if record.status == "Pending" and waited > TAKE_SECONDS:
            raise SyncTimeout(f"the running server did not start sync {sync_id} within {TAKE_SECONDS:.0f} s")
        if waited > timeout:
            raise SyncTimeout(f"sync {sync_id} is still {record.status} after {timeout:.0f} s; "
                              f"see `segue warehouses syncs`")  # fmt: skip
        time.sleep(POLL_SECONDS)


async def sync_here(settings: Settings, store: Any, warehouse: Any, sync_id: str, progress: Progress) -> dict:
    """Open the log (no server holds it) and run the requested sync in this process."""
    from segue.log import open_log
    from segue.pipeline.warehouse_sync import WarehouseSyncer

    event_log = open_log(replace(settings, log_writer_process=False))
    await event_log.start()
    try:
        def on_chunk(done: Any, offset: int, target: int) -> None:
            progress("Running", sum(done.rows.values()), offset, target)

        syncer = WarehouseSyncer(warehouse, store, event_log, settings.data_dir, on_progress=on_chunk)
        progress("Running", 0, await syncer.consumer.committed(), None)
        return sync_view(await syncer.sync_once(sync_id))
    finally:
        await event_log.close()
