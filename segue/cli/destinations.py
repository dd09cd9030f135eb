"""`segue destinations ...`: connect catalog destinations to sources, set them up, test them.

Each instance belongs to one source and starts disabled unless `--enable` is given (a disabled
instance may be saved with required settings still missing; enabling needs them all). Secret
settings are write-only: every view shows them masked.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal, Optional

import typer
from rich.markup import escape

from segue.cli import filters, mappings
from segue.cli.common import (
    DatabaseUrl,
    DataDir,
    JsonFlag,
    Mode,
    SettingFlags,
    SettingsJson,
    bold,
    cell,
    console,
    control_plane,
    details_table,
    enabled_cell,
    fail,
    group,
    iso_moment,
    load_settings,
    new_table,
    open_store,
    operator,
    print_json,
    print_json_lines,
    report,
    say,
    settings_from_flags,
    settings_table,
)
from segue.errors import ConfigError

app = group("Connect catalog destinations to sources and manage those instances.")
app.add_typer(filters.app, name="filters")
app.add_typer(mappings.app, name="mappings")

InstanceId = Annotated[str, typer.Argument(help="The destination instance's id (see `segue destinations list`).")]
EventType = Literal["track", "identify", "page", "screen", "group", "alias"]


@app.command("create")
def create(
    slug: Annotated[str, typer.Argument(help="The catalog destination's slug, e.g. webhook (see `segue catalog list`).")],
    source: Annotated[str, typer.Option("--source", help="The source (name, slug or id) whose events it receives.")],
    name: Annotated[Optional[str], typer.Option("--name", help="A name for this instance; default: the destination's name.")] = None,
    setting: SettingFlags = None,
    settings_json: SettingsJson = None,
    mode: Annotated[Optional[Mode], typer.Option("--mode", help="Connection mode; default: cloud when it can.")] = None,
    enable: Annotated[bool, typer.Option("--enable", help="Enable it now (needs every required setting).")] = False,
    copy_from: Annotated[
        Optional[str], typer.Option("--copy-from", help="Copy the settings of another instance (id) of the same destination.")
    ] = None,
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Connect a catalog destination to a source; prints the new instance's id."""
    settings = settings_from_flags(setting, settings_json)
    with control_plane(data_dir, database_url) as plane:
        view = plane.create_destination(
            operator(), source=source, slug=slug, name=name, settings=settings, enabled=enable, mode=mode, copy_from=copy_from
        )
        source_name = plane.get_source(view["sourceId"])["name"]
    if as_json:
        return print_json(view)
    state = "enabled" if view["enabled"] else "disabled (enable it with: segue destinations enable ID)"
    say(f"Created destination {bold(view['name'])} for source {bold(source_name)}, {view['mode']} mode, {state}. Id:")
    typer.echo(view["id"])


