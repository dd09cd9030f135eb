"""Where a benchmark's CPU went: the cores each group of processes kept busy over a window.

`CpuSampler` reads /proc (Linux) every SAMPLE_SECONDS on a thread of its own while a load runs;
`cores(window)` then gives, per group, the CPU seconds between the samples nearest the window's
ends divided by its length: 1.0 is one core kept busy. Groups are given as functions of a
process (its pid and command name); the machine's total comes from /proc/stat. Elsewhere
than Linux every reading is 0.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Callable

SAMPLE_SECONDS = 0.25
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

Group = Callable[[int, str], bool]  # (pid, command name) -> whether the process belongs to it


class CpuSampler:
    """Samples the groups' CPU time and the machine's busy time until `stop()`."""

    def __init__(self, groups: dict[str, Group]) -> None:
        self.groups = groups
        self.samples: list[tuple[float, dict[str, float]]] = []  # (monotonic time, CPU seconds per group)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)

    def __enter__(self) -> "CpuSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def cores(self, start: float, end: float) -> dict[str, float]:
        """Cores busy per group (and "machine") between monotonic times `start` and `end`."""
        inside = [sample for sample in self.samples if start <= sample[0] <= end]
        if len(inside) < 2:
            return {name: 0.0 for name in [*self.groups, "machine"]}
        (first_at, first), (last_at, last) = inside[0], inside[-1]
        return {name: (last[name] - first[name]) / (last_at - first_at) for name in first}

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.monotonic(), self._read()))
            self._stop.wait(SAMPLE_SECONDS)

    def _read(self) -> dict[str, float]:
        seconds = dict.fromkeys(self.groups, 0.0)
        for pid, name, cpu in _processes():
            for group, belongs in self.groups.items():
                if belongs(pid, name):
                    seconds[group] += cpu
        seconds["machine"] = _machine_busy_seconds()
        return seconds


def _processes():
    """(pid, command name, CPU seconds so far) of every process that can be read."""
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        yield int(entry.name), name, (int(rest[11]) + int(rest[12])) / TICKS  # utime + stime


def _machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (/proc/stat: all but idle and iowait)."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0
    return (sum(fields) - fields[3] - (fields[4] if len(fields) > 4 else 0)) / TICKS
