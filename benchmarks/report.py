"""The results table: one row per measure, one column per target, the ratio and the floor."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from rich.table import Table

from benchmarks.loadgen import LoadResult
from benchmarks.workloads import (
    FLOOR_BATCH_EVENTS,
    FLOOR_P99_SECONDS,
    FLOOR_TRACK_RPS,
    WORKLOADS,
    Workload,
)

Results = dict[str, dict[str, LoadResult]]  # target name -> workload key -> result


@dataclass(frozen=True)
class Measure:
    """A number read from a result, how to print it, and the floor Segue must meet, if any."""

    label: str
    read: Callable[[LoadResult], float]
    unit: str  # "rate" or "ms" or "count"
    floor: str = ""
    meets: Callable[[float], bool] | None = None


def _ms(quantile: float) -> Callable[[LoadResult], float]:
    return lambda result: result.latency(quantile) * 1000


P99_FLOOR = f"< {FLOOR_P99_SECONDS * 1000:.0f} ms"
ERRORS = Measure("non-200 or unanswered", lambda result: result.errors, "count", "0", lambda value: value == 0)
CLOSED_LATENCY = (Measure("p50 latency", _ms(0.5), "ms"), Measure("p99 latency", _ms(0.99), "ms"))
OPEN_LATENCY = (
    Measure("p50 latency", _ms(0.5), "ms"),
    Measure("p99 latency", _ms(0.99), "ms", P99_FLOOR, lambda value: value < FLOOR_P99_SECONDS * 1000),
    Measure("max latency", _ms(1.0), "ms"),
    Measure("generator lag p99", lambda result: result.generator_lag(0.99) * 1000, "ms"),
)
MEASURES: dict[str, tuple[Measure, ...]] = {
    "track": (
        Measure("requests/s", lambda r: r.requests_per_second, "rate", f"≥ {FLOOR_TRACK_RPS:,}",
                lambda value: value >= FLOOR_TRACK_RPS),
        *CLOSED_LATENCY,
        ERRORS,
    ),
    "batch": (
        Measure("events/s", lambda r: r.events_per_second, "rate", f"≥ {FLOOR_BATCH_EVENTS:,}",
                lambda value: value >= FLOOR_BATCH_EVENTS),
        *CLOSED_LATENCY,
        ERRORS,
    ),
    "track_open": (*OPEN_LATENCY, ERRORS),
    "batch_open": (*OPEN_LATENCY, ERRORS),
}


def results_table(results: Results, duration: float, load_average: float) -> Table:
    """Every measure of every workload that ran, side by side for the targets."""
    targets = list(results)
    compare = {"segue", "baseline"} <= set(targets)
    table = Table(
        title=f"Segue Tracking API, {duration:g} s per run (latency = acknowledgement time)",
        caption=f"{os.cpu_count()} CPUs, load average {load_average:.2f} before the run",
    )
    table.add_column("Measure")
    for name in targets:
        table.add_column(name, justify="right")
    if compare:
        table.add_column("segue/baseline", justify="right")
    table.add_column("floor (segue)", justify="right")
    for workload in WORKLOADS:
        if any(workload.key in results[name] for name in targets):
            _add_workload(table, workload, results, targets, compare)
    return table


def _add_workload(table: Table, workload: Workload, results: Results, targets: list[str], compare: bool) -> None:
    table.add_section()
    table.add_row(f"[bold]{workload.title}[/bold]")
    for measure in MEASURES[workload.key]:
        values = {name: _value(results[name].get(workload.key), measure) for name in targets}
        cells = [_format(values[name], measure.unit) for name in targets]
        if compare:
            cells.append(_ratio(values["segue"], values["baseline"]))
        table.add_row(f"  {measure.label}", *cells, _floor_cell(measure, values.get("segue")))


def _value(result: LoadResult | None, measure: Measure) -> float | None:
    return None if result is None else measure.read(result)


def _format(value: float | None, unit: str) -> str:
    if value is None or value != value:
        return "-"
    if unit == "ms":
        return f"{value:.1f} ms"
    return f"{value:,.0f}"


def _ratio(segue: float | None, baseline: float | None) -> str:
    if not segue or not baseline or segue != segue or baseline != baseline:
        return "-"
    return f"{segue / baseline:.2f}×"


def _floor_cell(measure: Measure, segue: float | None) -> str:
    if not measure.floor:
        return ""
    if segue is None or measure.meets is None:
        return measure.floor
    return f"{measure.floor} " + ("[green]✓[/green]" if measure.meets(segue) else "[red]✗[/red]")
