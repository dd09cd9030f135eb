"""`segue catalog ...`: the destinations and warehouse engines Segue can send data to.

The catalog comes from the installed code (built-in destinations and third-party ones
registered under the `segue.destinations` entry point group), not from the config store, so
these commands take no `--data-dir`. `--json` prints the same objects as `GET /catalog/...`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import typer
from rich.markdown import Markdown
from rich.markup import escape
from rich.table import Table

from segue.cli.common import (
    JsonFlag,
    Mode,
    bold,
    cell,
    console,
    details_table,
    group,
    new_table,
    print_json,
    print_json_lines,
)

app = group("Browse the destinations and warehouse engines Segue can send data to.")

Method = Literal["track", "identify", "page", "screen", "group", "alias"]
Platform = Literal["browser", "mobile", "server"]


def _catalog() -> Any:
    from segue.destinations.registry import load_catalog

    return load_catalog()


@app.command("list")
def list_(
    search: Annotated[Optional[str], typer.Option("--search", help="Words in the name, slug, description or categories.")] = None,
    category: Annotated[Optional[str], typer.Option("--category", help="Only this category, e.g. Analytics.")] = None,
    method: Annotated[Optional[Method], typer.Option("--method", help="Only destinations that take this Segment method.")] = None,
    mode: Annotated[Optional[Mode], typer.Option("--mode", help="Only destinations that run in this connection mode.")] = None,
    platform: Annotated[Optional[Platform], typer.Option("--platform", help="Only destinations for this platform.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List the catalog's destinations, filtered."""
    from segue.destinations.registry import serialize

    found = list(_catalog().find(search=search, category=category, method=method, mode=mode, platform=platform))
    if as_json:
        return print_json_lines(serialize(destination) for destination in found)
    if not found:
        return console().print("No destination matches.")
    table = new_table("Slug", "Name", "Categories", "Methods", "Modes")
    for destination in found:
        table.add_row(
            escape(destination.slug), escape(destination.name), escape(", ".join(destination.categories)),
            ", ".join(destination.methods), ", ".join(destination.modes),
        )
    console().print(table)


@app.command("show")
def show(
    slug: Annotated[str, typer.Argument(help="The destination's slug, e.g. webhook (see `segue catalog list`).")],
    as_json: JsonFlag = False,
) -> None:
    """Show one destination: what it does, what it takes and its connection settings."""
    from segue.destinations.registry import serialize

    destination = _catalog().get(slug)
    metadata = serialize(destination)
    if as_json:
        return print_json(metadata)
    out = console()
    out.print(f"{bold(destination.name)}  ({escape(destination.slug)})")
    out.print(escape(destination.description), end="\n\n")
    rows = [
        ("Categories", ", ".join(destination.categories)),
        ("Methods", ", ".join(destination.methods)),
        ("Modes", ", ".join(destination.modes)),
        ("Platforms", ", ".join(destination.platforms)),
        ("Status", destination.status),
    ]
    out.print(details_table(rows))
    out.print(f"Docs: {escape(destination.docs_url)}", soft_wrap=True, end="\n\n")
    out.print(fields_table(metadata["settings"]))


def fields_table(fields: list[dict]) -> Table:
    """The catalog's settings list: name, type, required, secret, description."""
    table = new_table("Setting", "Type", "Required", "Secret", "Description", title="Settings")
    for field in fields:
        kind = field["type"] + (f" ({', '.join(map(str, field['choices']))})" if field.get("choices") else "")
        description = field.get("description") or field.get("label") or ""
        if not field["required"] and field.get("defaultValue") not in (None, "", [], {}):
            description += f" Default: {cell(field['defaultValue'])}."
        table.add_row(escape(field["name"]), escape(kind), cell(field["required"]), cell(field["secret"]), escape(description.strip()))
    return table


@app.command("docs")
def docs(
    slug: Annotated[Optional[str], typer.Argument(help="The destination's slug (omit with --all).")] = None,
    every: Annotated[bool, typer.Option("--all", help="Every destination, one page each, plus an index.")] = False,
    out: Annotated[Optional[Path], typer.Option("--out", help="Write Markdown files into this folder instead of printing.")] = None,
) -> None:
    """Print (or write) a destination's documentation page, generated from its metadata and settings."""
    from segue.destinations.docs import docs_page, index_page

    if every == (slug is not None):
        raise typer.BadParameter("give a SLUG or --all (not both)")
    destinations = _catalog().all() if every else [_catalog().get(slug)]
    if out is None:
        return console().print(Markdown("\n\n".join(docs_page(destination) for destination in destinations)))
    out.mkdir(parents=True, exist_ok=True)
    for destination in destinations:
        (out / f"{destination.slug}.md").write_text(docs_page(destination))
    if every:
        (out / "README.md").write_text(index_page(destinations))
    console().print(f"wrote {len(destinations)} page(s) to {escape(str(out))}")


@app.command("warehouses")
def warehouses(
    engine: Annotated[Optional[str], typer.Argument(help="One engine's slug, to show its connection settings.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List the warehouse engines Segue loads into, or show one engine's connection settings."""
    from segue.warehouses.catalog import WAREHOUSE_ENGINES, get_engine, serialize_engine

    if engine is not None:
        return _show_engine(serialize_engine(get_engine(engine)), as_json)
    engines = [serialize_engine(item) for item in WAREHOUSE_ENGINES.values()]
    if as_json:
        return print_json_lines(engines)
    table = new_table("Slug", "Name", "Status", "Description")
    for item in engines:
        table.add_row(escape(item["slug"]), escape(item["name"]), escape(item["status"]), escape(item["description"]))
    console().print(table)


def _show_engine(metadata: dict, as_json: bool) -> None:
    if as_json:
        return print_json(metadata)
    out = console()
    out.print(f"{bold(metadata['name'])}  ({escape(metadata['slug'])})")
    out.print(escape(metadata["description"]), end="\n\n")
    out.print(details_table([("Status", metadata["status"])]))
    out.print(f"Docs: {escape(metadata['docsUrl'])}", soft_wrap=True, end="\n\n")
    out.print(fields_table(metadata["settings"]))
