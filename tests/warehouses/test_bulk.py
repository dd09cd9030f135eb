"""The bulk layout (`bulk.py`, through `loader.stage_encoded`) against the row-by-row path (`stage`).

Each scenario loads the same batches into schema "rows" (decoded, `stage`) and schema "bulk"
(stored bytes, `stage_encoded`) of one DuckDB database, then requires the same tables, column
types, rows (all columns but `uuid_ts`, as multisets) and report counts. Bulk may decline any
batch; it may never produce something else.
"""

from __future__ import annotations

import random
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from segue.warehouses.engines.duckdb import DuckDBEngine
from segue.warehouses.engines.sql import quote
from segue.warehouses.loader import LoadOptions, LoadReport, load_staged, stage, stage_encoded
from segue.warehouses.naming import Namer

# --- Running both paths and comparing ------------------------------------------------------------


@dataclass
class Outcome:
    """What loading a scenario both ways left: the engine, each schema's report, and per batch
    whether bulk staged it (Parquet files in its staging directory)."""

    engine: DuckDBEngine
    reports: dict[str, LoadReport] = field(default_factory=lambda: {"rows": LoadReport(), "bulk": LoadReport()})
    in_bulk: list[bool] = field(default_factory=list)


@dataclass(frozen=True)
class Selective:
    """Selective Sync: the tables and columns turned off, from batch `since` on."""

    tables: frozenset = frozenset()
    columns: dict = field(default_factory=dict)
    since: int = 0

    def options(self, root: Path, batch: int) -> LoadOptions:
        on = batch >= self.since
        return LoadOptions(staging_dir=root, disabled_tables=self.tables if on else frozenset(),
                           disabled_columns=self.columns if on else {})


def load_both_ways(engine: DuckDBEngine, batches: list[list[bytes]], root: Path,
                   selective: Selective = Selective()) -> Outcome:
    """Load `batches` (stored events) into "rows" row by row and into "bulk" through `stage_encoded`."""
    outcome = Outcome(engine)
    existing: dict[str, dict] = {"rows": {}, "bulk": {}}
    for number, payloads in enumerate(batches):
        report = outcome.reports["rows"]
        directory = stage(engine, "rows", [orjson.loads(payload) for payload in payloads],
                          selective.options(root / "rows", number), report, existing["rows"])
        if directory is not None:
            load_staged(engine, directory, report)
        report = outcome.reports["bulk"]
        directory = stage_encoded(engine, "bulk", list(payloads), selective.options(root / "bulk", number), report,
                                  existing["bulk"])
        outcome.in_bulk.append(directory is not None and any(directory.rglob("*.parquet")))
        if directory is not None:
            load_staged(engine, directory, report)
    return outcome


def assert_same(outcome: Outcome) -> None:
    """Same tables and column types, same rows but `uuid_ts`, same report counts."""
    engine = outcome.engine
    tables = engine.tables("rows")
    assert tables == engine.tables("bulk")
    for table, columns in tables.items():
        assert differences(engine, table, [column for column in columns if column != "uuid_ts"]) == ([], [])
    rows, bulk = outcome.reports["rows"], outcome.reports["bulk"]
    assert (rows.skipped, rows.rejected, rows.rows) == (bulk.skipped, bulk.rejected, bulk.rows)


def differences(engine: DuckDBEngine, table: str, columns: list[str]) -> tuple[list, list]:
    """(rows only in "rows", rows only in "bulk"), as multisets; EXCEPT ALL takes NULL = NULL."""
    selected = ", ".join(map(quote, sorted(columns)))

    def only_in(first: str, second: str) -> list:
        return engine.conn.execute(
            f"SELECT {selected} FROM {quote(first)}.{quote(table)} EXCEPT ALL "
            f"SELECT {selected} FROM {quote(second)}.{quote(table)}").fetchall()
    return only_in("rows", "bulk"), only_in("bulk", "rows")


def run_scenario(batches: list[list[dict]], selective: Selective = Selective(),
                 query: str = "") -> tuple[Outcome, list]:
    """Load `batches` both ways into a fresh database and compare; `query`'s rows, if given."""
    with tempfile.TemporaryDirectory() as root:
        engine = DuckDBEngine()
        try:
            outcome = load_both_ways(engine, [[orjson.dumps(item) for item in batch] for batch in batches],
                                     Path(root), selective)
            assert_same(outcome)
            return outcome, engine.conn.execute(query).fetchall() if query else []
        finally:
            engine.close()


# --- Generated events: realistic ones and nasty ones ---------------------------------------------

