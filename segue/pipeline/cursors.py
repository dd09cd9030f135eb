"""Log cursors of things that went away while Segue was not running.

The router (one cursor per destination instance) and the warehouse syncs (one per warehouse)
follow the config store live; a deletion or a disabling made while no Segue ran is only seen
at the next start. `sweep_cursors` applies it then: a disabled owner's cursor is dropped (so
it holds back no retention), a deleted owner is forgotten entirely.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Collection


async def sweep_cursors(event_log: Any, prefix: str, running: Collection[str], existing: Collection[str],
                        forget_deleted: Callable[[str], Awaitable[None]]) -> None:
    """For each cursor named `<prefix><id>` (or `<prefix><id>@<partition>`) whose owner is not
    running: drop it when the owner still exists (disabled), else `forget_deleted(id)`."""
    forgotten: set[str] = set()
    for name in await event_log.consumer_names():
        if not name.startswith(prefix):
            continue
        owner = name.removeprefix(prefix).partition("@")[0]
        if owner in running:
            continue
        if owner in existing:
            await event_log.remove_consumer(name)
        elif owner not in forgotten:
            forgotten.add(owner)
            await forget_deleted(owner)
