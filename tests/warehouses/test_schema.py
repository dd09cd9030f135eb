"""Typing and evolution rules (spec 3.6): first value wins, nothing is lost silently."""

from __future__ import annotations

import copy
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from segue.warehouses import schema
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


def test_rows_of_one_shape_still_have_each_value_checked():
    rows = [{"id": "1", "at": "2012-12-02T00:00:00Z", "n": 1, "s": "abc"},
            {"id": "2", "at": "2013-02-29T00:00:00Z", "n": 2**63, "s": "abcd"},
            {"id": "3", "at": "2012-02-29T00:00:00Z", "n": -(2**63), "s": "ab"}]
    plan, rejected = evolve("t", rows, None, Rules(varchar_limit=3))
    assert plan.columns == {"id": "varchar", "at": "timestamp", "n": "integer", "s": "varchar"}
    assert [(r.id, r.column_name) for r in rejected] == [("2", "at"), ("2", "n"), ("2", "s")]
    assert rows[1] == {"id": "2", "s": "abc"} and rows[2]["at"] == "2012-02-29T00:00:00Z"


_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**64), 2**64), st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["x", "7", "1.5", "true", "2012-12-02T00:30:12Z", "2012-02-29 00:30", "2013-02-29T00:30"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(["a", "b", "c"]), _VALUES), max_size=8),
       st.sampled_from([None, {"a": "integer", "b": "timestamp"}]), st.booleans())
def test_the_fast_path_decides_like_the_row_by_row_path(rows, existing, widen):
    rows = [{"id": str(n), **row} for n, row in enumerate(rows)]
    rules = Rules(varchar_limit=4, widen=widen, column_limit=3)
    fast_rows, slow_rows = copy.deepcopy(rows), copy.deepcopy(rows)
    fast = evolve("t", fast_rows, existing, rules)
    with patch.object(schema, "_plan_when_all_fit", lambda *args: None):
        slow = evolve("t", slow_rows, existing, rules)
    assert fast == slow and fast_rows == slow_rows


_DIGIT = st.sampled_from("0123456789") | st.sampled_from("0123456789٣")
_CANONICAL_LIKE = st.builds(
    lambda year, month, day, hour, minute, second, millis, zone:
        f"{year}-{month}-{day}T{hour}:{minute}:{second}.{millis}{zone}",
    st.text(_DIGIT, min_size=4, max_size=4), st.text(_DIGIT, min_size=2, max_size=2),
    st.sampled_from(["01", "28", "29", "30", "31", "32", "00"]), st.text(_DIGIT, min_size=2, max_size=2),
    st.text(_DIGIT, min_size=2, max_size=2), st.text(_DIGIT, min_size=2, max_size=2),
    st.text(_DIGIT, min_size=3, max_size=3), st.sampled_from(["Z", "Z", "+"]),
)

_VALID_CANONICAL = st.datetimes().map(lambda at: at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z")


@settings(max_examples=500, deadline=None)
@given(st.lists(_CANONICAL_LIKE | _VALID_CANONICAL, min_size=1, max_size=4))
def test_canonical_timestamps_are_checked_like_is_timestamp(values):
    canonical, valid = schema._all_canonical(values), all(map(is_timestamp, values))
    assert canonical == valid if all(map(str.isascii, values)) else valid or not canonical  # ٣ is left to the regex
    assert not schema._all_canonical(["2012-12-02T00:00:00.000", "Z2012-12-02T00:00:00.000Z"])


def test_digits_of_other_scripts_are_not_a_timestamp():
    """A value no database can parse as a date must stay text, or it fails the whole load."""
    from segue.warehouses.schema import is_timestamp

    assert is_timestamp("2024-03-05T14:07:09.123Z")
    assert not is_timestamp("٢٠٢٤-03-05T14:07:09Z")