VALID_TIMESTAMPS = ("2026-11-29T06:00:01.250Z", "2026-02-28 10:00", "2024-02-29T00:00:00+05:30",
                    "2026-01-31T23:59:59Z", "2026-12-31T00:00:00.123456-08:00", "2026-03-30T12:00:00.1234567+0530")
INVALID_TIMESTAMPS = ("2026-02-30T00:00:00Z", "0000-01-01T00:00:00Z", "2026-11-29", "2026-02-29T10:00:00Z",
                      "2026-11-29T24:00:00Z", "2026-04-31 10:00", "29/11/2026 06:00")
TEXTS = ("free", "pro", "", "Lyon", "a,b", 'say "hi"', "back\\slash", "line\nbreak", "ünïcødé ✓", "nul\x00byte",
         "null", "true", "123", "[a, b]", "{}")
EVENT_NAMES = ("Order Completed", "order_completed", "OrderCompleted", "Product Viewed", "tracks", "users",
               "Identifies", "segue_rejected", "", "!!!", "select", "1 Click")
PROPERTY_KEYS = ("plan", "price", "quantity", "fooBar", "foo_bar", "id", "event", "received_at", "name",
                 "category", "context_x", "Plan", "PLAN", "tags", "group_id", "user_id", "event_text",
                 "uuid_ts", "previous_id", "select", "1st", "a b", "!!!", "", "prénom", 'q"uote', "a.b",
                 "createdAt", "created_at", "address", "Address", "veryLong" + "Key" * 90)
SUB_KEYS = ("city", "x", "fooBar", "foo_bar", "Zip", "zip")
LEAF_KINDS = ("text", "timestamp", "mixed_timestamp", "integer", "big_integer", "float", "boolean", "null",
              "text_list", "number_list", "empty_list", "empty_object")
KINDS = LEAF_KINDS + ("object",)
METHODS = ("track",) * 5 + ("identify", "identify", "page", "screen", "group", "alias")
NASTY_METHODS = ("Track", "unknown", "", None, 7)


def leaf(kind: str) -> st.SearchStrategy:
    """Values of one generic kind (JSON types, timestamps valid and not, arrays, empty objects)."""
    return {
        "text": st.sampled_from(TEXTS),
        "timestamp": st.sampled_from(VALID_TIMESTAMPS),
        "mixed_timestamp": st.sampled_from(VALID_TIMESTAMPS + INVALID_TIMESTAMPS),
        "integer": st.integers(-10**6, 10**6) | st.sampled_from((0, 2**63 - 1, -(2**63))),
        "big_integer": st.sampled_from((2**63, 2**64 - 1)),  # orjson writes up to 64 bits
        "float": st.sampled_from((0.5, 1.0, -2.25, 1e300, 3.14159)) | st.floats(allow_nan=False, allow_infinity=False),
        "boolean": st.booleans(),
        "null": st.none(),
        "text_list": st.lists(st.sampled_from(TEXTS[:6]) | st.none(), max_size=3),
        "number_list": st.lists(st.integers(-5, 5) | st.sampled_from((0.5, 2.0)), min_size=1, max_size=3),
        "empty_list": st.just([]),
        "empty_object": st.just({}),
    }[kind]


def nested(depth: int) -> st.SearchStrategy:
    """An object of up to `depth` levels, keys from SUB_KEYS (some collide once snake-cased)."""
    values = st.sampled_from(LEAF_KINDS).flatmap(leaf)
    if depth > 1:
        values = values | st.deferred(lambda: nested(depth - 1))
    return st.dictionaries(st.sampled_from(SUB_KEYS), values, max_size=3)


@dataclass(frozen=True)
class Plan:
    """One scenario's habits: each property/trait key's usual kind, its messageIds, how nasty it is
    (1 in `nasty` choices is a nasty one; 0: never)."""

    kinds: dict[str, str]
    ids: tuple[str, ...]
    nasty: int


def nasty(draw, plan: Plan) -> bool:
    return plan.nasty > 0 and draw(st.integers(0, plan.nasty - 1)) == plan.nasty - 1


@st.composite
def plans(draw) -> Plan:
    keys = draw(st.lists(st.sampled_from(PROPERTY_KEYS), max_size=6, unique=True))
    kinds = {key: draw(st.sampled_from(KINDS)) for key in keys}
    ids = draw(st.sampled_from((
        tuple(f"m{n}" for n in range(6)),  # duplicates within a batch and across batches
        tuple(f"m{n}" for n in range(60)),
        tuple(str(uuid.UUID(int=n)) for n in range(40)) + ("0000-X",),
    )))
    return Plan(kinds, ids, draw(st.sampled_from((0, 0, 12, 4))))


