"""Focus prompts: order evidence by relevance to what the agent asked to look for."""

from __future__ import annotations

from functools import lru_cache

from cvr_gym.core.evidence import Evidence
from cvr_gym.core.scoring import content_words


@lru_cache(maxsize=65_536)
def stemmed_words(text: str) -> frozenset[str]:
    """Content words of ``text``, lower-cased and crudely stemmed (cached: contents repeat a lot)."""
    words = content_words(text)
    # Crude stemming so "cuts" matches "cut" and "onions" matches "onion".
    return frozenset(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words)


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
