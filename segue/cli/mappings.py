"""`segue destinations mappings ...`: Actions-style mappings (subscriptions) of an instance.

A mapping sends the events its trigger (`--trigger`, FQL) matches to one of the destination's
actions (`--action`, a Segment method it takes), with mapping-kit fields (`--fields-json`)
merged over the event first:

    segue destinations mappings create dst_... --name "Pages as tracks" \\
        --trigger 'type = "page"' --action track \\
        --fields-json '{"event": {"@template": "Viewed {{name}}"}, "type": "track"}'

A new instance starts with its destination's presets (one mapping per method it takes); each
matching enabled mapping makes its own requests, in order; events no mapping matches are not
sent. An instance without any mapping sends each event to its method's translation.
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
    enabled_cell,
    group,
    json_object_option,
    new_table,
    operator,
    print_json,
    print_json_lines,
    report,
    say,
    shorten,
    switch_child,
)
from segue.errors import ConfigError

app = group("Actions-style mappings: which events call which action of a destination, with which fields.")

InstanceId = Annotated[str, typer.Argument(help="The destination instance's id.")]
MappingId = Annotated[str, typer.Argument(help="The mapping's id (see `segue destinations mappings list`).")]
Action = Literal["track", "identify", "page", "screen", "group", "alias"]
FieldsJson = Annotated[
    Optional[str],
    typer.Option(
        "--fields-json",
        metavar="JSON",
        help='Mapping-kit fields merged over the event, as a JSON object, e.g. \'{"event": {"@path": "$.name"}}\'; '
        "`-` reads it from stdin, `@FILE` from a file.",
    ),
]
EXAMPLE_FIELDS = '{"event": {"@template": "Viewed {{name}}"}}'


def _fields(text: str | None) -> dict | None:
    return None if text is None else json_object_option(text, "--fields-json", EXAMPLE_FIELDS)


@app.command("list")
def list_(instance: InstanceId, as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List an instance's mappings in the order they run."""
    with control_plane(data_dir, database_url) as plane:
        views = plane.list_mappings(instance)
    if as_json:
        return print_json_lines(views)
    if not views:
        return console().print("No mappings: each event goes to its method's translation.")
    table = new_table("#", "Id", "Name", "Trigger", "Action", "Fields", "Enabled")
    for view in views:
        fields = shorten(json.dumps(view["fields"], ensure_ascii=False), 60) if view["fields"] else "-"
        table.add_row(str(view["position"]), view["id"], escape(view["name"]), escape(view["trigger"]), view["action"],
                      escape(fields), enabled_cell(view["enabled"]))  # fmt: skip
    console().print(table)


@app.command("create")
def create(
    instance: InstanceId,
    name: Annotated[str, typer.Option("--name", help="A name for the mapping (up to 100 characters).")],
    trigger: Annotated[str, typer.Option("--trigger", metavar="FQL", help="Which events it takes, in FQL, e.g. 'type = \"page\"'.")],
    action: Annotated[Action, typer.Option("--action", help="The destination's action (a Segment method it takes) to call.")],
    fields_json: FieldsJson = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Save it without running it yet.")] = False,
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Add a mapping to an instance (last in the order); prints its id."""
    fields = _fields(fields_json) or {}
    with control_plane(data_dir, database_url) as plane:
        view = plane.create_mapping(operator(), instance, name=name, trigger=trigger, action=action, fields=fields,
                                    enabled=not disabled)  # fmt: skip
    if as_json:
        return print_json(view)
    say(f"Created mapping {bold(view['name'])}. Id:")
    typer.echo(view["id"])


@app.command("update")
def update(
    instance: InstanceId,
    mapping_id: MappingId,
    name: Annotated[Optional[str], typer.Option("--name", help="A new name.")] = None,
    trigger: Annotated[Optional[str], typer.Option("--trigger", metavar="FQL", help="A new trigger, in FQL.")] = None,
    action: Annotated[Optional[Action], typer.Option("--action", help="Another action to call.")] = None,
    fields_json: FieldsJson = None,
    position: Annotated[Optional[int], typer.Option("--position", min=0, help="Move it to this place in the order (0: first).")] = None,
    as_json: JsonFlag = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Change a mapping; --fields-json replaces its fields whole."""
    fields = _fields(fields_json)
    if all(value is None for value in (name, trigger, action, fields, position)):
        raise ConfigError("nothing to change: give --name, --trigger, --action, --fields-json or --position")
    with control_plane(data_dir, database_url) as plane:
        view = plane.update_mapping(operator(), instance, mapping_id, name=name, trigger=trigger, action=action,
                                    fields=fields, position=position)  # fmt: skip
    report(view, as_json, f"Updated mapping {bold(view['name'])}.")


@app.command("enable")
def enable(
    instance: InstanceId, mapping_id: MappingId, as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None
) -> None:
    """Run a mapping again."""
    switch_child("mapping", instance, mapping_id, True, as_json, data_dir, database_url)


@app.command("disable")
def disable(
    instance: InstanceId, mapping_id: MappingId, as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None
) -> None:
    """Stop running a mapping but keep it (events only it matched are then not sent)."""
    switch_child("mapping", instance, mapping_id, False, as_json, data_dir, database_url)


@app.command("delete")
def delete(
    instance: InstanceId, mapping_id: MappingId, as_json: JsonFlag = False, data_dir: DataDir = None, database_url: DatabaseUrl = None
) -> None:
    """Remove a mapping (an instance left with none sends each event to its method's translation)."""
    with control_plane(data_dir, database_url) as plane:
        view = plane.delete_mapping(operator(), instance, mapping_id)
    report(view, as_json, f"Deleted mapping {bold(view['name'])}.")
