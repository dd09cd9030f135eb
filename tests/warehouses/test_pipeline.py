"""Pipelined loading (warehouses/pipeline.py) gives the warehouse exactly what loading one batch
after the other gives, on every engine, and loses nothing when a load fails."""

from __future__ import annotations

from dataclasses import replace

import pytest

from segue.warehouses import pipeline
from segue.warehouses.loader import REJECTED_TABLE, LoadOptions, load
from segue.warehouses.pipeline import PipelinedLoader
from tests.warehouses.test_engines import identify, track

# Types that change from batch to batch: the first value seen fixes a column's type, also when
# the next batch is staged before the first one is loaded.
BATCHES = [
    [track("m1", amount=1, note="a"), identify("i1", "u-1", plan="free")],
    [track("m2", amount="lots", note="b", extra=True), track("m1", amount=1, note="a")],  # a duplicate
    [track("m3", amount=2.5, new_one=3), identify("i2", "u-1", plan="pro", seats=4)],
]


def _contents(target, tables):
    return {table: [{k: v for k, v in row.items() if k != "uuid_ts"} for row in target.select(table)]
            for table in tables}


def test_pipelined_batches_load_as_sequential_ones(target, tmp_path):
    options = LoadOptions(staging_dir=tmp_path / "stage")
    sequential_schema, pipelined_schema = target.schema, target.schema + "_p"
    for batch in BATCHES:
        load(target.engine, sequential_schema, batch, options)
    loader = PipelinedLoader(target.engine, options)
    reports = [loader.submit({pipelined_schema: batch}) for batch in BATCHES] + [loader.finish()]
    try:
        tables = target.engine.tables(sequential_schema)
        assert target.engine.tables(pipelined_schema) == tables
        assert REJECTED_TABLE in tables  # "lots" did not fit the integer column
        pipelined = replace(target, schema=pipelined_schema)
        assert _contents(pipelined, tables) == _contents(target, tables)
        assert reports[0] is None and sum(report.rows["tracks"] for report in reports[1:]) == 4
    finally:
        target.engine.drop_schema(pipelined_schema)


def test_a_failed_load_raises_at_the_next_submission_and_leaves_nothing_staged(tmp_path, monkeypatch):
    from segue.warehouses.engines.duckdb import DuckDBEngine

    engine, options = DuckDBEngine(), LoadOptions(staging_dir=tmp_path / "stage")
    real_load, calls = pipeline.load_staged, []

    def flaky(*args):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("connection reset")
        return real_load(*args)

    monkeypatch.setattr(pipeline, "load_staged", flaky)
    loader = PipelinedLoader(engine, options)
    assert loader.submit({"web": BATCHES[0]}) is None
    assert loader.submit({"web": BATCHES[1]}).rows["tracks"] == 1  # the first batch, loaded
    with pytest.raises(RuntimeError, match="connection reset"):
        loader.submit({"web": BATCHES[2]})
    loader.close()
    assert list((tmp_path / "stage").iterdir()) == []  # batches 2 and 3 will be read again
    assert [row[0] for row in engine.conn.execute("SELECT id FROM web.tracks").fetchall()] == ["m1"]
