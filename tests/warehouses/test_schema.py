"""Typing and evolution rules (spec 3.6): first value wins, nothing is lost silently."""

from __future__ import annotations

from segue.warehouses.schema import Rules, evolve, infer, is_timestamp, utc_text


def test_infer_generic_types():
    assert [infer(v) for v in (True, 3, 2.5, "x", "2012-12-02T00:30:12.984Z", 2**70)] == [
        "boolean", "integer", "float", "varchar", "timestamp", "varchar"]
    assert is_timestamp("2012-12-02 00:30:12+02:00")
    assert not is_timestamp("2012-02-31T00:00:00Z") and not is_timestamp("2012-12-02")


def test_first_value_fixes_the_type_and_misfits_are_rejected():
    rows = [{"id": "1", "n": 1}, {"id": "2", "n": 2.0}, {"id": "3", "n": "7"}, {"id": "4", "n": "seven"}, {"id": "5", "n": 1.5}]
    plan, rejected = evolve("t", rows, None, Rules())
    assert plan.new_columns == {"id": "varchar", "n": "integer"}
    assert [row.get("n") for row in rows] == [1, 2, 7, None, None]
    assert [(r.id, r.column_name, r.value) for r in rejected] == [("4", "n", "seven"), ("5", "n", "1.5")]


def test_existing_columns_keep_their_type():
    rows = [{"id": "1", "flag": "true", "at": "nope", "name": 5}]
    plan, rejected = evolve("t", rows, {"id": "varchar", "flag": "boolean", "at": "timestamp", "name": "varchar"}, Rules())
    assert rows == [{"id": "1", "flag": True, "name": "5"}]
    assert [r.column_name for r in rejected] == ["at"] and plan.new_columns == {}


def test_widening_goes_integer_float_varchar():
    rows = [{"id": "1", "n": 1}, {"id": "2", "n": 1.5}, {"id": "3", "m": 1}]
    plan, rejected = evolve("t", rows, {"id": "varchar", "m": "integer"}, Rules(widen=True))
    assert plan.columns["n"] == "float" and rows[0]["n"] == 1.0 and not rejected
    rows = [{"id": "4", "m": "many"}]
    plan, rejected = evolve("t", rows, {"id": "varchar", "m": "integer"}, Rules(widen=True))
    assert plan.widened == {"m": "varchar"} and rows[0]["m"] == "many" and not rejected


def test_column_limit_parks_new_columns():
    rows = [{"id": "1", "a": 1, "b": 2, "c": 3}]
    plan, rejected = evolve("t", rows, {"id": "varchar", "a": "integer"}, Rules(column_limit=3))
    assert list(plan.columns) == ["id", "a", "b"] and plan.parked == {"c"}
    assert [r.column_name for r in rejected] == ["c"] and "c" not in rows[0]


def test_varchar_limit_truncates_and_records_the_full_value():
    rows = [{"id": "1", "s": "x" * 600}]
    _, rejected = evolve("t", rows, None, Rules(varchar_limit=512))
    assert rows[0]["s"] == "x" * 512 and rejected[0].value == "x" * 600


def test_utc_timestamps_for_engines_without_time_zones():
    rows = [{"id": "1", "at": "2012-12-02T02:30:12.984+02:00"}]
    evolve("t", rows, None, Rules(utc_timestamps=True))
    assert rows[0]["at"] == "2012-12-02 00:30:12.984000" == utc_text("2012-12-02T00:30:12.984Z")
