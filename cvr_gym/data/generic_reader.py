"""The generic reader: answers from evidence text for tasks no family reader knows.

It knows nothing about task families: it matches option and question words against the content
of the evidence records (with crude stemming) and applies one rule per answer type. It suits
hand-written and imported suites; generated and corpus suites have exact family readers
(:mod:`cvr_gym.data.readers` picks one).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from cvr_gym.core.scoring import content_words
from cvr_gym.core.tasks import OPTION_LETTERS

_NUMBER = re.compile(r"\b\d+\b")
_VIDEO_OPTION = re.compile(r"^\s*video\s+(\d+)\s*$", re.IGNORECASE)


def _stems(text: str) -> set[str]:
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in content_words(text)}


def _text(ev: Any) -> str:
    attrs = getattr(ev, "attributes", None) or {}
    return " ".join([ev.content, *(str(v) for v in attrs.values())])


def _overlap(option: str, ev: Any) -> int:
    return len(_stems(option) & _stems(_text(ev)))


def read_answer(view: Any, evidence: Sequence[Any]) -> Any:
    """An answer of the view's answer type derived from ``evidence`` (Evidence records)."""
    kind = view.answer_type
    options = tuple(view.options)
    letters = OPTION_LETTERS[: len(options)]
    if kind == "single":
        return letters[_best_option(options, evidence)] if options else "A"
    if kind == "multi":
        return _multi(view, options, evidence) or [letters[0]]
    if kind == "order":
        return _order(options, evidence)
    if kind == "interval":
        return _interval(view, evidence)
    if kind == "count":
        return _count(view, evidence)
    return _summary(evidence)


def _best_option(options: Sequence[str], evidence: Sequence[Any]) -> int:
    def support(i: int) -> tuple[int, int]:
        hits = [ev for ev in evidence if _overlap(options[i], ev)]
        return len({ev.video for ev in hits}), len(hits)

    return max(range(len(options)), key=lambda i: (support(i), -i))


def _multi(view: Any, options: Sequence[str], evidence: Sequence[Any]) -> list[str]:
    question = _stems(view.question)
    chosen = []
    for i, opt in enumerate(options):
        m = _VIDEO_OPTION.match(opt)
        if m:
            video = int(m.group(1))
            hit = any(ev.video == video and question & _stems(_text(ev)) for ev in evidence)
        else:
            hit = any(_overlap(opt, ev) for ev in evidence)
        if hit:
            chosen.append(OPTION_LETTERS[i])
    return chosen


def _order(options: Sequence[str], evidence: Sequence[Any]) -> list[str]:
    def when(i: int) -> tuple[float, float, int]:
        best = max(evidence, key=lambda ev: (_overlap(options[i], ev), -ev.video, -ev.start), default=None)
        if best is None or not _overlap(options[i], best):
            return (float("inf"), float("inf"), i)
        return (best.video, best.start, i)

    return [OPTION_LETTERS[i] for i in sorted(range(len(options)), key=when)]


def _interval(view: Any, evidence: Sequence[Any]) -> list[float]:
    video = view.answer_video or 1
    inside = [ev for ev in evidence if ev.video == video]
    others = [ev for ev in evidence if ev.video != video]
    if others:
        # The moment in the answer video that looks like what the other videos show.
        matched = [ev for ev in inside if any(_stems(ev.content) & _stems(o.content) for o in others)]
        inside = matched or inside
    if not inside:
        duration = view.durations[video - 1] if len(view.durations) >= video else 10.0
        return [0.0, round(duration, 1)]
    inside = [ev for ev in inside if (ev.end - ev.start) < 0.9 * max(view.durations or (1e9,))] or inside
    return [round(min(ev.start for ev in inside)), round(max(ev.end for ev in inside))]


def _count(view: Any, evidence: Sequence[Any]) -> int:
    question = _stems(view.question)
    relevant = [ev for ev in evidence if question & _stems(_text(ev))]
    seen: set[tuple[int, str]] = set()
    total = 0
    for ev in relevant:
        key = (ev.video, ev.content)
        if key in seen:
            continue
        seen.add(key)
        numbers = _NUMBER.findall(ev.content)
        total += int(numbers[0]) if numbers else 1
    return total


def _summary(evidence: Sequence[Any]) -> str:
    parts, seen = [], set()
    for ev in sorted(evidence, key=lambda e: (e.video, e.start)):
        if (ev.video, ev.content) not in seen:
            seen.add((ev.video, ev.content))
            parts.append(f"video {ev.video}: {ev.content}")
    return "; ".join(parts) or "no evidence"
