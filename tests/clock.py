"""The clock tests move by hand, for every part that takes a `clock` (epoch seconds)."""

from __future__ import annotations

import time


class FakeClock:
    """Epoch seconds that move only when the test says so (`FakeClock.now()`: from the real now)."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    @classmethod
    def from_now(cls) -> "FakeClock":
        return cls(time.time())
