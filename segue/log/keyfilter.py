"""Bloom filters over the dedup keys on disk: a new key, nearly every key, skips the disk lookup.

Why: a fresh key is random, so looking it up in dedup.db is a B-tree descent per key and per
live generation (measured here: about 2 us a key, a third of a group commit's time). A Bloom
filter answers "certainly not on disk" for 99% of them in about 0.2 us, and only the rest are
looked up. rbloom (a maintained Rust implementation) holds the bits; what this module adds is
growth: a filter cannot be resized, so when one reaches its capacity another, twice as large,
is added beside it (a "scalable Bloom filter"), and small installations keep small filters.

The filters live in memory only and use Python's per-process `hash`: they are rebuilt from the
tables when dedup.db is opened.
"""

from __future__ import annotations

from collections.abc import Iterable

from rbloom import Bloom

FIRST_CAPACITY = 1 << 20  # keys of the first filter of a generation (1.2 MB of bits)
ERROR_RATE = 0.01  # each filter's false-positive rate at capacity


class KeyFilter:
    """May a key be in this set? False is certain; True means "look it up"."""

    def __init__(self, first_capacity: int = FIRST_CAPACITY, error_rate: float = ERROR_RATE) -> None:
        self._error_rate = error_rate
        self._capacity = first_capacity
        self._blooms: list[Bloom] = [Bloom(first_capacity, error_rate)]
        self._count = 0  # keys added to the newest filter

    def add_all(self, keys: Iterable[bytes]) -> None:
        pending = list(keys)
        while pending:
            if self._count >= self._capacity:
                self._grow()
            room = self._capacity - self._count
            chunk, pending = pending[:room], pending[room:]
            self._blooms[-1].update(chunk)
            self._count += len(chunk)

    def might_contain(self, key: bytes) -> bool:
        for bloom in self._blooms:
            if key in bloom:
                return True
        return False

    def _grow(self) -> None:
        self._capacity *= 2
        self._blooms.append(Bloom(self._capacity, self._error_rate))
        self._count = 0
