"""`segue warehouses ...`: the databases events are loaded into, in Segment's table layout.

Plan rules hold here as in the API: Free and Team have one warehouse, Business as many as
needed; each plan has a most-frequent sync; choosing sources (`--source`) is Selective Sync,
a Business feature. `sync` loads now and waits for the end (exit status 1 when it fails);
`syncs` shows the history.
"""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer
from rich.markup import escape

from segue.cli.common import (
    DatabaseUrl,
    DataDir,
    JsonFlag,
    SettingFlags,
    SettingsJson,
    bold,
    console,
    control_plane,
    details_table,
    enabled_cell,
    group,
    iso_moment,
    load_settings,
    minute,
    new_table,
    operator,
    parse_duration,
    print_json,
    print_json_lines,
    report,
    say,
    settings_from_flags,
    settings_table,
)
from segue.errors import ConfigError, SegueError

app = group("Add and manage warehouses that events are loaded into.")

WarehouseRef = Annotated[str, typer.Argument(help="The warehouse's id or name.")]
Sources = Annotated[
    Optional[list[str]],
    typer.Option("--source", help="Load only this source (name, slug or id; repeatable). Selective Sync: business plan."),
]
SyncInterval = Annotated[
    Optional[str],
    typer.Option(
        "--sync-interval", metavar="SECONDS",
        help="Sync every this many seconds (or 12h, 1d); default and minimum: the plan's (free 1d, team 12h, business 1h).",
    ),
]


