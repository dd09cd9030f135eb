"""Schema inference and evolution: the first value seen fixes a column's type (spec 3.6).

`evolve` types one table's rows against the columns the warehouse already has. It coerces
values in place, plans the columns to add (or widen, when the warehouse allows it), and moves
what cannot be stored to `Rejected` records, which the loader writes to `segue_rejected`: nothing
is dropped silently. Generic types: timestamp, integer, float, boolean, varchar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import filterfalse
from operator import itemgetter
from typing import Any, NamedTuple

INT_MIN, INT_MAX = -(2**63), 2**63 - 1
_TIMESTAMP = (
    r"(?!0000)\d{{4}}-{month_day}[T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?"
    r"(Z|[+-]([01]\d|2[0-3])(:?[0-5]\d)?)?"
)
# re.ASCII: `\d` must not match other scripts' digits ("٣"), which no database parses as a date.
_TIMESTAMP_SHAPE = re.compile(_TIMESTAMP.format(month_day=r"(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"), re.ASCII)
# Every valid month-day but February 29th: a match is a timestamp, no calendar check needed.
_COMMON_TIMESTAMP = re.compile(_TIMESTAMP.format(
    month_day=r"((0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])|(0[13-9]|1[0-2])-(29|30)|(0[13578]|1[02])-31)"
), re.ASCII)
# What each type accepts without conversion (timestamps are strings checked apart).
_NATIVE = {"varchar": str, "integer": int, "float": float, "boolean": bool}
TRUSTED = frozenset({"uuid_ts"})  # set by the loader itself, never by a client
WIDER = {"integer": "float", "float": "varchar", "boolean": "varchar", "timestamp": "varchar"}


class Rejected(NamedTuple):
    """A value that could not be stored where it belongs; one row of `segue_rejected`."""

    table_name: str
    column_name: str
    id: str
    value: str
    reason: str


@dataclass(frozen=True)
class Rules:
    """What the engine and the warehouse's options allow."""

    column_limit: int = 10_000
    varchar_limit: int | None = None  # characters; longer strings are truncated and recorded
    widen: bool = False
    utc_timestamps: bool = False  # rewrite timestamps as naive UTC (engines without time zones)
    strip_nul: bool = False  # text cannot hold U+0000: it is removed and the value recorded


@dataclass
class TablePlan:
    """One table's columns after this batch: what to create, add or widen."""

    name: str
    columns: dict[str, str]
    new_columns: dict[str, str] = field(default_factory=dict)
    widened: dict[str, str] = field(default_factory=dict)
    parked: set[str] = field(default_factory=set)
    retyped: set[str] = field(default_factory=set)  # widened during this batch


def is_timestamp(value: str) -> bool:
    """An ISO-8601 date-time (a date alone stays a string)."""
    if len(value) < 16 or value[4] != "-" or not _TIMESTAMP_SHAPE.fullmatch(value):
        return False
    if value[8:10] < "29":
        return True  # every month has these days
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def infer(value: Any) -> str:
    """The generic type of a first value."""
    kind = type(value)
    if kind is bool:
        return "boolean"
    if kind is int:
        return "integer" if INT_MIN <= value <= INT_MAX else "varchar"
    if kind is float:
        return "float"
    return "timestamp" if kind is str and is_timestamp(value) else "varchar"


def evolve(
    table: str, rows: list[dict], existing: dict[str, str] | None, rules: Rules
) -> tuple[TablePlan, list[Rejected]]:
    """Type `rows` (coerced in place) against `existing` columns (None: no table yet)."""
    plan = _plan_when_all_fit(table, rows, existing, rules)
    if plan is not None:
        return plan, []
    plan = TablePlan(table, dict(existing or {}))
    rejected: list[Rejected] = []
    checked: dict[tuple, tuple[str, ...]] = {}  # row shape -> the columns its values still need checked
    for row in rows:
        shape = (*row, *map(type, row.values()))
        columns = checked.get(shape)
        if columns is None:
            bad = [column for column, value in row.items() if not _fits(plan, column, value, rules)]
            if not bad and not plan.retyped:
                checked[shape] = _value_checks(plan, row, rules)
        else:
            bad = [column for column in columns if not _fits(plan, column, row[column], rules)]
        for column in bad:
            _reject_or_widen(plan, row, column, rules, rejected)
        if plan.retyped and checked:
            checked.clear()
    _recoerce_widened(plan, rows, rules)
    return plan, rejected


