"""Compiled code kept by what it was compiled from: a bounded, least-recently-used cache.

The straight-line replay writes the same source for every graph of the same structure
(the report's 104 runs are a few shapes): generating and compiling it costs tens of
microseconds per edge, looking it up one. Bounded by entries and by the characters of
source held, so that a long session of many shapes cannot grow without end.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Generic, Hashable, TypeVar

__all__ = ["CodeCache"]

T = TypeVar("T")


class CodeCache(Generic[T]):
    """Up to ``entries`` values and ``chars`` characters of source, least recently used dropped first.
    Safe to share between threads (fits may run in several)."""

    def __init__(self, entries: int, chars: int) -> None:
        self.entries, self.chars = entries, chars
        self._lock = threading.Lock()
        self._kept: OrderedDict[Hashable, tuple[T, int]] = OrderedDict()
        self._held = 0  # characters of source held
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> T | None:
        with self._lock:
            found = self._kept.get(key)
            if found is None:
                self.misses += 1
                return None
            self.hits += 1
            self._kept.move_to_end(key)
            return found[0]

    def put(self, key: Hashable, value: T, size: int) -> None:
        """Keep ``value`` (``size`` characters of source); a value larger than the whole
        bound is not kept at all."""
        if size > self.chars:
            return
        with self._lock:
            old = self._kept.pop(key, None)
            if old is not None:
                self._held -= old[1]
            self._kept[key] = (value, size)
            self._held += size
            while len(self._kept) > self.entries or self._held > self.chars:
                _, (_, dropped) = self._kept.popitem(last=False)
                self._held -= dropped

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self._held = 0
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._kept)

    @property
    def held(self) -> int:
        """Characters of source held now."""
        return self._held

    def stats(self) -> dict[str, Any]:
        return {"entries": len(self), "chars": self._held, "hits": self.hits, "misses": self.misses}
