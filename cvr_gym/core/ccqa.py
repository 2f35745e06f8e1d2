"""Free-text (CCQA) scoring that knows which video a statement is about and whether it is negated.

Plain word coverage gives full marks to an answer that swaps the videos ("video B uses honey"
for "video A uses honey") or negates a point ("it does not use honey"). Here both the answer and
the reference are cut into clauses; each clause carries the videos it names (or inherits the
previous clause's) and a polarity. A scoring point is covered by an answer clause that holds
enough of the point's words, names the point's video (from the point itself, else from the
reference clause the point comes from) and has the point's polarity.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_VIDEO = re.compile(
    r"\b(?:(?:video|clip|view)\s*([a-d1-4])\b|(first|second|third|fourth)\s+(?:video|clip|view))", re.IGNORECASE)
_ORDINAL = {"first": "1", "second": "2", "third": "3", "fourth": "4"}
_LETTER = {"a": "1", "b": "2", "c": "3", "d": "4"}
_CLAUSE_BREAK = re.compile(r"[.;:\n!?]+|,\s*(?:while|whereas|but)\b|\b(?:while|whereas|but|however)\b|,")
_NEGATION = frozenset("not no never without neither nor none nothing cannot isn't doesn't don't didn't wasn't "
                      "aren't weren't won't hasn't haven't".split())
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_STOP = frozenset(
    "a an the and or of to in on at for with by is are was were be been it its this that these those as from into "
    "than then there their they he she his her we you i do does did both each video videos clip view uses use used "
    "using".split())


@dataclass(frozen=True)
class Clause:
    words: frozenset[str]
    videos: frozenset[str]
    negated: bool


def _video_ids(text: str) -> frozenset[str]:
    ids = set()
    for m in _VIDEO.finditer(text):
        if m.group(1):
            key = m.group(1).lower()
            ids.add(_LETTER.get(key, key))
        else:
            ids.add(_ORDINAL[m.group(2).lower()])
    return frozenset(ids)


# "A uses a wok; B fries the egg": a bare capital letter opening a clause names a video. "A" is
# also an article, so it counts only when a bare "B" does too somewhere in the text.
_BARE = re.compile(r"^\s*(?:in\s+)?([A-D])\b(?=\s*[a-z:(])")


def clauses(text: str) -> list[Clause]:
    """``text`` cut into clauses with their words, videos (inherited when unnamed) and polarity."""
    out: list[Clause] = []
    current: frozenset[str] = frozenset()
    parts = _CLAUSE_BREAK.split(text)
    bare_b = any((m := _BARE.match(p)) and m.group(1) == "B" for p in parts)
    for part in parts:
        if not part.strip():
            continue
        named = _video_ids(part)
        bare = _BARE.match(part)
        if not named and bare and (bare.group(1) != "A" or bare_b):
            named = frozenset({_LETTER[bare.group(1).lower()]})
            part = part[bare.end():]
        if named:
            current = named
        tokens = _TOKEN.findall(_VIDEO.sub(" ", part.lower()))
        negated = sum(t in _NEGATION or t.endswith("n't") for t in tokens) % 2 == 1
        words = frozenset(t for t in tokens if t not in _STOP and t not in _NEGATION)
        if words:
            out.append(Clause(words, current, negated))
    return out


def _share(point: Clause, clause: Clause) -> float:
    return len(point.words & clause.words) / len(point.words) if point.words else 0.0


def point_clause(point: str, reference: str = "") -> Clause | None:
    """The point as one clause; its videos come from the reference clause it matches best when
    the point names none."""
    parts = clauses(point)
    if not parts:
        return None
    words = frozenset().union(*(c.words for c in parts))
    videos = frozenset().union(*(c.videos for c in parts))
    negated = any(c.negated for c in parts)
    merged = Clause(words, videos, negated)
    if not videos and reference:
        ranked = sorted(((_share(merged, c), c) for c in clauses(reference)), key=lambda x: -x[0])
        if ranked and ranked[0][0] > 0 and ranked[0][1].videos and (len(ranked) == 1 or ranked[1][0] < ranked[0][0]):
            merged = Clause(words, ranked[0][1].videos, negated)
    return merged


def covered(answer: str, point: str, reference: str = "", threshold: float = 0.5) -> bool:
    target = point_clause(point, reference)
    if target is None:
        return False
    for clause in clauses(answer):
        if _share(target, clause) < threshold or clause.negated != target.negated:
            continue
        if target.videos and not target.videos <= clause.videos:
            continue
        return True
    return False


def score_points_aware(answer: str, points: Sequence[str], reference: str = "", threshold: float = 0.5) -> float:
    """Share of ``points`` covered by ``answer`` (video identity and negation respected)."""
    if not points:
        return 0.0
    return sum(covered(answer, p, reference, threshold) for p in points) / len(points)
