"""`segue sources ...`: create sources, show and rotate their write keys, rename, delete.

`--json` prints the control plane's source view plus `write_key` (the current key, as the
CLI printed it before the view's `writeKeys` list existed), so older scripts keep working.
"""

from __future__ import annotations

from typing import Annotated, Literal

import typer
from rich.markup import escape
from rich.table import Table

from segue.cli.common import (
    DatabaseUrl,
    DataDir,
    JsonFlag,
    bold,
    console,
    control_plane,
    day,
    details_table,
    enabled_cell,
    group,
    operator,
    print_json,
    say,
)
from segue.store.models import SOURCE_TYPES

app = group("Create and manage sources and their write keys.")

SourceType = Literal[SOURCE_TYPES]  # type: ignore[valid-type]
SourceRef = Annotated[str, typer.Argument(help="The source's name, slug or id.")]


def with_write_key(view: dict) -> dict:
    """The source view plus `write_key`, the current write key (for older scripts)."""
    return {**view, "write_key": view["writeKeys"][0]}


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="A name for the source, unique in the workspace.")],
    type: Annotated[SourceType, typer.Option("--type", help="What kind of client sends the events.")],
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a source and print its write key."""
    with control_plane(data_dir, database_url) as plane:
        source = plane.create_source(operator(), name, type)
    if as_json:
        return print_json(with_write_key(source))
    say(f"Created source {bold(source['name'])} ({source['type']}). Write key:")
    typer.echo(source["writeKeys"][0])


@app.command("list")
def list_(as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List the sources with their write keys."""
    with control_plane(data_dir, database_url) as plane:
        sources = plane.list_sources()
    if as_json:
        for source in sources:
            print_json(with_write_key(source))
    elif not sources:
        console().print("No sources yet. Create one with: segue sources create NAME --type TYPE", markup=False)
    else:
        console().print(_table(sources))


def _table(sources: list[dict]) -> Table:
    table = Table("Name", "Type", "Enabled")
    table.add_column("Write key", no_wrap=True, min_width=32)
    table.add_column("Created")
    for source in sources:
        enabled = enabled_cell(source["enabled"])
        table.add_row(escape(source["name"]), source["type"], enabled, source["writeKeys"][0], day(source["createdAt"]))
    return table


@app.command("show")
def show(source: SourceRef, as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Show one source: its id, type, write key and the destinations connected to it."""
    with control_plane(data_dir, database_url) as plane:
        view = plane.get_source(source)
        destinations = plane.list_destinations(view["id"])
    if as_json:
        return print_json(with_write_key(view))
    rows = [
        ("Name", view["name"]), ("Id", view["id"]), ("Slug", view["slug"]), ("Type", view["type"]),
        ("Enabled", view["enabled"]), ("Write key", view["writeKeys"][0]), ("Created", view["createdAt"]),
        ("Updated", view["updatedAt"]),
        ("Destinations", ", ".join(f"{item['name']} ({item['id']})" for item in destinations) or "none"),
    ]
    console().print(details_table(rows))


@app.command("rename")
def rename(
    source: SourceRef,
    new_name: Annotated[str, typer.Argument(help="The new name (the slug follows it; id and write key stay).")],
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Rename a source."""
    with control_plane(data_dir, database_url) as plane:
        view = plane.update_source(operator(), source, name=new_name)
    if as_json:
        return print_json(with_write_key(view))
    say(f"Renamed source to {bold(view['name'])} (slug {escape(view['slug'])}).")


@app.command("rotate-key")
def rotate_key(source: SourceRef, as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Give a source a new write key; the old key stops working."""
    with control_plane(data_dir, database_url) as plane:
        view = plane.rotate_write_key(operator(), source)
    if as_json:
        return print_json(with_write_key(view))
    say(f"New write key for {bold(view['name'])} (the old one no longer works):")
    typer.echo(view["writeKeys"][0])


@app.command("disable")
def disable(source: SourceRef, as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Disable a source: its write key is refused until it is enabled again."""
    _set_enabled(source, False, as_json, data_dir, database_url)


@app.command("enable")
def enable(source: SourceRef, as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Enable a disabled source."""
    _set_enabled(source, True, as_json, data_dir, database_url)


def _set_enabled(source: str, enabled: bool, as_json: bool, data_dir, database_url) -> None:
    with control_plane(data_dir, database_url) as plane:
        view = plane.update_source(operator(), source, enabled=enabled)
    if as_json:
        return print_json(with_write_key(view))
    say(f"{'Enabled' if enabled else 'Disabled'} source {bold(view['name'])}.")


@app.command("delete")
def delete(source: SourceRef, as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Delete a source and its destinations; its write key stops working (stored events stay in the log)."""
    with control_plane(data_dir, database_url) as plane:
        view = plane.delete_source(operator(), source)
    if as_json:
        return print_json(with_write_key(view))
    say(f"Deleted source {bold(view['name'])}.")
