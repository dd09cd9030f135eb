"""Segment's warehouse layout: the rows one enriched event produces, per table (spec 3.2-3.4).

Pure: no I/O, no clock (the load time comes in as `uuid_ts`). Values stay Python scalars here;
`schema` types them. Nested objects are flattened with `_`, arrays become strings, a property or
trait that collides with a column Segment owns is dropped, and the `integrations` object and
Segment-internal fields (`type`, `channel`, `version`, `_metadata`...) are never stored.
"""

from __future__ import annotations

from typing import Any, Iterable

from segue.warehouses.naming import Namer

Row = dict[str, Any]

COMMON_FIELDS = (
    ("messageId", "id"), ("anonymousId", "anonymous_id"), ("userId", "user_id"),
    ("receivedAt", "received_at"), ("sentAt", "sent_at"), ("timestamp", "timestamp"),
    ("originalTimestamp", "original_timestamp"),
)
RESERVED_COLUMNS = frozenset(
    {column for _, column in COMMON_FIELDS} | {"uuid", "uuid_ts", "loaded_at", "event", "event_text"}
)
# Extra columns each table owns; properties or traits of the same name are dropped.
OWN_COLUMNS = {
    "pages": frozenset({"name", "category"}),
    "screens": frozenset({"name", "category"}),
    "groups": frozenset({"group_id"}),
    "aliases": frozenset({"previous_id"}),
}
RESERVED_IN = {table: RESERVED_COLUMNS | own for table, own in OWN_COLUMNS.items()}
SEGMENT_TABLES = frozenset({"identifies", "users", "tracks", "pages", "screens", "groups", "aliases", "accounts"})
SEGUE_TABLES = frozenset({"segue_rejected", "segue_names"})
# Tables merged on a key other than `id`, keeping the latest values (users: id = user_id).
UPSERT_KEYS = {"users": ("id",), "groups": ("group_id",)}


def loads_into(integrations: Any, warehouse_id: str | None = None) -> bool:
    """Whether `integrations.Warehouses` lets this event into this warehouse (spec 1.6).

    `All: false` does not block warehouses; `Warehouses: false` or `{"all": false}` does, and
    `{"warehouseIds": [...]}` admits only the listed warehouses.
    """
    if type(integrations) is not dict:
        return True
    rule = integrations.get("Warehouses")
    if rule is None or rule is True:
        return True
    if type(rule) is not dict:
        return False
    ids = rule.get("warehouseIds")
    if isinstance(ids, list):
        return warehouse_id is not None and warehouse_id in ids
    return rule.get("all", True) is not False


def event_table(event: Any, namer: Namer) -> str:
    """`snakecase(event)`; names of Segment's or Segue's own tables get a `_` prefix."""
    table = namer.name(event) if type(event) is str else ""
    return "_" + table if table in SEGMENT_TABLES or table in SEGUE_TABLES else table


def rows_for(event: dict, namer: Namer, uuid_ts: str) -> list[tuple[str, Row]]:
    """(table, row) pairs for one enriched event; [] for an unknown type or no messageId."""
    if not event.get("messageId"):
        return []
    build = _BUILDERS.get(event.get("type"))
    return build(event, namer, uuid_ts) if build else []


def _common(event: dict, namer: Namer, uuid_ts: str) -> Row:
    row: Row = {}
    for field, column in COMMON_FIELDS:
        value = event.get(field)
        if value is not None:
            row[column] = value
    context = event.get("context")
    if type(context) is dict:
        flatten(context, "context_", row, namer, RESERVED_COLUMNS)
    row["uuid_ts"] = uuid_ts
    return row


def flatten(values: dict, prefix: str, row: Row, namer: Namer, reserved: Iterable[str] = ()) -> None:
    """Add `values` to `row` as snake-cased, `_`-joined columns; nulls and collisions skipped."""
    reserved = reserved if type(reserved) is frozenset else frozenset(reserved)
    levels = namer.caches.get(reserved)
    if levels is None:
        levels = namer.caches[reserved] = {}
    level = levels.get(prefix)
    if level is None:
        level = levels[prefix] = _Level(prefix)
    _flatten(values, level, row, namer, reserved)


