"""`segue events list`: the newest events stored in the event log, read-only."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from segue.cli.common import (
    DatabaseUrl,
    DataDir,
    console,
    group,
    load_settings,
    open_store,
)
from segue.config import Settings

app = group("Look at the events Segue stored.")


@app.command("list")
def list_(
    source: Annotated[Optional[str], typer.Option("--source", help="Only this source (name, slug or id).")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many of the newest events.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print each stored message as one JSON line.")] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Show the newest stored events, oldest first."""
    settings = load_settings(data_dir, database_url)
    with open_store(settings) as store:
        names = {known.id: known.name for known in store.list_sources()}
        source_id = store.get_source(source).id if source else None
    records = asyncio.run(_newest_records(settings, limit, source_id))
    if as_json:
        for record in records:
            typer.echo(record.payload.decode())
    elif not records:
        console().print("No events stored yet.")
    else:
        console().print(_events_table(records, names))


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
