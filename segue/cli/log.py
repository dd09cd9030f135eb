"""`segue log ...`: the event log's consumers, and forgetting those of a node that is gone.

Every consumer's cursor holds back the log's retention until it moves past the events. On a
shared log (NATS), each warehouse and app node has cursors of its own (`archive@<node>`,
`source-counts@<node>`): a node retired for good leaves them behind, and they would keep every
event from then on. `segue log forget-node NODE` removes them.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from segue.cli.common import (
    DatabaseUrl,
    DataDir,
    bold,
    cell,
    console,
    fail,
    group,
    load_settings,
    new_table,
    print_json,
    say,
)
from segue.config import Settings
from segue.pipeline.archive import ARCHIVE_CONSUMER
from segue.pipeline.source_counts import COUNTS_CONSUMER

app = group("Look after the event log: its consumers' cursors, and those of a node that is gone.")
NODE_CONSUMERS = (ARCHIVE_CONSUMER, COUNTS_CONSUMER)  # the work every node does for itself


@app.command("cursors")
def cursors(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object: head and cursors.")] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """List the log's consumers: each cursor and how far behind the newest event it is.

    A cursor that stops moving holds back the log's retention."""
    head, found = asyncio.run(_read_cursors(load_settings(data_dir, database_url)))
    rows = [{"name": name, "cursor": cursor, "behind": max(0, head - cursor), "node": node_of(name)}
            for name, cursor in sorted(found.items())]
    if as_json:
        print_json({"head": head, "cursors": rows})
        return
    if not rows:
        return say("No consumers registered.")
    table = new_table("Consumer", "Cursor", "Behind", "Node", title=f"Event log: newest offset {head:,}")
    for row in rows:
        table.add_row(cell(row["name"]), f"{row['cursor']:,}", f"{row['behind']:,}", cell(row["node"] or ""))
    console().print(table)


@app.command("forget-node")
def forget_node(
    node: Annotated[str, typer.Argument(help="The node name (SEGUE_NODE_NAME) of a node that is gone for good.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Remove the cursors of a node gone for good from a shared log.

    A node's own cursors (its raw archive's, its per-source counts') hold back retention for as
    long as they stay. Run it only for a node that will not come back: one started again under
    that name archives and counts from the oldest event kept."""
    settings = load_settings(data_dir, database_url)
    if not settings.log_url:
        fail("the embedded log has no per-node cursors: nothing to forget")
    names = sorted(name for name in asyncio.run(_read_cursors(settings))[1] if node_of(name) == node)
    if not names:
        fail(f"no cursors of node {node!r} on this log; `segue log cursors` lists them")
    if not yes:
        typer.confirm(f"Remove {', '.join(names)}?", abort=True)
    asyncio.run(_remove(settings, names))
    say(f"Removed {len(names)} cursor(s) of node {bold(node)}.")


def node_of(name: str) -> str | None:
    """The node a node's own cursor belongs to (`archive@web-2` -> `web-2`); None for others."""
    base, at, node = name.partition("@")
    return node if at and base in NODE_CONSUMERS else None


async def _read_cursors(settings: Settings) -> tuple[int, dict[str, int]]:
    """(the newest offset, every cursor), without registering anything."""
    event_log = await _opened(settings, read_only=not settings.log_url)
    try:
        newest = await event_log.newest(1)
        return (newest[-1].offset if newest else 0), await event_log.cursors()
    finally:
        await event_log.close()


async def _remove(settings: Settings, names: list[str]) -> None:
    event_log = await _opened(settings, read_only=False)
    try:
        for name in names:
            await event_log.remove_consumer(name)
    finally:
        await event_log.close()


async def _opened(settings: Settings, read_only: bool) -> Any:
    from segue.log import open_log

    event_log = open_log(settings, read_only=read_only)
    await event_log.start()
    return event_log
