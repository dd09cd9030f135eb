"""`segue destinations filters ...`: Destination Filters (Business plan).

A filter has an FQL condition (`--if`) and actions applied to the events that match it:

    --action DROP                       {"type": "DROP"}: matching events are not sent
    --sample 0.1                        {"type": "SAMPLE", "percent": 0.1}: send 10% of them
    --drop-properties properties.email  {"type": "DROP_PROPERTIES", "fields": {"properties": ["email"]}}
    --allow-properties traits.name      {"type": "ALLOW_PROPERTIES", "fields": {"traits": ["name"]}}
    --action '{"type": ...}'            any action as its JSON

A field path's last part is the field, what comes before it is the object holding it; a path
without a dot names a top-level field (`userId` -> `{"": ["userId"]}`).
"""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer
from rich.markup import escape

from segue.cli.common import (
    DatabaseUrl,
    DataDir,
    JsonFlag,
    bold,
    console,
    control_plane,
    enabled_cell,
    group,
    new_table,
    operator,
    print_json,
    print_json_lines,
    report,
    say,
    switch_child,
)
from segue.errors import ConfigError

app = group("Destination Filters (Business plan): drop, sample or trim the events a destination gets.")

InstanceId = Annotated[str, typer.Argument(help="The destination instance's id.")]
FilterId = Annotated[str, typer.Argument(help="The filter's id (see `segue destinations filters list`).")]
DropProperties = Annotated[
    Optional[list[str]],
    typer.Option("--drop-properties", metavar="PATH", help="Remove this field, e.g. properties.email (repeatable)."),
]
AllowProperties = Annotated[
    Optional[list[str]],
    typer.Option("--allow-properties", metavar="PATH", help="Keep only these fields, e.g. traits.name (repeatable)."),
]


@app.command("list")
def list_(instance: InstanceId, as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List a destination instance's filters."""
    with control_plane(data_dir, database_url) as plane:
        views = plane.list_filters(instance)
    if as_json:
        return print_json_lines(views)
    if not views:
        return console().print("No filters on this destination.")
    table = new_table("Id", "Title", "If", "Actions", "Enabled")
    for view in views:
        actions = "; ".join(describe_action(action) for action in view["actions"])
        table.add_row(view["id"], escape(view["title"]), escape(view["if"]), escape(actions), enabled_cell(view["enabled"]))
    console().print(table)


@app.command("create")
def create(
    instance: InstanceId,
    title: Annotated[str, typer.Option("--title", help="A name for the filter (up to 64 characters).")],
    condition: Annotated[str, typer.Option("--if", metavar="FQL", help="Which events it applies to, in FQL, e.g. 'type = \"track\"'.")],
    action: Annotated[
        Optional[list[str]], typer.Option("--action", metavar="ACTION", help="DROP, or an action as JSON (repeatable).")
    ] = None,
    sample: Annotated[
        Optional[float], typer.Option("--sample", min=0, max=1, help="Send only this fraction (0 to 1) of the matching events.")
    ] = None,
    drop_properties: DropProperties = None,
    allow_properties: AllowProperties = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Save it without applying it yet.")] = False,
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Add a filter to a destination instance."""
    actions = build_actions(action or [], sample, drop_properties or [], allow_properties or [])
    with control_plane(data_dir, database_url) as plane:
        view = plane.create_filter(operator(), instance, title=title, condition=condition, actions=actions, enabled=not disabled)
    if as_json:
        return print_json(view)
    say(f"Created filter {bold(view['title'])}. Id:")
    typer.echo(view["id"])


def describe_action(action: dict) -> str:
    """`SAMPLE 0.1`, `DROP_PROPERTIES properties.email, userId`: an action as the flags give it."""
    kind = action.get("type", "?")
    if kind == "SAMPLE":
        return f"SAMPLE {action.get('percent')}"
    fields = action.get("fields")
    if isinstance(fields, dict):
        paths = [f"{parent}.{name}" if parent else name for parent, names in fields.items() for name in names]
        return f"{kind} {', '.join(paths)}"
    return kind


def build_actions(given: list[str], sample: float | None, drop: list[str], allow: list[str]) -> list[dict]:
    """The filter actions the flags describe, in the order filters apply them."""
    actions = [_action(text) for text in given]
    if sample is not None:
        actions.append({"type": "SAMPLE", "percent": sample})
    if drop:
        actions.append({"type": "DROP_PROPERTIES", "fields": field_map(drop)})
    if allow:
        actions.append({"type": "ALLOW_PROPERTIES", "fields": field_map(allow)})
    if not actions:
        raise ConfigError("a filter needs an action: --action DROP, --sample, --drop-properties or --allow-properties")
    return actions


def _action(text: str) -> dict:
    if text.strip().upper() == "DROP":
        return {"type": "DROP"}
    try:
        action = json.loads(text)
    except ValueError:
        raise ConfigError(f"--action takes DROP or an action as JSON, got {text!r}") from None
    if not isinstance(action, dict):
        raise ConfigError(f"--action takes DROP or a JSON object, got {text!r}")
    return action


def field_map(paths: list[str]) -> dict[str, list[str]]:
    """`["properties.email", "userId"]` -> `{"properties": ["email"], "": ["userId"]}`."""
    fields: dict[str, list[str]] = {}
    for path in paths:
        parent, _, name = path.strip().rpartition(".")
        if not name:
            raise ConfigError(f"invalid field path {path!r}: use e.g. properties.email or userId")
        fields.setdefault(parent, []).append(name)
    return fields


@app.command("enable")
def enable(
    instance: InstanceId, filter_id: FilterId, as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None
) -> None:
    """Apply a filter again."""
    switch_child("filter", instance, filter_id, True, as_json, data_dir, database_url)


@app.command("disable")
def disable(
    instance: InstanceId, filter_id: FilterId, as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None
) -> None:
    """Stop applying a filter but keep it."""
    switch_child("filter", instance, filter_id, False, as_json, data_dir, database_url)


@app.command("delete")
def delete(
    instance: InstanceId, filter_id: FilterId, as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None
) -> None:
    """Remove a filter from a destination instance."""
    with control_plane(data_dir, database_url) as plane:
        view = plane.delete_filter(operator(), instance, filter_id)
    report(view, as_json, f"Deleted filter {bold(view['title'])}.")