@app.command("list")
def list_(
    source: Annotated[Optional[str], typer.Option("--source", help="Only this source's (name, slug or id).")] = None,
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """List destination instances, all or one source's."""
    with control_plane(data_dir, database_url) as plane:
        views = plane.list_destinations(source)
        sources = {item["id"]: item["name"] for item in plane.list_sources()}
    if as_json:
        return print_json_lines(views)
    if not views:
        return console().print("No destinations yet. Add one with: segue destinations create SLUG --source SOURCE", markup=False)
    table = new_table("Id", "Name", "Destination", "Source", "Mode", "Enabled")
    for view in views:
        kind = view["metadata"].get("name") or view["metadata"]["slug"]
        source_name = sources.get(view["sourceId"], view["sourceId"])
        table.add_row(view["id"], escape(view["name"]), escape(kind), escape(source_name), view["mode"], enabled_cell(view["enabled"]))
    console().print(table)


@app.command("show")
def show(instance: InstanceId, as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Show one destination instance and its settings (secrets masked)."""
    with control_plane(data_dir, database_url) as plane:
        view = plane.get_destination(instance)
        source = plane.get_source(view["sourceId"])
    if as_json:
        return print_json(view)
    metadata = view["metadata"]
    rows = [
        ("Name", view["name"]), ("Id", view["id"]),
        ("Destination", f"{metadata.get('name', metadata['slug'])} ({metadata['slug']})"),
        ("Source", f"{source['name']} ({source['id']})"), ("Mode", view["mode"]), ("Enabled", view["enabled"]),
        ("Created", view["createdAt"]), ("Updated", view["updatedAt"]),
    ]
    console().print(details_table(rows))
    if view["settings"]:
        console().print(settings_table(view["settings"]))


@app.command("update")
def update(
    instance: InstanceId,
    name: Annotated[Optional[str], typer.Option("--name", help="A new name.")] = None,
    setting: SettingFlags = None,
    settings_json: SettingsJson = None,
    mode: Annotated[Optional[Mode], typer.Option("--mode", help="Switch the connection mode.")] = None,
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Change a destination instance; settings merge into the stored ones (KEY=null removes one)."""
    settings = settings_from_flags(setting, settings_json)
    if name is None and mode is None and settings is None:
        raise ConfigError("nothing to change: give --name, --setting, --settings-json or --mode")
    with control_plane(data_dir, database_url) as plane:
        view = plane.update_destination(operator(), instance, name=name, mode=mode, settings=settings)
    report(view, as_json, f"Updated destination {bold(view['name'])} ({escape(view['id'])}).")


@app.command("enable")
def enable(instance: InstanceId, as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Enable a destination instance: it receives its source's events from now on."""
    _set_enabled(instance, True, as_json, data_dir, database_url)


@app.command("disable")
def disable(instance: InstanceId, as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Disable a destination instance: it receives nothing until enabled again."""
    _set_enabled(instance, False, as_json, data_dir, database_url)


def _set_enabled(instance: str, enabled: bool, as_json: bool, data_dir, database_url) -> None:
    with control_plane(data_dir, database_url) as plane:
        view = plane.update_destination(operator(), instance, enabled=enabled)
    report(view, as_json, f"{'Enabled' if enabled else 'Disabled'} destination {bold(view['name'])} ({escape(view['id'])}).")


@app.command("delete")
def delete(instance: InstanceId, as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Delete a destination instance and its filters and mappings."""
    with control_plane(data_dir, database_url) as plane:
        view = plane.delete_destination(operator(), instance)
    report(view, as_json, f"Deleted destination {bold(view['name'])} ({escape(view['id'])}).")


@app.command("test")
def test(
    instance: InstanceId,
    event_type: Annotated[EventType, typer.Option("--type", help="Which kind of sample event to send.")] = "track",
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Send one sample event through the instance now (enabled or not); exit 1 unless delivered."""
    with control_plane(data_dir, database_url) as plane:
        report = plane.test_destination(operator(), instance, event_type)
    if as_json:
        print_json(report)
    else:
        _print_report(report)
    if not report["delivered"]:
        fail(f"the test {report['type']} event was not delivered")


def _print_report(report: dict) -> None:
    out = console()
    out.print(f"Sent a test {bold(report['type'])} event (messageId {escape(str(report['event'].get('messageId')))}):")
    for exchange in report["requests"]:
        sent, received = exchange["request"], exchange["response"]
        outcome = f"[red]{escape(exchange['error'] or '')}[/red]" if received is None else _status(received["status"])
        out.print(f"  {sent['method']} {escape(sent['url'])} -> {outcome}")
        if received is not None and received.get("body"):
            out.print(f"    {cell(received['body'])}")
    out.print("[green]Delivered.[/green]" if report["delivered"] else "[red]Not delivered.[/red]")


def _status(status: int) -> str:
    return f"[green]{status}[/green]" if 200 <= status < 300 else f"[red]{status}[/red]"


@app.command("delivery")
def delivery(
    instance: InstanceId,
    window: Annotated[Optional[float], typer.Option("--window", help="Only the last SECONDS (default: everything kept).")] = None,
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Event delivery of an instance: delivered, retried, failed, filtered, latency, recent failures."""
    summary = asyncio.run(_delivery_summary(instance, window, data_dir, database_url))
    if as_json:
        return print_json(summary)
    latency = summary["latencyMs"]
    say(f"delivered {summary['delivered']}, retried {summary['retried']}, failed {summary['failed']}, "
        f"p50 {latency['p50']} ms, p95 {latency['p95']} ms")
    for reason, count in summary["filtered"].items():
        say(f"filtered {count}: {escape(reason)}")
    for failure in summary["recentFailures"]:
        say(f"[red]failed[/red] {escape(str(failure.get('messageId')))}: {escape(failure['outcome']['message'])}")


async def _delivery_summary(instance: str, window: float | None, data_dir, database_url) -> dict:
    from segue.control import ControlPlane
    from segue.pipeline.router import open_delivery_stores

    settings = load_settings(data_dir, database_url)
    retries, stats = open_delivery_stores(settings)
    try:
        with open_store(settings) as store:
            return await ControlPlane(store, delivery_stats=stats).delivery_summary(instance, window)
    finally:
        await retries.close()
        await stats.close()


@app.command("replay")
def replay(
    instance: InstanceId,
    start: Annotated[str, typer.Option("--start", help="First receivedAt to replay, ISO-8601 (UTC without an offset).")],
    end: Annotated[str, typer.Option("--end", help="Replay events received before this, ISO-8601.")],
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Re-send the source's archived events of a time range to this instance, here and now (Business
    plan; the instance may be disabled). Exit 1 if the replay fails or any event is not delivered."""
    from segue.pipeline.replay import run_replay

    settings = load_settings(data_dir, database_url)
    with control_plane(data_dir, database_url) as plane:
        target = plane.replay_target(operator(), instance, iso_moment(start, "--start"), iso_moment(end, "--end"))
    with _ReplayBar(shown=not as_json) as bar:
        outcome = asyncio.run(run_replay(target, settings, on_progress=bar))
    view = outcome.to_json()
    if as_json:
        print_json(view)
    else:
        say(f"Replay {outcome.status}: read {outcome.read}, sent {outcome.sent}, delivered {outcome.delivered}, "
            f"failed {outcome.failed}, filtered {outcome.filtered}.")
        for failure in outcome.failures:
            say(f"[red]failed[/red] {escape(str(failure['messageId']))}: {escape(failure['message'])}")
    if outcome.status != "succeeded" or outcome.failed:
        fail(outcome.error or f"{outcome.failed} of {outcome.sent} events sent were not delivered")


class _ReplayBar:
    """A progress bar over the time range, on stderr; silent with --json."""

    def __init__(self, shown: bool) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn

        self.progress = Progress(TextColumn("Replaying"), BarColumn(), TextColumn("{task.fields[counts]}"),
                                 console=Console(stderr=True), transient=True, disable=not shown)
        self.task = self.progress.add_task("replay", total=1.0, counts="")

    def __call__(self, report) -> None:
        counts = f"{report.delivered} delivered, {report.failed} failed, {report.filtered} filtered"
        self.progress.update(self.task, completed=report.progress, counts=counts)

    def __enter__(self) -> "_ReplayBar":
        self.progress.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.progress.stop()
