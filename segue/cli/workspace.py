"""`segue workspace ...`: the workspace's name and plan; `segue audit`: who changed what.

Segue is self-hosted, so the plan is a setting the operator chooses, not a bill; the rules
follow Segment's (warehouses, sync frequency, Business features) so the workspace behaves as
its users expect.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal, Optional

import typer
from rich.markup import escape

from segue.cli.common import (
    DatabaseUrl,
    DataDir,
    JsonFlag,
    bold,
    console,
    control_plane,
    details_table,
    group,
    new_table,
    operator,
    print_json,
    print_json_lines,
    report,
    shorten,
)

app = group("Show the workspace, rename it or change its plan.")

Plan = Literal["free", "team", "business"]


@app.command("show")
def show(as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Show the workspace: name, plan and what the plan allows."""
    with control_plane(data_dir, database_url) as plane:
        view = plane.get_workspace()
    if as_json:
        return print_json(view)
    limits = view["limits"]
    warehouses = limits["maxWarehouses"] if limits["maxWarehouses"] is not None else "as many as needed"
    conditions = limits["maxTriggerConditions"] if limits["maxTriggerConditions"] is not None else "as many as needed"
    rows = [
        ("Name", view["name"]), ("Slug", view["slug"]), ("Id", view["id"]), ("Plan", view["plan"]),
        ("Warehouses", warehouses), ("Sync at most every", f"{limits['minSyncIntervalSeconds'] // 3600} h"),
        ("Conditions per mapping trigger", conditions), ("Business features", ", ".join(limits["features"]) or "none"),
    ]
    console().print(details_table(rows))


@app.command("set-plan")
def set_plan(
    plan: Annotated[Plan, typer.Argument(help="The new plan.")],
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Change the plan (refused while the workspace uses more than the new plan allows)."""
    with control_plane(data_dir, database_url) as plane:
        view = plane.set_plan(operator(), plan)
    report(view, as_json, f"The workspace is now on the {bold(view['plan'])} plan.")


@app.command("rename")
def rename(
    name: Annotated[str, typer.Argument(help="The workspace's new name.")],
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Rename the workspace."""
    with control_plane(data_dir, database_url) as plane:
        view = plane.update_workspace(operator(), name=name)
    report(view, as_json, f"Renamed the workspace to {bold(view['name'])}.")


def audit(
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="How many of the newest changes.")] = 50,
    resource: Annotated[Optional[str], typer.Option("--resource", help="Only changes to this object (its id).")] = None,
    before: Annotated[Optional[int], typer.Option("--before", help="Only changes older than this audit id (paging).")] = None,
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Show the audit trail, newest first: who changed what, and when."""
    with control_plane(data_dir, database_url) as plane:
        events = plane.list_audit(limit=limit, before_id=before, resource_id=resource)
    if as_json:
        return print_json_lines(events)
    if not events:
        return console().print("No changes recorded.")
    table = new_table("Id", "At", "Actor", "Action", "Resource", "Details")
    for event in events:
        at = event["at"][:19].replace("T", " ")
        cells = (event["id"], at, event["actor"], event["action"], event["resourceId"], _details(event["details"]))
        table.add_row(*(escape(str(text)) for text in cells))
    console().print(table)


def _details(details: dict) -> str:
    """`name="web", type="javascript"`, cut short (the full details are in --json)."""
    return shorten(", ".join(f"{key}={json.dumps(value, ensure_ascii=False)}" for key, value in (details or {}).items()), 60)