@app.command("create")
def create(
    engine: Annotated[str, typer.Argument(help="The engine: duckdb, postgres, ... (see `segue catalog warehouses`).")],
    name: Annotated[str, typer.Option("--name", help="A name for the warehouse.")],
    setting: SettingFlags = None,
    settings_json: SettingsJson = None,
    source: Sources = None,
    sync_interval: SyncInterval = None,
    disable: Annotated[bool, typer.Option("--disable", help="Save it without loading anything yet.")] = False,
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Add a warehouse; it loads every source unless --source picks some."""
    settings = settings_from_flags(setting, settings_json) or {}
    with control_plane(data_dir, database_url) as plane:
        view = plane.create_warehouse(
            operator(), engine=engine, name=name, settings=settings, source_ids=source or None,
            sync_interval_seconds=parse_duration(sync_interval), enabled=not disable,
        )
    if as_json:
        return print_json(view)
    say(f"Created warehouse {bold(view['name'])} ({escape(view['engine'])}), syncing every {_every(view)}. Id:")
    typer.echo(view["id"])


@app.command("list")
def list_(as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List the warehouses."""
    with control_plane(data_dir, database_url) as plane:
        views = plane.list_warehouses()
        names = _source_names(plane)
    if as_json:
        return print_json_lines(views)
    if not views:
        return console().print("No warehouses yet. Add one with: segue warehouses create ENGINE --name NAME", markup=False)
    table = new_table("Id", "Name", "Engine", "Sources", "Sync every", "Enabled")
    for view in views:
        cells = (view["id"], view["name"], view["engine"], _sources_text(view, names), _every(view))
        table.add_row(*(escape(text) for text in cells), enabled_cell(view["enabled"]))
    console().print(table)


@app.command("show")
def show(warehouse: WarehouseRef, as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Show one warehouse and its settings (secrets masked)."""
    with control_plane(data_dir, database_url) as plane:
        view = plane.get_warehouse(warehouse)
        names = _source_names(plane)
    if as_json:
        return print_json(view)
    rows = [
        ("Name", view["name"]), ("Id", view["id"]), ("Engine", view["engine"]), ("Enabled", view["enabled"]),
        ("Sources", _sources_text(view, names)), ("Sync every", _every(view)),
        ("Selective Sync", view["selectiveSync"] or "none"), ("Created", view["createdAt"]), ("Updated", view["updatedAt"]),
    ]
    console().print(details_table(rows))
    if view["settings"]:
        console().print(settings_table(view["settings"]))


@app.command("update")
def update(
    warehouse: WarehouseRef,
    name: Annotated[Optional[str], typer.Option("--name", help="A new name.")] = None,
    setting: SettingFlags = None,
    settings_json: SettingsJson = None,
    source: Sources = None,
    all_sources: Annotated[bool, typer.Option("--all-sources", help="Load every source again (ends the --source choice).")] = False,
    sync_interval: SyncInterval = None,
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Change a warehouse; settings merge into the stored ones (KEY=null removes one)."""
    if source and all_sources:
        raise ConfigError("give either --source or --all-sources, not both")
    changes = {
        "name": name, "settings": settings_from_flags(setting, settings_json), "source_ids": source or None,
        "sync_interval_seconds": parse_duration(sync_interval),
    }
    given = {key: value for key, value in changes.items() if value is not None}
    if not given and not all_sources:
        raise ConfigError("nothing to change: give --name, --setting, --settings-json, --source, --all-sources or --sync-interval")
    with control_plane(data_dir, database_url) as plane:
        if all_sources:
            view = plane.load_all_sources(operator(), warehouse)
        if given:
            view = plane.update_warehouse(operator(), warehouse, **given)
    report(view, as_json, f"Updated warehouse {bold(view['name'])} ({escape(view['id'])}).")


@app.command("enable")
def enable(warehouse: WarehouseRef, as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Enable a warehouse: it syncs again."""
    _set_enabled(warehouse, True, as_json, data_dir, database_url)


@app.command("disable")
def disable(warehouse: WarehouseRef, as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Disable a warehouse: it stops syncing until enabled again."""
    _set_enabled(warehouse, False, as_json, data_dir, database_url)


def _set_enabled(warehouse: str, enabled: bool, as_json: bool, data_dir, database_url) -> None:
    with control_plane(data_dir, database_url) as plane:
        view = plane.update_warehouse(operator(), warehouse, enabled=enabled)
    report(view, as_json, f"{'Enabled' if enabled else 'Disabled'} warehouse {bold(view['name'])} ({escape(view['id'])}).")


@app.command("delete")
def delete(warehouse: WarehouseRef, as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Delete a warehouse (its tables stay in the database)."""
    with control_plane(data_dir, database_url) as plane:
        view = plane.delete_warehouse(operator(), warehouse)
    report(view, as_json, f"Deleted warehouse {bold(view['name'])} ({escape(view['id'])}).")


@app.command("sync")
def sync(
    warehouse: WarehouseRef,
    timeout: Annotated[float, typer.Option("--timeout", metavar="SECONDS", help="Give up waiting after this long.")] = 3600,
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Sync now and wait for the end (through the running server, if one runs); exit 1 when it fails."""
    from segue.cli.sync_runner import run_sync

    settings = load_settings(data_dir, database_url)
    with control_plane(data_dir, database_url) as plane, _Bar(not as_json and sys.stderr.isatty()) as progress:
        view = run_sync(plane, settings, warehouse, operator(), progress, timeout)
    if as_json:
        print_json(view)
    else:
        _print_outcome(warehouse, view)
    if view["error"]:
        raise SegueError(f"sync of warehouse {warehouse} failed: {view['error']}")


@app.command("backfill")
def backfill(
    warehouse: WarehouseRef,
    start: Annotated[str, typer.Option("--start", help="First receivedAt to load, ISO-8601 (UTC without an offset).")],
    end: Annotated[str, typer.Option("--end", help="Load events received before this, ISO-8601.")],
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Reload a time range from the raw archive into the warehouse, here and now (Business plan);
    rows already there stay single."""
    from segue.pipeline.warehouse_backfill import backfill as run_backfill

    settings = load_settings(data_dir, database_url)
    with control_plane(data_dir, database_url) as plane:
        record = plane.backfill_target(operator(), warehouse, iso_moment(start, "--start"), iso_moment(end, "--end"))
        progress = None if as_json else (lambda schema, events: say(f"{schema}: {events:,} events loaded"))
        reports = run_backfill(plane.store, record, settings.data_dir, iso_moment(start, "--start"),
                               iso_moment(end, "--end"), progress)
    views = {schema: {"rows": report.rows, "notices": report.notices, "rejected": report.rejected}
             for schema, report in reports.items()}
    if as_json:
        return print_json({"warehouse": record.name, "schemas": views})
    for schema, view in views.items():
        say(f"{schema}: {sum(view['rows'].values()):,} rows ({', '.join(f'{t} {n:,}' for t, n in view['rows'].items()) or 'none'})")


@app.command("syncs")
def syncs(
    warehouse: WarehouseRef,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="How many, newest first.")] = 20,
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Show the sync history: status, start, duration, rows, notices or error."""
    with control_plane(data_dir, database_url) as plane:
        views = plane.list_syncs(warehouse, limit)
    if as_json:
        return print_json_lines(views)
    if not views:
        return console().print(f"No syncs yet. Sync now with: segue warehouses sync {warehouse}", markup=False)
    table = new_table("Id", "Status", "Trigger", "Started", "Duration", "Rows", "Notices / error")
    for view in views:
        cells = (view["id"], view["status"], view["trigger"], minute(view["startedAt"]), _seconds(view),
                 str(view["totalRows"]), view["error"] or "; ".join(view["notices"]))
        table.add_row(*(escape(text) for text in cells))
    console().print(table)


class _Bar:
    """A progress bar on a terminal; silent otherwise (and with --json)."""

    def __init__(self, shown: bool) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[rows]} rows"),
                                 console=Console(stderr=True), transient=True, disable=not shown)  # fmt: skip
        self.task = self.progress.add_task("Waiting", total=None, rows=0)
        self.start: int | None = None

    def __call__(self, status: str, rows: int, offset: int | None, target: int | None) -> None:
        if offset is not None and self.start is None:
            self.start = offset
        total = None if target is None else max(target - (self.start or 0), 1)
        done = None if offset is None else offset - (self.start or 0)
        self.progress.update(self.task, description=status, rows=rows, total=total, completed=done)

    def __enter__(self) -> "_Bar":
        self.progress.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.progress.stop()


def _print_outcome(warehouse: str, view: dict) -> None:
    say(f"Sync {escape(view['id'])} of {bold(warehouse)}: {bold(view['status'])}, "
        f"{view['totalRows']} rows in {_seconds(view)}.")  # fmt: skip
    if view["rows"]:
        table = new_table("Table", "Rows")
        for name, count in sorted(view["rows"].items()):
            table.add_row(escape(name), str(count))
        console().print(table)
    for notice in view["notices"]:
        say(f"notice: {escape(notice)}")


def _seconds(view: dict) -> str:
    seconds = view["durationSeconds"]
    return "-" if seconds is None else f"{seconds:.1f} s"


def _source_names(plane) -> dict[str, str]:
    return {source["id"]: source["name"] for source in plane.list_sources()}


def _sources_text(view: dict, names: dict[str, str]) -> str:
    if view["sourceIds"] is None:
        return "all"
    return ", ".join(names.get(source_id, source_id) for source_id in view["sourceIds"]) or "none"


def _every(view: dict) -> str:
    seconds = view["syncIntervalSeconds"]
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
