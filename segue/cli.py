"""The `segue` command line: manage sources, look at stored events, run the server.

Every command takes `--data-dir` and `--database-url`, builds the one `Settings` object from
them (and the `SEGUE_*` environment) and passes it down. A `SegueError` ends the command with
a one-line red message on stderr and exit status 1.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Iterator, Literal, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from segue.config import Settings
from segue.errors import ConfigError, SegueError
from segue.store import Store
from segue.store.models import SOURCE_TYPES


class _SegueGroup(TyperGroup):
    """Turns a SegueError raised by any command into a red line and exit status 1."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except SegueError as error:
            one_line = " ".join(error.message.split())
            Console(stderr=True, soft_wrap=True).print(f"error: {one_line}", style="red", markup=False)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_SegueGroup,
    help="Segue: an open-source customer data platform that speaks Segment's protocols.",
    no_args_is_help=True,
    add_completion=False,
)
sources_app = typer.Typer(help="Create and manage sources and their write keys.", no_args_is_help=True)
events_app = typer.Typer(help="Look at the events Segue stored.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
app.add_typer(events_app, name="events")

DataDir = Annotated[
    Optional[Path],
    typer.Option(
        "--data-dir",
        envvar="SEGUE_DATA_DIR",
        show_default="./segue-data",
        help="Directory holding Segue's data (config.db, the event log).",
    ),
]
DatabaseUrl = Annotated[
    Optional[str],
    typer.Option(
        "--database-url",
        envvar="SEGUE_DATABASE_URL",
        show_default="SQLite file config.db in the data dir",
        help="Config store URL: sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DB.",
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON, one object per line.")]
SourceType = Literal[SOURCE_TYPES]  # type: ignore[valid-type]
SourceName = Annotated[str, typer.Argument(help="The source's name, slug or id.")]


def _settings(data_dir: Path | None, database_url: str | None, **more: Any) -> Settings:
    try:
        return Settings.load(data_dir=data_dir, database_url=database_url, **more)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"invalid setting: {error}") from error


@contextmanager
def _open_store(settings: Settings) -> Iterator[Store]:
    store = Store.open(settings)
    try:
        yield store
    finally:
        store.close()


def _console() -> Console:
    return Console(highlight=False)


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False))


# ---- sources ---------------------------------------------------------------------------------


@sources_app.command("create")
def sources_create(
    name: Annotated[str, typer.Argument(help="A name for the source, unique in the workspace.")],
    type: Annotated[SourceType, typer.Option("--type", help="What kind of client sends the events.")],
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a source and print its write key."""
    with _open_store(_settings(data_dir, database_url)) as store:
        source = store.create_source(name, type)
    if as_json:
        return _print_json(source.to_json())
    _console().print(f"Created source [bold]{escape(source.name)}[/bold] ({source.type}). Write key:")
    typer.echo(source.write_key)


@sources_app.command("list")
def sources_list(as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List the sources with their write keys."""
    with _open_store(_settings(data_dir, database_url)) as store:
        sources = store.list_sources()
    if as_json:
        for source in sources:
            _print_json(source.to_json())
    elif not sources:
        _console().print("No sources yet. Create one with: segue sources create NAME --type TYPE", markup=False)
    else:
        _console().print(_sources_table(sources))


def _sources_table(sources: list) -> Table:
    table = Table("Name", "Type", "Enabled")
    table.add_column("Write key", no_wrap=True, min_width=32)
    table.add_column("Created")
    for source in sources:
        enabled = "yes" if source.enabled else "[red]no[/red]"
        created = source.created_at.strftime("%Y-%m-%d")
        table.add_row(escape(source.name), source.type, enabled, source.write_key, created)
    return table


@sources_app.command("rotate-key")
def sources_rotate_key(
    name: SourceName, as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None
) -> None:
    """Give a source a new write key; the old key stops working."""
    with _open_store(_settings(data_dir, database_url)) as store:
        source = store.rotate_write_key(name)
    if as_json:
        return _print_json(source.to_json())
    _console().print(f"New write key for [bold]{escape(source.name)}[/bold] (the old one no longer works):")
    typer.echo(source.write_key)


@sources_app.command("disable")
def sources_disable(name: SourceName, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Disable a source: its write key is refused until it is enabled again."""
    _set_enabled(_settings(data_dir, database_url), name, enabled=False)


@sources_app.command("enable")
def sources_enable(name: SourceName, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Enable a disabled source."""
    _set_enabled(_settings(data_dir, database_url), name, enabled=True)


def _set_enabled(settings: Settings, name: str, enabled: bool) -> None:
    with _open_store(settings) as store:
        source = store.set_source_enabled(name, enabled)
    _console().print(f"{'Enabled' if enabled else 'Disabled'} source [bold]{escape(source.name)}[/bold].")


@sources_app.command("delete")
def sources_delete(name: SourceName, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Delete a source; its write key stops working (stored events stay in the log)."""
    with _open_store(_settings(data_dir, database_url)) as store:
        source = store.delete_source(name)
    _console().print(f"Deleted source [bold]{escape(source.name)}[/bold].")


# ---- events ----------------------------------------------------------------------------------


@events_app.command("list")
def events_list(
    source: Annotated[Optional[str], typer.Option("--source", help="Only this source (name, slug or id).")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many of the newest events.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print each stored message as one JSON line.")] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Show the newest stored events, oldest first."""
    settings = _settings(data_dir, database_url)
    with _open_store(settings) as store:
        names = {known.id: known.name for known in store.list_sources()}
        source_id = store.get_source(source).id if source else None
    records = asyncio.run(_newest_records(settings, limit, source_id))
    if as_json:
        for record in records:
            typer.echo(record.payload.decode())
    elif not records:
        _console().print("No events stored yet.")
    else:
        _console().print(_events_table(records, names))


async def _newest_records(settings: Settings, limit: int, source_id: str | None) -> list:
    from segue.log import open_log

    event_log = open_log(settings, read_only=True)
    await event_log.start()
    try:
        return await event_log.newest(limit, source_id=source_id)
    finally:
        await event_log.close()


def _events_table(records: list, source_names: dict[str, str]) -> Table:
    table = Table("Received at", "Source", "Type", "Event / name")
    table.add_column("User", overflow="fold")
    table.add_column("Message id", overflow="fold")
    for record in records:
        message = json.loads(record.payload)
        received = datetime.fromtimestamp(record.received_at_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        source = source_names.get(record.source_id, record.source_id)
        user = message.get("userId") or message.get("anonymousId") or ""
        label = message.get("event") or message.get("name") or ""
        cells = (received, source, message.get("type", ""), label, user, record.message_id)
        table.add_row(*(escape(str(cell)) for cell in cells))
    return table


# ---- serve -----------------------------------------------------------------------------------


@app.command("serve")
def serve(
    host: Annotated[
        Optional[str], typer.Option("--host", envvar="SEGUE_HOST", show_default="127.0.0.1", help="Interface to listen on.")
    ] = None,
    port: Annotated[
        Optional[int], typer.Option("--port", envvar="SEGUE_PORT", show_default="8088", help="TCP port to listen on.")
    ] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Run Segue (the Tracking API) in this process until interrupted."""
    from segue.server import serve as run_server

    run_server(_settings(data_dir, database_url, host=host, port=port))