def _plan_when_all_fit(table: str, rows: list[dict], existing: dict[str, str] | None, rules: Rules) -> TablePlan | None:
    """The plan when every value fits as it is (the usual case), else None; rows are not changed.

    Speed: the first row of each shape (columns and value types) is checked like `evolve` does;
    the values of the other rows that still need a check are checked per column, in bulk.
    """
    plan = TablePlan(table, dict(existing or {}))
    by_shape: dict[tuple, list[dict]] = {}
    for row in rows:
        shape = (*row, *map(type, row.values()))
        same = by_shape.get(shape)
        if same is not None:
            same.append(row)
        elif all(_fits(plan, column, value, rules) for column, value in row.items()):
            by_shape[shape] = [row]
        else:
            return None
    for same in by_shape.values():
        if len(same) > 1 and not all(_column_fits(plan.columns[column], list(map(itemgetter(column), same)), rules)
                                     for column in _value_checks(plan, same[0], rules)):
            return None
    return plan


def _column_fits(kind: str, values: list, rules: Rules) -> bool:
    """Whether every value (all of the column's native type) fits; `_fits` for a whole column."""
    if kind == "timestamp":
        return _all_canonical(values) or all(map(is_timestamp, filterfalse(_COMMON_TIMESTAMP.fullmatch, values)))
    if kind == "integer":
        return INT_MIN <= min(values) and max(values) <= INT_MAX
    if rules.strip_nul and "\x00" in "".join(values):
        return False
    return rules.varchar_limit is None or max(map(len, values)) <= rules.varchar_limit


_CANONICAL = "0000-00-00T00:00:00.000Z"  # JavaScript's toISOString(): 0 marks a digit
_CANONICAL_DIGITS = [position for position, char in enumerate(_CANONICAL) if char == "0"]


def _all_canonical(values: list[str]) -> bool:
    """Whether every value is a valid timestamp written exactly like `_CANONICAL`.

    Speed: checks one character position of every value at a time (`text[position::24]`) and
    each distinct date once, instead of running the regex on each value.
    """
    count, text = len(values), "".join(values)
    if len(text) != len(_CANONICAL) * count or max(map(len, values)) != len(_CANONICAL):
        return False  # not all of the canonical length
    at = [text[position::len(_CANONICAL)] for position in range(len(_CANONICAL))]
    if any(at[position] != char * count for position, char in enumerate(_CANONICAL) if char != "0"):
        return False
    digits = "".join([at[position] for position in _CANONICAL_DIGITS])
    if not (digits.isascii() and digits.isdigit()):
        return False
    if max(zip(at[11], at[12])) > ("2", "3") or max(at[14]) > "5" or max(at[17]) > "5":
        return False  # hours, minutes, seconds
    return all(is_timestamp(date + "T00:00Z") for date in set(map("".join, zip(*at[:10]))))


def _value_checks(plan: TablePlan, row: dict, rules: Rules) -> tuple[str, ...]:
    """Columns whose type fits every row of this shape but whose value must still be checked."""
    text_checked = rules.varchar_limit is not None or rules.strip_nul
    value_checked = {"timestamp", "integer"} | ({"varchar"} if text_checked else set())
    return tuple(column for column in row if plan.columns[column] in value_checked and column not in TRUSTED)


def _fits(plan: TablePlan, column: str, value: Any, rules: Rules) -> bool:
    kind = plan.columns.get(column)
    if kind is None:
        return _add_column(plan, column, value, rules)
    if kind == "timestamp":
        return type(value) is str and not rules.utc_timestamps and is_timestamp(value)
    native = _NATIVE[kind]
    if type(value) is not native:
        return False
    if native is int:
        return INT_MIN <= value <= INT_MAX
    if native is str:
        if rules.strip_nul and "\x00" in value:
            return False
        return rules.varchar_limit is None or len(value) <= rules.varchar_limit
    return True


def _add_column(plan: TablePlan, column: str, value: Any, rules: Rules) -> bool:
    if column in plan.parked or len(plan.columns) >= rules.column_limit:
        plan.parked.add(column)
        return False
    plan.columns[column] = plan.new_columns[column] = infer(value)
    return _fits(plan, column, value, rules)


