"""One suite for every engine: vectors as exact tables and columns, evolution, rejects, dedup, crash."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from segue.warehouses.loader import REJECTED_TABLE, LoadOptions, LoadReport, load, load_staged, pending_batches, stage
from tests.warehouses import vectors


@pytest.fixture
def options(tmp_path):
    return LoadOptions(staging_dir=tmp_path / "stage")


def track(message_id: str, event: str = "Order Completed", user: str = "u-1", **properties) -> dict:
    return {"type": "track", "messageId": message_id, "userId": user, "event": event, "properties": properties,
            "receivedAt": vectors.RECEIVED_AT, "timestamp": vectors.TIMESTAMP}


def identify(message_id: str, user: str, received_at: str = vectors.RECEIVED_AT, **traits) -> dict:
    return {"type": "identify", "messageId": message_id, "userId": user, "traits": traits,
            "receivedAt": received_at, "timestamp": received_at}


def columns(target, table: str) -> set[str]:
    return set(target.engine.tables(target.schema)[table])


def test_vectors_land_as_exact_tables_and_columns(target, options):
    report = load(target.engine, target.schema, vectors.all_vectors(), options)
    tables = target.engine.tables(target.schema)
    assert {table: set(cols) for table, cols in tables.items()} == vectors.EXPECTED_TABLES
    assert report.rows["tracks"] == 4 and report.rejected == 0 and report.notices == []
    assert tables["item_purchased"]["revenue"] == "float"
    assert tables["tracks"]["received_at"] == "timestamp"
    [row] = target.select("item_purchased")
    assert (row["event"], row["event_text"], row["user_id"], row["context_ip"]) == (
        "item_purchased", "Item Purchased", "019mr8mf4r", "24.5.68.47")
    assert (row["name"], row["revenue"]) == ("Leap to Conclusions Mat", 14.99)
    assert _utc(row["timestamp"]) == datetime(2012, 12, 2, 0, 30, 12, 984000, tzinfo=timezone.utc)
    events = [r["event"] for r in target.select("tracks")]
    assert events == ["item_purchased", "register", "product_viewed", "selected_gift"]
    assert target.select("register")[0]["account_type"] == "Facebook"
    assert target.select("users")[0]["address_street"] == "6th Street"
    assert target.select("product_viewed")[0]["tags"] == "[507f1, 505bd]"
    assert target.select("selected_gift")[0]["type"] == "cake"


def test_vector_9_names(target, options):
    properties = {"FOO:BAR$BAZ": 1, "something.com": "x", "___$$Base64Encode": True, "open": "y"}
    load(target.engine, target.schema, [track("m1", "inviteYourCustomersAddInvites", **properties)], options)
    assert columns(target, "invite_your_customers_add_invites") == {
        "id", "user_id", "received_at", "timestamp", "uuid_ts", "event", "event_text",
        "foo_bar_baz", "something_com", "base64_encode", "_open",
    }


def test_schema_evolution_adds_columns(target, options):
    load(target.engine, target.schema, [track("m1", plan="pro")], options)
    load(target.engine, target.schema, [track("m2", seats=3, nested={"deep": {"flag": True}})], options)
    tables = target.engine.tables(target.schema)["order_completed"]
    assert (tables["plan"], tables["seats"], tables["nested_deep_flag"]) == ("varchar", "integer", "boolean")
    rows = target.select("order_completed")
    assert [(r["plan"], r["seats"], r["nested_deep_flag"]) for r in rows] == [("pro", None, None), (None, 3, True)]


def test_type_conflicts_go_to_segue_rejected(target, options):
    load(target.engine, target.schema, [track("m1", seats=3)], options)
    report = load(target.engine, target.schema, [track("m2", seats="many"), track("m3", seats="4")], options)
    assert report.rejected == 1 and "order_completed.seats" in report.notices[0]
    [rejected] = target.select(REJECTED_TABLE)
    assert {k: rejected[k] for k in ("table_name", "column_name", "id", "value")} == {
        "table_name": "order_completed", "column_name": "seats", "id": "m2", "value": "many"}
    assert "not an integer" in rejected["reason"]
    assert [r["seats"] for r in target.select("order_completed")] == [3, None, 4]
    load(target.engine, target.schema, [track("m2", seats="many")], options)
    assert target.count(REJECTED_TABLE) == 1


def test_optional_widening_changes_the_column_type(target, options):
    load(target.engine, target.schema, [track("m1", seats=3)], options)
    widening = LoadOptions(options.staging_dir, widen=True)
    report = load(target.engine, target.schema, [track("m2", seats="many")], widening)
    if not target.engine.dialect.can_widen:
        assert report.rejected == 1 and "cannot change column types" in report.notices[0]
        return
    assert report.rejected == 0
    assert target.engine.tables(target.schema)["order_completed"]["seats"] == "varchar"
    assert [r["seats"] for r in target.select("order_completed")] == ["3", "many"]


def test_column_limit_parks_new_columns_with_a_notice(target, options, monkeypatch):
    monkeypatch.setattr(target.engine, "dialect", replace(target.engine.dialect, column_limit=8))
    report = load(target.engine, target.schema, [track("m1", a=1, b=2, c=3)], options)
    assert len(target.engine.tables(target.schema)["order_completed"]) == 8
    assert report.rejected == 2 and "limit of 8 columns" in report.notices[0]
    assert {r["column_name"] for r in target.select(REJECTED_TABLE)} == {"b", "c"}


def test_dedup_within_and_across_loads(target, options):
    events = [track("m1", n=1), track("m1", n=2), track("m2", n=3), identify("i1", "u-1", plan="a")]
    load(target.engine, target.schema, events, options)
    report = load(target.engine, target.schema, events, options)
    assert report.rows["order_completed"] == 2
    assert [(r["id"], r["n"]) for r in target.select("order_completed")] == [("m1", 1), ("m2", 3)]
    assert target.count("tracks") == 2 and target.count("identifies") == 1 and target.count("users") == 1


def test_users_and_groups_are_upserted_with_the_latest_values(target, options):
    later = "2012-12-03T00:00:00.000Z"
    load(target.engine, target.schema, [identify("i1", "u-1", email="a@x.io", plan="free")], options)
    load(target.engine, target.schema, [identify("i2", "u-1", later, email="b@x.io"), identify("i3", "u-2", plan="pro")], options)
    users = target.select("users")
    assert [(u["id"], u["email"], u["plan"]) for u in users] == [("u-1", "b@x.io", "free"), ("u-2", None, "pro")]
    assert _utc(users[0]["received_at"]) == datetime(2012, 12, 3, tzinfo=timezone.utc)
    assert target.count("identifies") == 3
    groups = [{"type": "group", "messageId": f"g{n}", "userId": "u-1", "groupId": "acme", "traits": traits,
               "receivedAt": vectors.RECEIVED_AT} for n, traits in enumerate([{"name": "Acme", "size": 5}, {"size": 6}])]
    load(target.engine, target.schema, groups, options)
    [group] = target.select("groups")
    assert (group["group_id"], group["name"], group["size"], group["id"]) == ("acme", "Acme", 6, "g1")


def test_groups_without_a_group_id_make_no_row_and_no_empty_table(target, options):
    """A batch whose only group events lack a groupId once staged an empty `groups` table, and
    creating a table without columns failed the load (found by comparing with DuckDB bulk layout)."""
    event = {"type": "group", "messageId": "g1", "userId": "u-1", "traits": {"name": "Acme"},
             "receivedAt": vectors.RECEIVED_AT}
    report = load(target.engine, target.schema, [event], options)
    assert "groups" not in target.engine.tables(target.schema) and report.total_rows == 0
    assert pending_batches(options.staging_dir, target.schema) == []


AWKWARD_TEXT = ["a,b", 'say "hi"', "line\nbreak\r\n", "tab\there", "back\\slash \\N", "null", "", "ünï 😀",
                "\x01ctl", "]\n["]


def test_awkward_values_round_trip(target, options):
    events = [track(f"m{n}", text=text, big=2**62 + n, small=-n, ratio=1e16 + n, flag=n % 2 == 0)
              for n, text in enumerate(AWKWARD_TEXT)]
    load(target.engine, target.schema, events, options)
    rows = sorted(target.select("order_completed"), key=lambda row: int(row["id"][1:]))
    expected = [(text, 2**62 + n, -n, 1e16 + n, n % 2 == 0) for n, text in enumerate(AWKWARD_TEXT)]
    assert [(r["text"], r["big"], r["small"], r["ratio"], bool(r["flag"])) for r in rows] == expected


def test_crash_between_stage_and_load_loses_and_doubles_nothing(target, options, monkeypatch):
    events = [track(f"m{n}", n=n) for n in range(5)]
    load(target.engine, target.schema, events[:2], options)

    def crash(schema, tables):
        raise RuntimeError("power cut")

    with monkeypatch.context() as patch:
        patch.setattr(target.engine, "load", crash)
        with pytest.raises(RuntimeError):
            load(target.engine, target.schema, events, options)
    assert len(pending_batches(options.staging_dir, target.schema)) == 1
    load(target.engine, target.schema, events, options)
    assert [r["id"] for r in target.select("order_completed")] == [f"m{n}" for n in range(5)]
    assert target.count("tracks") == 5
    assert pending_batches(options.staging_dir, target.schema) == []


def test_a_failing_table_rolls_back_the_whole_batch(target, options):
    load(target.engine, target.schema, [track("m1", n=1)], options)
    directory = stage(target.engine, target.schema, [track("m2", n=2)], options, LoadReport())
    manifest = json.loads((directory / "manifest.json").read_text())
    [event_table] = [t for t in manifest["tables"] if t["name"] == "order_completed"]
    with open(directory / event_table["path"], "ab") as staged:
        staged.write(b'{"id": "m3", "n": "not a number"}\n')
    with pytest.raises(Exception):
        load_staged(target.engine, directory, LoadReport())
    assert [r["id"] for r in target.select("tracks")] == ["m1"]
    assert pending_batches(options.staging_dir, target.schema) == [directory]


def test_warehouses_rule_and_selective_sync(target, options):
    events = [
        track("m1", plan="pro", secret="x"),
        {**track("m2"), "integrations": {"Warehouses": {"all": False}}},
        {**track("m3"), "integrations": {"All": False, "Warehouses": {"all": True}}},
        identify("i1", "u-1", plan="a"),
    ]
    off = LoadOptions(options.staging_dir, disabled_tables=frozenset({"identifies"}),
                      disabled_columns={"order_completed": frozenset({"secret"})})
    report = load(target.engine, target.schema, events, off)
    assert report.skipped == 1
    assert [r["id"] for r in target.select("tracks")] == ["m1", "m3"]
    assert "secret" not in columns(target, "order_completed")
    assert "identifies" not in target.engine.tables(target.schema) and target.count("users") == 1


def _utc(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def test_postgres_ping_names_the_missing_grant():
    pytest.importorskip("psycopg")
    from segue.warehouses.engines.base import WarehousePermission, WarehouseUnavailable
    from segue.warehouses.engines.postgres import PostgresEngine

    try:
        admin = PostgresEngine(host="127.0.0.1", database="test", user="postgres")
    except WarehouseUnavailable as error:
        pytest.skip(f"postgres is not available here: {error}")
    role = f"segue_nogrant_{uuid.uuid4().hex[:8]}"
    admin.conn.execute(f"CREATE ROLE {role} LOGIN")  # PUBLIC has CONNECT and TEMPORARY, not CREATE
    try:
        engine = PostgresEngine(host="127.0.0.1", database="test", user=role)
        with pytest.raises(WarehousePermission, match=f'GRANT CREATE ON DATABASE "test" TO "{role}"'):
            engine.ping()
        engine.close()
    finally:
        admin.conn.execute(f"DROP ROLE {role}")
        admin.close()
