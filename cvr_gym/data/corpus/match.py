"""Fuzzy text matching and evidence grouping for corpus readers.

Real perception reads text with OCR and speech with Whisper, so a reader cannot expect the exact
words a script holds: ``"THE SECRET INGREDIENT IN HONEY"`` must still count as the secret
ingredient being honey. Everything here uses :mod:`difflib` ratios on normalised text
(lower case, letters and digits only). Records of one scene are grouped by overlapping times:
things seen on the same sampled frames were on screen together.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from difflib import SequenceMatcher
from typing import Any

from cvr_gym.core.evidence import Evidence

_NON_WORD = re.compile(r"[^a-z0-9]+")
_QUOTED = re.compile(r'"([^"]+)"')


def norm(text: str) -> str:
    """Lower case, runs of anything but letters and digits become one space."""
    return _NON_WORD.sub(" ", str(text).lower()).strip()


def ratio(a: str, b: str) -> float:
    """Similarity of two texts in [0, 1] after :func:`norm`."""
    a, b = norm(a), norm(b)
    if not a or not b:
        return 0.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def phrase_score(text: str, phrase: str) -> float:
    """How well ``phrase`` occurs somewhere in ``text``: the best :func:`ratio` of ``phrase``
    against any run of as many words (give or take one) of ``text``."""
    words, target = norm(text).split(), norm(phrase)
    n = len(target.split())
    if not words or not n:
        return 0.0
    best = 0.0
    for size in {max(1, n - 1), n, n + 1}:
        for i in range(max(1, len(words) - size + 1)):
            best = max(best, ratio(" ".join(words[i:i + size]), target))
    return best


def words_after(text: str, phrase: str, cutoff: float = 0.75) -> str | None:
    """The words of ``text`` after the run that best reads like ``phrase`` (``None`` if no run
    reaches ``cutoff``), up to the end of that sentence."""
    for sentence in re.split(r"(?<=[.!?])\s+", str(text)):
        words, target = norm(sentence).split(), norm(phrase)
        n = len(target.split())
        best, end = cutoff, None
        for size in {max(1, n - 1), n, n + 1}:
            for i in range(max(1, len(words) - size + 1)):
                score = ratio(" ".join(words[i:i + size]), target)
                if score >= best:
                    best, end = score, i + size
        if end is not None:
            return " ".join(words[end:])
    return None


def closest(text: str, choices: Iterable[str], cutoff: float = 0.7, within: bool = False) -> str | None:
    """The choice most similar to ``text`` (whole text, or anywhere in it when ``within``), or
    ``None`` if none reaches ``cutoff``."""
    best, best_score = None, cutoff
    for choice in choices:
        score = phrase_score(text, choice) if within else ratio(text, choice)
        if score > best_score or (best is None and score >= best_score):
            best, best_score = choice, score
    return best


def quoted(text: str) -> list[str]:
    """The double-quoted strings of a question, in order."""
    return _QUOTED.findall(text)


def of_kind(evidence: Iterable[Evidence], *kinds: str, video: int | None = None) -> list[Evidence]:
    return [ev for ev in evidence if ev.kind in kinds and (video is None or ev.video == video)]


def together(anchor: Evidence, evidence: Iterable[Evidence], *kinds: str, slack: float = 0.06) -> list[Evidence]:
    """Records of ``kinds`` in the anchor's video whose times overlap the anchor's: on screen
    (or heard) at the same time. ``slack`` seconds of tolerance absorb rounding."""
    return [ev for ev in evidence
            if ev.video == anchor.video and ev.kind in kinds and ev is not anchor
            and ev.start <= anchor.end + slack and ev.end >= anchor.start - slack]


def lines_like(evidence: Iterable[Evidence], phrase: str, cutoff: float = 0.8, video: int | None = None,
               within: bool = False) -> list[Evidence]:
    """Text records that read like ``phrase`` (whole line, or containing it when ``within``)."""
    out = []
    for ev in of_kind(evidence, "text", video=video):
        score = phrase_score(ev.content, phrase) if within else ratio(ev.content, phrase)
        if score >= cutoff:
            out.append(ev)
    return out


def object_count(records: Sequence[Evidence], colour: str) -> int | None:
    """The count of ``colour`` objects among one scene's object records: the longest-seen
    record's (ties: the larger count), ``None`` when no record names the colour."""
    best: tuple[float, int] | None = None
    for ev in records:
        if ev.kind != "object":
            continue
        found_colour = ev.attributes.get("colour") if isinstance(ev.attributes, dict) else None
        count = ev.attributes.get("count") if isinstance(ev.attributes, dict) else None
        words = norm(ev.content).split()
        if found_colour is None and len(words) >= 2:
            found_colour = words[1]
        if not isinstance(count, int) and words and words[0].isdigit():
            count = int(words[0])
        if found_colour != colour or not isinstance(count, int):
            continue
        key = (round(ev.end - ev.start, 3), count)
        if best is None or key > best:
            best = key
    return None if best is None else best[1]


def first_seen(records: Iterable[Evidence]) -> tuple[int, float] | None:
    """(video, time) of the earliest record, or ``None``."""
    keys = [(ev.video, ev.start) for ev in records]
    return min(keys) if keys else None


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]
