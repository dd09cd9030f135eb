"""The warehouse benchmark's cost breakdown (`python -m benchmarks.warehouse --stages`) times the
loader's real steps and leaves the loader as it found it."""

from __future__ import annotations

from benchmarks import warehouse as bench
from segue.warehouses import loader


def test_stage_costs_time_every_step_of_a_real_load_and_restore_the_loader(tmp_path):
    steps = {name: getattr(loader, name) for name in bench.STAGES.values()}
    stored = bench.stored_events(300)

    costs = bench.stage_costs("duckdb", stored, 100, tmp_path)

    assert list(costs) == ["decoding", *bench.STAGES]
    assert all(seconds > 0 for seconds in costs.values()), costs  # each step ran and was counted
    assert {name: getattr(loader, name) for name in bench.STAGES.values()} == steps


def test_the_cost_table_adds_up_the_python_steps():
    costs = {"duckdb": {"decoding": 0.25, "layout": 0.5, "typing": 0.5, "writing the stage": 0.25, "engine load": 1.0}}
    table = bench.costs_table(costs, 100_000)
    cells = dict(zip(table.columns[0].cells, table.columns[1].cells))
    assert cells["Python, staging (all but the engine load)"] == "1.50" and cells["total"] == "2.50"