class _Level:
    """The decisions made for one nesting level (one prefix): each key's column ("" = dropped),
    and the level below each key whose value is an object."""

    __slots__ = ("prefix", "columns", "children")

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.columns: dict = {}
        self.children: dict = {}


def _flatten(values: dict, level: _Level, row: Row, namer: Namer, reserved: frozenset) -> None:
    # Speed: every decision is made once per (level, key) and cached, so the common case costs
    # two dict look-ups per value instead of a string join and a snake-casing.
    columns = level.columns
    for key, value in values.items():
        if value is None:
            continue
        if type(value) is dict:
            child = level.children.get(key)
            if child is None:
                child = level.children[key] = _Level(_path(level.prefix, key) + "_")
            _flatten(value, child, row, namer, reserved)
            continue
        column = columns.get(key)
        if column is None:
            column = namer.name(_path(level.prefix, key))
            column = columns[key] = "" if column in reserved else column
        if column and column not in row:
            row[column] = stringify(value) if type(value) is list else value


def _path(prefix: str, key) -> str:
    return prefix + key if type(key) is str else prefix + str(key)


def stringify(values: list) -> str:
    """An array as Segment stores it: `["507f1","505bd"]` -> `[507f1, 505bd]`."""
    return "[" + ", ".join(_scalar_text(value) for value in values) + "]"


def _scalar_text(value: Any) -> str:
    if type(value) is str:
        return value
    if value is None:
        return "null"
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) is list:
        return stringify(value)
    if type(value) is dict:
        return "{" + ", ".join(f"{key}: {_scalar_text(item)}" for key, item in value.items()) + "}"
    return str(value)


def _with_fields(row: Row, values: Any, namer: Namer, reserved: frozenset) -> Row:
    if type(values) is dict:
        flatten(values, "", row, namer, reserved)
    return row


def _set(row: Row, column: str, value: Any) -> None:
    if value is not None:
        row[column] = value


def _track(event: dict, namer: Namer, uuid_ts: str) -> list[tuple[str, Row]]:
    row = _common(event, namer, uuid_ts)
    table = event_table(event.get("event"), namer)
    row["event"] = table
    row["event_text"] = event.get("event")
    rows = [("tracks", row)]
    if table:
        rows.append((table, _with_fields(dict(row), event.get("properties"), namer, RESERVED_COLUMNS)))
    return rows


def _identify(event: dict, namer: Namer, uuid_ts: str) -> list[tuple[str, Row]]:
    traits = event.get("traits")
    rows = [("identifies", _with_fields(_common(event, namer, uuid_ts), traits, namer, RESERVED_COLUMNS))]
    user_id = event.get("userId")
    if user_id:
        user = {"id": user_id, "uuid_ts": uuid_ts}
        if event.get("receivedAt") is not None:
            user["received_at"] = event["receivedAt"]
        rows.append(("users", _with_fields(user, traits, namer, RESERVED_COLUMNS)))
    return rows


def _named(table: str):
    reserved = RESERVED_IN[table]

    def build(event: dict, namer: Namer, uuid_ts: str) -> list[tuple[str, Row]]:
        row = _common(event, namer, uuid_ts)
        _set(row, "name", event.get("name"))
        _set(row, "category", event.get("category"))
        return [(table, _with_fields(row, event.get("properties"), namer, reserved))]
    return build


def _group(event: dict, namer: Namer, uuid_ts: str) -> list[tuple[str, Row]]:
    row = _common(event, namer, uuid_ts)
    _set(row, "group_id", event.get("groupId"))
    return [("groups", _with_fields(row, event.get("traits"), namer, RESERVED_IN["groups"]))]


def _alias(event: dict, namer: Namer, uuid_ts: str) -> list[tuple[str, Row]]:
    row = _common(event, namer, uuid_ts)
    _set(row, "previous_id", event.get("previousId"))
    return [("aliases", _with_fields(row, event.get("traits"), namer, RESERVED_IN["aliases"]))]


_BUILDERS = {
    "track": _track, "identify": _identify, "page": _named("pages"), "screen": _named("screens"),
    "group": _group, "alias": _alias,
}
