"""Pieces every family shares: the :class:`Draft` a generator returns and reader helpers.

Reader helpers work on :class:`~cvr_gym.core.evidence.Evidence` lists as agents gather them:
possibly with duplicates (the same item seen by several calls), with many irrelevant records,
and with missing pieces. They never raise on odd input.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cvr_gym.core.evidence import Evidence
from cvr_gym.core.tasks import OPTION_LETTERS, EvidenceSpan
from cvr_gym.data.difficulty import Difficulty
from cvr_gym.data.domains import Domain
from cvr_gym.data.timeline import PlacedVideo, Scene, build_video, draw_duration, max_scenes



@dataclass
class Draft:
    """A generated task before ids and metadata are attached.

    ``evidence`` defaults to the spans of every key beat in ``videos``; ``chance`` is the
    expected score of a uniform random answer (stored in ``meta["chance"]``).
    """

    question: str
    answer_type: str
    answer: Any
    videos: list[PlacedVideo]
    chance: float
    options: list[str] = field(default_factory=list)
    answer_video: int | None = None
    scoring_points: list[str] = field(default_factory=list)
    evidence: list[EvidenceSpan] | None = None


# -- generation helpers ------------------------------------------------------------------------

def num_videos(rng: random.Random, diff: Difficulty, minimum: int = 2) -> int:
    lo, hi = diff.num_videos
    return rng.randint(max(lo, minimum), max(hi, minimum))


def durations(rng: random.Random, diff: Difficulty, n: int) -> list[int]:
    return [draw_duration(rng, diff) for _ in range(n)]


def distractor_count(diff: Difficulty, duration: int, key_scenes: int) -> int:
    """Distractor scenes that fit beside ``key_scenes`` scenes in a video of ``duration`` ticks."""
    return max(0, min(diff.distractors, max_scenes(duration) - key_scenes))


class TaskRandom(random.Random):
    """A task's random stream that can also draw *balanced* gold positions.

    ``balanced(k)`` returns an index in ``range(k)``; over ``k`` consecutive tasks of a family
    (same ``key``, indices ``b*k .. b*k + k - 1``) every index comes up exactly once, in a random
    order. So a fixed guess ("always A") scores exactly chance on every block of tasks, not just
    on average. Other draws use the ordinary stream.
    """

    def __init__(self, seed: str, key: str | None = None, index: int = 0):
        super().__init__(seed)
        self.key, self.index = key, index

    def balanced(self, k: int) -> int:
        if self.key is None or k <= 1:
            return self.randrange(k) if k > 1 else 0
        block = random.Random(f"{self.key}:{k}:{self.index // k}")
        return block.sample(range(k), k)[self.index % k]


def balanced(rng: random.Random, k: int) -> int:
    """A gold position in ``range(k)``: balanced for a :class:`TaskRandom`, plain uniform otherwise."""
    draw = getattr(rng, "balanced", None)
    return draw(k) if draw is not None else rng.randrange(k)


def place_gold(rng: random.Random, gold: str, others: Sequence[str]) -> tuple[list[str], int]:
    """Options with ``gold`` at a (balanced) uniformly random position; returns the options and its index."""
    options = list(others)
    rng.shuffle(options)
    pos = balanced(rng, len(options) + 1)
    options.insert(pos, gold)
    return options, pos


def nonempty_subset(rng: random.Random, n: int) -> list[int]:
    """A subset of ``range(n)`` drawn (balanced) uniformly among the non-empty ones."""
    mask = balanced(rng, 2 ** n - 1) + 1
    return [i for i in range(n) if mask >> i & 1]


def video_options(n: int) -> list[str]:
    return [f"Video {i}" for i in range(1, n + 1)]


# -- reader helpers ------------------------------------------------------------------------------

@lru_cache(maxsize=4096)
def _pattern(phrase: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z0-9])" + re.escape(phrase.lower()) + r"(?![a-z0-9])")


def mentions(text: str, phrase: Any) -> bool:
    """Whether ``phrase`` occurs in ``text`` as whole words (case-insensitive)."""
    if not isinstance(phrase, str) or not phrase:
        return False
    return _pattern(phrase).search(text.lower()) is not None


def attr(ev: Any, key: str) -> Any:
    attributes = getattr(ev, "attributes", None)
    return attributes.get(key) if isinstance(attributes, dict) else None


def unique(evidence: Iterable[Any]) -> list[Evidence]:
    """Merge records of the same item (same video, kind, content and attributes): earliest start, latest end.

    Keeps only well-formed records (``Evidence`` or anything with the same fields); the order is
    by video then time, so readers are deterministic whatever order calls were made in.
    """
    merged: dict[tuple[int, str, str, str], Evidence] = {}
    for ev in evidence:
        try:
            attributes = ev.attributes if isinstance(getattr(ev, "attributes", None), dict) else {}
            key = (int(ev.video), str(ev.kind), str(ev.content), json.dumps(attributes, sort_keys=True, default=str))
            start, end = float(ev.start), float(ev.end)
        except (AttributeError, TypeError, ValueError):
            continue
        old = merged.get(key)
        if old is None:
            merged[key] = Evidence(key[0], start, end, key[1], key[2], dict(attributes))
        else:
            old.start, old.end = min(old.start, start), max(old.end, end)
    return sorted(merged.values(), key=lambda e: (e.video, e.start, e.end, e.kind, e.content,
                                                  json.dumps(e.attributes, sort_keys=True, default=str)))


def about(evidence: Iterable[Any], question: str, *keys: str) -> list[Evidence]:
    """Unique records whose attributes ``keys`` are all present and all named in ``question``."""
    return [ev for ev in unique(evidence) if all(mentions(question, attr(ev, k)) for k in keys)]


def with_attr(evidence: Iterable[Evidence], key: str, value: Any) -> list[Evidence]:
    return [ev for ev in evidence if attr(ev, key) == value]


def video_numbers(text: str) -> list[int]:
    """Video numbers named in ``text`` ("video 2", "videos 1 and 3"), in order of appearance."""
    found = []
    for m in re.finditer(r"\bvideos?\s+(\d+)(?:\s*(?:,|and)\s*(\d+))*", text, re.IGNORECASE):
        for n in re.findall(r"\d+", m.group(0)):
            if int(n) not in found:
                found.append(int(n))
    return found


def option_index(options: Sequence[str], value: Any) -> int | None:
    """Index of the option equal to ``value`` (case-insensitive), else of one that names it."""
    if not isinstance(value, str):
        return None
    low = value.lower()
    for i, opt in enumerate(options):
        if opt.lower() == low:
            return i
    for i, opt in enumerate(options):
        if mentions(opt, value):
            return i
    return None


def letter(index: int) -> str:
    return OPTION_LETTERS[index]


def lay_out(rng: random.Random, diff: Difficulty, lengths: Sequence[int], scenes: Sequence[list[Scene]],
            distractor: Callable[[random.Random, int], Scene], domain: Domain,
            ordered: bool = False) -> list[PlacedVideo]:
    """Build every video: its ``scenes`` plus as many ``distractor(rng, video)`` scenes as fit.

    With ``ordered=True`` the given scenes keep their order in time and distractor scenes are
    slotted in at random places between them.
    """
    videos = []
    for index, (length, own) in enumerate(zip(lengths, scenes), start=1):
        video_scenes = list(own)
        for _ in range(distractor_count(diff, length, len(own))):
            extra = distractor(rng, index)
            if ordered:
                video_scenes.insert(rng.randint(0, len(video_scenes)), extra)
            else:
                video_scenes.append(extra)
        videos.append(build_video(rng, index, length, video_scenes, domain, diff, ordered=ordered))
    return videos
