"""Focus prompts: order evidence by relevance to what the agent asked to look for."""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict

from cvr_gym.core.evidence import Evidence
from cvr_gym.core.scoring import content_words

#: Bytes the process-wide word cache may hold (texts and their word sets, as ``sys.getsizeof`` counts).
WORD_CACHE_BYTES = 16 * 2**20


class _WordCache:
    """An LRU of text -> word set bounded in bytes: agents send endless unique focus prompts, so
    a bound in entries alone lets it grow to gigabytes."""

    def __init__(self, max_bytes: int):
        self.max_bytes = int(max_bytes)
        self.bytes = 0
        self._data: OrderedDict[str, tuple[frozenset[str], int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> frozenset[str] | None:
        with self._lock:
            hit = self._data.get(text)
            if hit is None:
                return None
            self._data.move_to_end(text)
            return hit[0]

    def put(self, text: str, words: frozenset[str]) -> None:
        size = sys.getsizeof(text) + sys.getsizeof(words) + sum(sys.getsizeof(w) for w in words)
        if size > self.max_bytes // 64:  # one huge text would evict everything useful
            return
        with self._lock:
            if text in self._data:
                return
            self._data[text] = (words, size)
            self.bytes += size
            while self.bytes > self.max_bytes:
                _, (_, old) = self._data.popitem(last=False)
                self.bytes -= old

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.bytes = 0

    def __len__(self) -> int:
        return len(self._data)


_WORDS = _WordCache(WORD_CACHE_BYTES)


def stemmed_words(text: str) -> frozenset[str]:
    """Content words of ``text``, lower-cased and crudely stemmed (cached: contents repeat a lot)."""
    words = _WORDS.get(text)
    if words is None:
        # Crude stemming so "cuts" matches "cut" and "onions" matches "onion".
        words = frozenset(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in content_words(text))
        _WORDS.put(text, words)
    return words


def relevance(focus_words: frozenset[str], content: str) -> int:
    return len(focus_words & stemmed_words(content))


def rank_by_focus(evidence: list[Evidence], focus: str, limit: int) -> tuple[list[Evidence], int]:
    """Most relevant first (ties by time, so the order is deterministic); keep at most ``limit``.

    Returns the kept records and how many were left out.
    """
    if focus:
        fw = stemmed_words(focus)
        if fw:
            evidence = sorted(evidence, key=lambda ev: (-relevance(fw, ev.content), ev.start, ev.video))
    dropped = max(0, len(evidence) - limit)
    return evidence[:limit], dropped
