"""Pipelined loading: the next batch is laid out and staged while the engine loads the last one.

Why: a load has two halves of about equal cost. Laying out, typing and writing the stage is
Python on one core; the bulk load and merge run in the engine (DuckDB's own threads, or the
PostgreSQL server), with the GIL released. One after the other they leave a core idle; here
batch N+1 is staged while batch N loads, on a thread of its own.

Promises kept from `loader.load`: batches load one at a time, in the order given, each in one
transaction; a staged batch is removed only after its commit; batches a crash left staged load
first. After a failed load, the batches staged since the last success are removed: the caller
acknowledged none of their events, so it reads them again. Staging never touches the engine while a load runs: it reads a schema's columns once
(with no load in flight) and then keeps them current with what it staged itself.
"""

from __future__ import annotations

import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Iterable

from segue.warehouses.engines.base import Engine
from segue.warehouses.loader import LoadOptions, LoadReport, collector_paused, load_staged, pending_batches, stage


class PipelinedLoader:
    """`submit` batches, then `finish`; blocking calls (run them off the event loop)."""

    def __init__(self, engine: Engine, options: LoadOptions) -> None:
        self.engine = engine
        self.options = options
        self._columns: dict[str, dict[str, dict[str, str]]] = {}  # schema -> table -> column -> type
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="segue-warehouse-load")
        self._loading: Future | None = None
        self._loading_dirs: list[Path] = []  # what the load in flight removes once committed
        self._started = False

    def submit(self, batches: dict[str, Iterable[dict]]) -> LoadReport | None:
        """Stage `batches` (events per schema), then start loading them once the previous
        submission has loaded. Returns the previous submission's report (None for the first),
        and raises its error if it failed: that submission's events are not in the warehouse."""
        report = LoadReport() if self._started else self._load_leftovers()
        staged: list[Path] = []
        with collector_paused():
            for schema, events in batches.items():
                directory = stage(self.engine, schema, events, self.options, report, self._columns_of(schema))
                if directory is not None:
                    staged.append(directory)
        try:
            previous = self._wait()
        except BaseException:
            _remove(staged)  # not acknowledged either: the caller reads these events again
            raise
        self._loading = self._worker.submit(self._load, staged, report)
        self._loading_dirs = staged
        return previous

    def finish(self) -> LoadReport | None:
        """Wait for the last submission; its report (None if nothing was submitted)."""
        try:
            return self._wait()
        finally:
            self._worker.shutdown(wait=True)

    def close(self) -> None:
        """After a failure or cancellation: let a load in flight end (it commits or rolls back
        on its own), without its outcome; the caller acknowledges nothing more."""
        self._wait_quietly()
        self._worker.shutdown(wait=True)

    def _load_leftovers(self) -> LoadReport:
        """Batches an earlier crash left staged, before anything newer (counted in the first report)."""
        self._started = True
        report = LoadReport()
        for directory in pending_batches(self.options.staging_dir, schema=None):
            load_staged(self.engine, directory, report)
        return report

    def _columns_of(self, schema: str) -> dict[str, dict[str, str]]:
        columns = self._columns.get(schema)
        if columns is None:
            self._wait_quietly()  # the engine is free: read the columns it has
            columns = self._columns[schema] = self.engine.tables(schema)
        return columns

    def _load(self, staged: list[Path], report: LoadReport) -> LoadReport:
        for directory in staged:
            load_staged(self.engine, directory, report)
        return report

    def _wait(self) -> LoadReport | None:
        loading, self._loading = self._loading, None
        if loading is None:
            return None
        try:
            return loading.result()
        except BaseException:
            self._columns.clear()  # what failed to load is not in the warehouse: read them again
            _remove(self._loading_dirs)
            raise

    def _wait_quietly(self) -> None:
        """Wait for the load in flight without taking its outcome (the next `_wait` gets it)."""
        if self._loading is not None:
            self._loading.exception()


def _remove(directories: list[Path]) -> None:
    for directory in directories:
        shutil.rmtree(directory, ignore_errors=True)