def _reject_or_widen(plan: TablePlan, row: dict, column: str, rules: Rules, rejected: list[Rejected]) -> None:
    value = row[column]
    if column in plan.parked:
        reason = f"{plan.name} reached its column limit ({rules.column_limit})"
        rejected.append(_rejected(plan, row, column, value, reason))
        del row[column]
        return
    kind = plan.columns[column]
    converted, reason = coerce(value, kind, rules)
    wider = _wider_type(value, kind) if reason and rules.widen else None
    if wider:
        converted, reason = coerce(value, _widen(plan, column, wider), rules)
    if reason is None:
        row[column] = converted
        return
    rejected.append(_rejected(plan, row, column, value, reason))
    if converted is None:
        del row[column]
    else:
        row[column] = converted


def _wider_type(value: Any, kind: str) -> str | None:
    """The first type up the chain integer -> float -> varchar that takes `value`."""
    while kind in WIDER:
        kind = WIDER[kind]
        if kind == "varchar" or coerce(value, kind, Rules())[1] is None:
            return kind
    return None


def _widen(plan: TablePlan, column: str, kind: str) -> str:
    plan.columns[column] = kind
    plan.retyped.add(column)
    if column in plan.new_columns:
        plan.new_columns[column] = kind
    else:
        plan.widened[column] = kind
    return kind


def _rejected(plan: TablePlan, row: dict, column: str, value: Any, reason: str) -> Rejected:
    text = value if type(value) is str else _as_text(value)
    return Rejected(plan.name, column, str(row.get("id", "")), text, reason)


def coerce(value: Any, kind: str, rules: Rules) -> tuple[Any, str | None]:
    """(value converted to `kind`, None) or (a partial value or None, why it does not fit)."""
    return _COERCERS[kind](value, rules)


def _to_varchar(value: Any, rules: Rules) -> tuple[Any, str | None]:
    text = value if type(value) is str else _as_text(value)
    reason = None
    if rules.strip_nul and "\x00" in text:
        text, reason = without_nul(text), "NUL characters removed (the warehouse cannot store them)"
    limit = rules.varchar_limit
    if limit is not None and len(text) > limit:
        return text[:limit], f"truncated to {limit} characters"
    return text, reason


def without_nul(text: str) -> str:
    """`text` without U+0000, which PostgreSQL and Redshift cannot store."""
    return text.replace("\x00", "")


def _to_integer(value: Any, rules: Rules) -> tuple[Any, str | None]:
    kind = type(value)
    if kind is float and value.is_integer() and INT_MIN <= value <= INT_MAX:
        return int(value), None
    if kind is int and INT_MIN <= value <= INT_MAX:
        return value, None
    if kind is str and re.fullmatch(r"[+-]?\d{1,18}", value.strip()):
        return int(value), None
    return None, f"{_describe(value)} is not an integer"


def _to_float(value: Any, rules: Rules) -> tuple[Any, str | None]:
    kind = type(value)
    if kind is int or kind is float:
        return float(value), None
    if kind is str:
        try:
            return float(value), None
        except ValueError:
            pass
    return None, f"{_describe(value)} is not a number"


def _to_boolean(value: Any, rules: Rules) -> tuple[Any, str | None]:
    if type(value) is bool:
        return value, None
    if type(value) is str and value.lower() in ("true", "false"):
        return value.lower() == "true", None
    return None, f"{_describe(value)} is not a boolean"


def _to_timestamp(value: Any, rules: Rules) -> tuple[Any, str | None]:
    if type(value) is not str or not is_timestamp(value):
        return None, f"{_describe(value)} is not an ISO-8601 timestamp"
    return (utc_text(value) if rules.utc_timestamps else value), None


_COERCERS = {
    "varchar": _to_varchar, "integer": _to_integer, "float": _to_float,
    "boolean": _to_boolean, "timestamp": _to_timestamp,
}


def utc_text(value: str) -> str:
    """`2012-12-02 00:30:12.984000` (naive UTC) for an ISO-8601 timestamp."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed.isoformat(sep=" ", timespec="microseconds")


def _recoerce_widened(plan: TablePlan, rows: list[dict], rules: Rules) -> None:
    """Earlier rows of a column widened mid-batch get the wider type too."""
    changed = {column: plan.columns[column] for column in plan.retyped}
    if not changed:
        return
    for row in rows:
        for column, kind in changed.items():
            value = row.get(column)
            if value is not None and type(value) is not _NATIVE.get(kind):
                row[column] = coerce(value, kind, rules)[0]


def _as_text(value: Any) -> str:
    if type(value) is bool:
        return "true" if value else "false"
    return str(value)


def _describe(value: Any) -> str:
    text = value if type(value) is str else _as_text(value)
    return repr(text[:40])
