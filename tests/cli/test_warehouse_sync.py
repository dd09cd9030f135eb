"""`segue warehouses sync NAME` (in this process, or through a running server) and `segue warehouses syncs`."""

from __future__ import annotations

import asyncio
import fcntl
import threading
import time

import duckdb
import orjson

from segue.cli.sync_runner import server_holds_the_log
from segue.log import SqliteLog
from segue.log.protocol import Entry


def _append(data_dir, source_id: str, *message_ids: str) -> None:
    async def write() -> None:
        event_log = SqliteLog(data_dir / "log")
        await event_log.start()
        events = [{"type": "track", "messageId": m, "userId": "u", "event": "Signed Up",
                   "receivedAt": "2025-01-02T03:04:05Z", "timestamp": "2025-01-02T03:04:05Z"} for m in message_ids]
        await event_log.append([Entry(source_id, e["messageId"], "u", 0, orjson.dumps(e)) for e in events])
        await event_log.close()

    asyncio.run(write())


def _warehouse(segue, name: str = "wh", *more: str) -> dict:
    return segue.one("warehouses", "create", "duckdb", "--name", name, *more)


def test_sync_runs_in_process_when_no_server_runs_and_reports_the_rows(segue):
    web = segue.one("sources", "create", "Web", "--type", "javascript")
    _warehouse(segue)
    _append(segue.data_dir, web["id"], "m1", "m2")
    output = segue.ok("warehouses", "sync", "wh").stdout
    assert "Success, 4 rows" in output and "signed_up" in output
    with duckdb.connect(str(segue.data_dir / "warehouse.duckdb")) as connection:
        assert connection.execute("SELECT id FROM web.tracks ORDER BY id").fetchall() == [("m1",), ("m2",)]
    again = segue.one("warehouses", "sync", "wh")
    assert (again["status"], again["totalRows"], again["trigger"], again["requestedBy"]) == ("Success", 0, "manual", "cli")
    history = segue.json_lines("warehouses", "syncs", "wh")
    assert [sync["id"] for sync in history][0] == again["id"] and history[1]["rows"]["tracks"] == 2
    assert "Success" in segue.ok("warehouses", "syncs", "wh").stdout


def test_a_failing_sync_exits_1_with_the_reason_and_loses_nothing(segue, tmp_path):
    web = segue.one("sources", "create", "Web", "--type", "javascript")
    _warehouse(segue, "wh", "--setting", f"path={tmp_path / 'no' / 'such' / 'dir.duckdb'}")
    _append(segue.data_dir, web["id"], "m1")
    error = segue.fails("warehouses", "sync", "wh")
    assert "sync of warehouse wh failed: Ping failed: cannot open the DuckDB database" in error
    [failed] = segue.json_lines("warehouses", "syncs", "wh")
    assert failed["status"] == "Failure" and failed["error"].startswith("Ping failed")
    segue.ok("warehouses", "update", "wh", "--setting", f"path={tmp_path / 'fixed.duckdb'}")
    assert segue.one("warehouses", "sync", "wh")["rows"]["tracks"] == 1


def test_a_disabled_or_unknown_warehouse_is_refused(segue):
    _warehouse(segue)
    segue.ok("warehouses", "disable", "wh")
    assert "disabled" in segue.fails("warehouses", "sync", "wh")
    assert "nope" in segue.fails("warehouses", "sync", "nope")
    assert "nope" in segue.fails("warehouses", "syncs", "nope")
    assert "No syncs yet" in segue.ok("warehouses", "syncs", "wh").stdout


def test_with_a_server_running_the_cli_asks_it_and_follows_the_history(segue):
    _warehouse(segue)
    lock_path = segue.data_dir / "log" / "writer.lock"
    lock_path.parent.mkdir(parents=True)
    assert not server_holds_the_log(segue.data_dir / "log")
    with open(lock_path, "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # what `segue serve` holds while it runs
        assert server_holds_the_log(segue.data_dir / "log")
        server = threading.Thread(target=_play_the_server, args=(segue,), daemon=True)
        server.start()
        done = segue.one("warehouses", "sync", "wh")
        server.join(5)
    assert (done["status"], done["rows"]) == ("Success", {"pages": 3})


def _play_the_server(segue) -> None:
    """Take the pending request as the server's supervisor would, and finish it."""
    with segue.store() as store:
        for _ in range(200):
            pending = store.pending_syncs()
            if pending:
                running = store.start_sync(pending[0].warehouse_id, sync_id=pending[0].id)
                store.finish_sync(running.id, status="Success", rows={"pages": 3}, notices=[])
                return
            time.sleep(0.02)
