"""Bounded caches of decoded frames and perception results, shareable between perceivers.

So that the rollouts of a GRPO group (same task, often the same calls) neither decode nor
perceive twice: decoded frames are keyed by (file, time, size), perception results by (file,
times or window, backend, focus). Both are bounded LRUs in a :class:`PerceptionCache`, by default
one shared by every perceiver of the process (:func:`shared_cache`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from cvr_gym.perception.decode import MediaInfo

# Files that passed validation, keyed by (path, mtime, size): a group of resets checks once.
# Values: the file's info and the time its decodable frames end.
valid_files: dict[tuple, tuple[MediaInfo, float]] = {}


class LRUCache:
    """A thread-safe LRU map bounded by total weight (``weigh(value)``, 1 per entry by default)."""

    def __init__(self, max_weight: float, weigh: Callable[[Any], float] | None = None):
        self.max_weight = float(max_weight)
        self._weigh = weigh or (lambda _: 1.0)
        self._data: OrderedDict[Hashable, tuple[Any, float]] = OrderedDict()
        self._weight = 0.0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                return None
            self._data.move_to_end(key)
            return hit[0]

    def put(self, key: Hashable, value: Any) -> None:
        w = float(self._weigh(value))
        if w > self.max_weight:
            return
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._weight -= old[1]
            self._data[key] = (value, w)
            self._weight += w
            while self._weight > self.max_weight and self._data:
                _, (_, ow) = self._data.popitem(last=False)
                self._weight -= ow

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._weight = 0.0

    def __len__(self) -> int:
        return len(self._data)


class PerceptionCache:
    """Decoded frames and perception results, shareable between perceivers.

    Arguments:
        max_results: perception results kept (one per distinct call).
        max_frame_mb: megabytes of decoded frames kept.
    """

    def __init__(self, max_results: int = 1024, max_frame_mb: float = 96.0):
        self.results = LRUCache(max_results)
        self.frames = LRUCache(max_frame_mb * 2**20, weigh=lambda entry: entry[0].nbytes)  # (frame, time)

    def clear(self) -> None:
        self.results.clear()
        self.frames.clear()


_SHARED_CACHE: PerceptionCache | None = None
_SHARED_LOCK = threading.Lock()


def shared_cache() -> PerceptionCache:
    """The process-wide cache used by perceivers created with ``cache="shared"``."""
    global _SHARED_CACHE
    with _SHARED_LOCK:
        if _SHARED_CACHE is None:
            _SHARED_CACHE = PerceptionCache()
        return _SHARED_CACHE
