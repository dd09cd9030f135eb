"""The `segue` command line: run the server, and script everything the REST API can do.

Every command that reads or changes the configuration takes `--data-dir` and `--database-url`
and works through the control plane acting as `OPERATOR` (a workspace owner), so roles, plan
limits and settings validation hold as they do for the API. `--json` prints the API's views,
one object per line. A `SegueError` ends a command with a one-line red message on stderr and
exit status 1. One module per command group; what they share is in `segue.cli.common`.
"""

from __future__ import annotations

import typer

from segue.cli import (
    access,
    catalog,
    destinations,
    events,
    log,
    server,
    sources,
    warehouses,
    workspace,
)
from segue.cli.common import SegueGroup

app = typer.Typer(
    cls=SegueGroup,
    help="Segue: an open-source customer data platform that speaks Segment's protocols.",
    no_args_is_help=True,
    add_completion=False,
)
app.command("serve")(server.serve)
app.add_typer(sources.app, name="sources")
app.add_typer(destinations.app, name="destinations")
app.add_typer(warehouses.app, name="warehouses")
app.add_typer(catalog.app, name="catalog")
app.add_typer(events.app, name="events")
app.add_typer(log.app, name="log")
app.add_typer(workspace.app, name="workspace")
app.command("audit")(workspace.audit)
app.add_typer(access.users_app, name="users")
app.add_typer(access.tokens_app, name="tokens")
app.add_typer(server.secret_key_app, name="secret-key")

__all__ = ["app"]