@st.composite
def values_of(draw, plan: Plan, depth: int = 3) -> dict:
    """Properties or traits: some of the plan's keys, each usually of its kind."""
    chosen = draw(st.lists(st.sampled_from(sorted(plan.kinds)), max_size=len(plan.kinds), unique=True)) \
        if plan.kinds else []
    result = {}
    for key in chosen:
        kind = draw(st.sampled_from(KINDS)) if nasty(draw, plan) else plan.kinds[key]
        result[key] = draw(nested(depth - 1) if kind == "object" else leaf(kind))
    return result


@st.composite
def contexts(draw, plan: Plan) -> dict:
    context = {"library": {"name": "analytics.js", "version": draw(st.sampled_from(("1.0", "2.1.0")))}}
    if draw(st.booleans()):
        context["x"] = draw(leaf(draw(st.sampled_from(LEAF_KINDS)) if nasty(draw, plan) else "text"))
    if draw(st.booleans()):
        context["page"] = {"path": "/shop", "referrer": draw(st.none() | st.just("https://a.example/"))}
    if nasty(draw, plan):
        context["app"] = draw(nested(2))
    return context


def maybe(draw, plan: Plan, usual: st.SearchStrategy, odd: st.SearchStrategy, name: str, event_: dict) -> None:
    """Set `event_[name]` to a usual value, or (nastily) to an odd one or leave it out."""
    if nasty(draw, plan):
        value = draw(odd | st.just(_MISSING))
        if value is not _MISSING:
            event_[name] = value
    else:
        event_[name] = draw(usual)


_MISSING = object()
ODD_IDS = st.sampled_from(("", None, 7))
TIMES = st.sampled_from(VALID_TIMESTAMPS[:2])
ODD_TIMES = st.sampled_from(INVALID_TIMESTAMPS + (None, 5))


@st.composite
def segment_events(draw, plan: Plan) -> dict:
    method = draw(st.sampled_from(NASTY_METHODS)) if nasty(draw, plan) else draw(st.sampled_from(METHODS))
    item: dict = {"type": method} if method is not None else {}
    maybe(draw, plan, st.sampled_from(plan.ids), ODD_IDS, "messageId", item)
    maybe(draw, plan, st.sampled_from(("u1", "u2", "U1")), ODD_IDS, "userId", item)
    item["anonymousId"] = "anon-1"
    for name in ("receivedAt", "timestamp"):
        maybe(draw, plan, TIMES, ODD_TIMES, name, item)
    if draw(st.booleans()):
        item["sentAt"] = VALID_TIMESTAMPS[0]
    maybe(draw, plan, contexts(plan), st.sampled_from(({}, "ctx", [1])), "context", item)
    maybe(draw, plan, st.sampled_from(({}, {"All": False}, {"Segment.io": True})),
          st.sampled_from(({"Warehouses": True}, {"Warehouses": False}, {"Warehouses": {"all": False}})),
          "integrations", item)
    fields = "traits" if method in ("identify", "group", "alias") else "properties"
    maybe(draw, plan, values_of(plan), st.sampled_from(({}, [1], "text")), fields, item)
    if method == "track" or nasty(draw, plan):
        maybe(draw, plan, st.sampled_from(EVENT_NAMES), st.sampled_from((None, 5)), "event", item)
    if method in ("page", "screen"):
        maybe(draw, plan, st.sampled_from(("Home", "Shop")), st.sampled_from((None, 5, "")), "name", item)
        if draw(st.booleans()):
            item["category"] = "Docs"
    if method == "group":
        maybe(draw, plan, st.sampled_from(("g1", "g2")), ODD_IDS, "groupId", item)
    if method == "alias":
        maybe(draw, plan, st.sampled_from(("anon-1", "anon-2")), ODD_IDS, "previousId", item)
    if nasty(draw, plan):  # fields the layout never reads, some spelled like ones it does
        item[draw(st.sampled_from(("channel", "version", "_metadata", "Event", "MESSAGEID", "Type")))] = "x"
    return item


@st.composite
def batches_of(draw, plan: Plan) -> list[dict]:
    batch = draw(st.lists(segment_events(plan), min_size=1, max_size=30))
    copies = draw(st.lists(st.integers(0, len(batch) - 1), max_size=3))  # same messageId, same content
    return batch + [batch[index] for index in copies]


DISABLED_TABLES = ("users", "order_completed", "pages", "tracks", "groups", "identifies")
SELECTIVE_TABLES = ("tracks", "order_completed", "identifies", "users", "pages", "product_viewed", "groups")
ALWAYS_THERE = ("user_id", "received_at", "context_library_name", "context_x", "uuid_ts", "id", "group_id",
                "event_text", "name")


