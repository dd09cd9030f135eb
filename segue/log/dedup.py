"""Dedup by (source_id, message_id) within a time window, for both backends.

A key is the 16-byte blake2b of `source_id + "\\0" + message_id`. Keys live in generations of
one window each (generation n = floor(now / window)); only the current and the previous
generation can hold a key seen less than a window ago, so older generations are dropped whole.
Each key keeps the second it was first seen: an entry is a duplicate when its key was seen
less than `window` seconds ago. This module holds the rules and the in-memory store;
dedup_store.py the SQLite one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from hashlib import blake2b

KEY_BYTES = 16


def dedup_key(source_id: str, message_id: str) -> bytes:
    return blake2b(f"{source_id}\0{message_id}".encode(), digest_size=KEY_BYTES).digest()


def generation(now: float, window: int) -> int:
    return int(now // window)


def is_fresh(seen_at: int, now: float, window: int) -> bool:
    """Whether a key first seen at `seen_at` still makes a new entry with it a duplicate."""
    return now - seen_at < window


def new_flags(keys: Sequence[bytes], known: set[bytes]) -> list[bool]:
    """For each key, whether it is new: neither known already nor earlier in the same group."""
    seen = set(known)
    flags = []
    for key in keys:
        flags.append(key not in seen)
        seen.add(key)
    return flags


class MemoryDedup:
    """The generations as dictionaries of key -> first-seen second."""

    def __init__(self, window: int) -> None:
        self.window = window
        self._generations: dict[int, dict[bytes, int]] = {}

    def known(self, keys: Iterable[bytes], now: float) -> set[bytes]:
        """The keys among `keys` seen less than a window ago."""
        self._drop_old(now)
        return {key for key in keys if self._is_known(key, now)}

    def _is_known(self, key: bytes, now: float) -> bool:
        seen = (table[key] for table in self._generations.values() if key in table)
        return any(is_fresh(seen_at, now, self.window) for seen_at in seen)

    def remember(self, keys: Iterable[bytes], now: float) -> None:
        current = self._generations.setdefault(generation(now, self.window), {})
        for key in keys:
            current.setdefault(key, int(now))

    def _drop_old(self, now: float) -> None:
        oldest = generation(now, self.window) - 1
        for number in [n for n in self._generations if n < oldest]:
            del self._generations[number]