def columns_of(plan: Plan) -> list[str]:
    """Columns a scenario's events can fill: its keys as the layout names them, and common ones."""
    namer = Namer("duckdb")
    return list(ALWAYS_THERE) + sorted({namer.name(key) for key in plan.kinds} - {""} - set(ALWAYS_THERE))


# Selective Sync turns on from a random batch, possibly after the columns it turns off exist.
SELECTIVE_SYNC_LATER = True


@st.composite
def scenarios(draw) -> tuple[list[list[dict]], Selective]:
    plan = draw(plans())
    batches = draw(st.lists(batches_of(plan), min_size=1, max_size=3))
    if draw(st.integers(0, 2)) < 2:
        return batches, Selective()
    tables = frozenset(draw(st.lists(st.sampled_from(DISABLED_TABLES), max_size=2)))
    columns: dict[str, frozenset] = {}
    pairs = st.tuples(st.sampled_from(SELECTIVE_TABLES), st.sampled_from(columns_of(plan)))
    for table, column in draw(st.lists(pairs, max_size=4)):
        columns[table] = columns.get(table, frozenset()) | {column}
    since = draw(st.integers(0, len(batches) - 1)) if SELECTIVE_SYNC_LATER else 0
    return batches, Selective(tables, columns, since)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenarios())
def test_bulk_stages_what_row_by_row_stages(scenario):
    batches, selective = scenario
    outcome, _ = run_scenario(batches, selective)
    event(f"batches staged in bulk: {sum(outcome.in_bulk)} of {len(outcome.in_bulk)}")


# --- Examples ------------------------------------------------------------------------------------


def typical_batches(count: int, size: int) -> list[list[dict]]:
    try:
        from benchmarks.warehouse import stored_events
    except ImportError:  # benchmarks not importable: a similar batch
        stored_events = None
    if stored_events is not None:
        events = [orjson.loads(payload) for payload in stored_events(count * size)]
    else:
        events = [{"type": "track", "messageId": f"m{n}", "event": "Order Completed", "userId": "u",
                   "properties": {"price": 1.5, "quantity": n}} for n in range(count * size)]
    return [events[start:start + size] for start in range(0, count * size, size)]


def test_typical_batches_are_staged_in_bulk_after_the_first():
    outcome, _ = run_scenario(typical_batches(3, 2000))
    assert outcome.in_bulk[1:] == [True, True]
    assert outcome.reports["bulk"].rows["tracks"] > 3000


def test_uuid_message_ids_are_staged_in_bulk_and_stored_as_sent():
    rng = random.Random(3)
    ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(50)]
    ids = [text.upper() if n % 3 == 0 else text for n, text in enumerate(ids)]
    batch = [{"type": "track", "messageId": message_id, "event": "Product Viewed", "userId": f"u{n % 4}",
              "receivedAt": VALID_TIMESTAMPS[0], "properties": {"sku": f"sku-{n}", "quantity": n}}
             for n, message_id in enumerate(ids)]
    outcome, stored = run_scenario([batch], query="SELECT id FROM bulk.product_viewed")
    assert outcome.in_bulk == [True]
    assert sorted(message_id for (message_id,) in stored) == sorted(ids)


@pytest.mark.parametrize("method", ["track", "page"])
def test_empty_properties(method):
    base = {"type": method, "messageId": "m1", "userId": "u1", "receivedAt": VALID_TIMESTAMPS[0], "properties": {}}
    named = {"event": "Order Completed"} if method == "track" else {"name": "Home"}
    outcome, _ = run_scenario([[{**base, **named}, {**base, **named, "messageId": "m2"}]])
    assert outcome.in_bulk == [True]  # else this compared the row-by-row path with itself


def test_groups_without_group_id_alone():
    """Once a crash of the row-by-row path: an empty `groups` table was staged."""
    run_scenario([[{"type": "group", "messageId": "m1", "userId": "u1", "traits": {"name": "Acme"}}]])


def test_column_disabled_after_it_exists():
    """Once a bulk bug: a column Selective Sync turned off after it existed still got values."""
    def batch(first: int) -> list[dict]:
        return [{"type": "track", "messageId": f"m{first + n}", "event": "Order Completed", "userId": "u1",
                 "context": {"x": "a"}, "properties": {"plan": "free"}} for n in range(3)]
    off = {"tracks": frozenset({"context_x"}), "order_completed": frozenset({"plan"})}
    run_scenario([batch(0), batch(10)], Selective(columns=off, since=1))
