"""Laying out one video's script: background fillers, context scenes and the short beats inside them.

A family generator describes *what* happens in a video as :class:`Scene` objects: a context
(a 10-90 s visual item such as "the cook starts making the sauce") holding one or more short
:class:`Beat` items (1-4 s: the key evidence, or a distractor that looks like it). This module
decides *when*: it places the scenes at random, non-overlapping times, the beats inside their
scenes, and tiles the whole video with background items from a :class:`~cvr_gym.data.domains.Domain`.
Key beats become :class:`~cvr_gym.core.tasks.EvidenceSpan` records.

Times are laid out in whole tenths of a second so that the JSON stays short and exact.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from cvr_gym.core.evidence import ScriptItem
from cvr_gym.core.tasks import EvidenceSpan, VideoSpec
from cvr_gym.data.difficulty import Difficulty
from cvr_gym.data.domains import Domain

TICK = 10  # ticks per second: layouts use integer tenths of a second
_MARGIN = 5  # ticks kept free between a beat and the edge of its context


@dataclass
class Beat:
    """A short moment inside a scene: key evidence (``key=True``) or a look-alike distractor.

    ``attributes`` carry the structured facts a reader uses (topic, value, ...). ``tag`` names
    the placed item so a family can refer to its time later (e.g. to quote it in the question).
    """

    kind: str
    content: str
    attributes: dict[str, Any] = field(default_factory=dict)
    key: bool = False
    tag: str | None = None


@dataclass
class Scene:
    """A context item (a longer visual description) and the beats that happen during it.

    ``attributes`` (usually empty) are the context item's own structured facts, for families
    whose beats only make sense together with what is on screen around them.
    """

    context: str
    beats: list[Beat] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class PlacedVideo:
    """A laid-out video: its :class:`VideoSpec`, the evidence spans of its key beats, tagged items."""

    spec: VideoSpec
    spans: list[EvidenceSpan]
    tagged: dict[str, ScriptItem]


def ticks(seconds: float) -> int:
    return int(round(seconds * TICK))


def seconds(value: int) -> float:
    return round(value / TICK, 1)


def draw_duration(rng: random.Random, diff: Difficulty) -> int:
    """A video length in ticks, log-uniform over the difficulty's range (short videos stay common)."""
    lo, hi = diff.duration
    if hi <= lo:
        return ticks(lo)
    return ticks(round(math.exp(rng.uniform(math.log(lo), math.log(hi))), 1))


def max_scenes(duration: int) -> int:
    """How many scenes fit a video of ``duration`` ticks without crowding (one per 25 s, at least 1)."""
    return max(1, duration // (25 * TICK))


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    """``total`` ticks cut into ``parts`` non-negative gaps at random points."""
    cuts = sorted(rng.randint(0, total) for _ in range(parts - 1))
    edges = [0, *cuts, total]
    return [b - a for a, b in zip(edges, edges[1:])]


def _place_scenes(rng: random.Random, duration: int, scenes: list[Scene], diff: Difficulty,
                  ordered: bool) -> list[tuple[int, int, Scene, list[tuple[int, int, Beat]]]]:
    klo, khi = ticks(diff.key_length[0]), ticks(diff.key_length[1])
    clo, chi = ticks(diff.context_length[0]), ticks(diff.context_length[1])
    beat_lengths = [[rng.randint(klo, khi) for _ in s.beats] for s in scenes]
    needed = [sum(b) + _MARGIN * (len(b) + 1) for b in beat_lengths]
    lengths = [max(n, rng.randint(clo, chi), 3 * sum(b)) for n, b in zip(needed, beat_lengths)]
    room = int(duration * 0.8)
    if sum(lengths) > room:
        scale = room / sum(lengths)
        lengths = [max(n, int(length * scale)) for n, length in zip(needed, lengths)]
    if sum(lengths) > duration:
        raise ValueError(f"{len(scenes)} scenes do not fit a {seconds(duration)} s video")
    order = list(range(len(scenes)))
    if not ordered:
        rng.shuffle(order)
    gaps = _split(rng, duration - sum(lengths), len(scenes) + 1)
    placed = []
    t = 0
    for slot, i in enumerate(order):
        t += gaps[slot]
        start, end = t, t + lengths[i]
        t = end
        inner = list(zip(beat_lengths[i], scenes[i].beats))
        if not ordered:
            rng.shuffle(inner)
        free = (end - start) - 2 * _MARGIN - sum(b for b, _ in inner) - _MARGIN * max(0, len(inner) - 1)
        inner_gaps = _split(rng, max(0, free), len(inner) + 1)
        u = start + _MARGIN
        beats = []
        for j, (length, beat) in enumerate(inner):
            u += inner_gaps[j] + (_MARGIN if j else 0)
            beats.append((u, u + length, beat))
            u += length
        placed.append((start, end, scenes[i], beats))
    return placed


def _fillers(rng: random.Random, duration: int, domain: Domain, diff: Difficulty) -> list[ScriptItem]:
    lo, hi = diff.filler_range
    count = min(hi, max(lo, round(duration / TICK / 60 * diff.filler_per_minute)))
    count = max(1, min(count, duration // (5 * TICK)))
    pool = domain.background()
    contents = rng.sample(pool, min(count, len(pool)))
    count = len(contents)
    cuts = sorted(rng.sample(range(1, duration), count - 1)) if count > 1 else []
    edges = [0, *cuts, duration]
    return [ScriptItem(start=seconds(a), end=seconds(b), kind="visual", content=c)
            for a, b, c in zip(edges, edges[1:], contents)]


def _extras(rng: random.Random, duration: int, domain: Domain) -> list[ScriptItem]:
    """A few on-screen captions, props, background sounds and chatter that carry no answer."""
    minutes = duration / TICK / 60
    items: list[ScriptItem] = []

    def window(lo_s: float, hi_s: float) -> tuple[float, float]:
        length = min(duration, rng.randint(ticks(lo_s), ticks(hi_s)))
        start = rng.randint(0, duration - length)
        return seconds(start), seconds(start + length)

    plan = [
        ("text", domain.captions, 1 + (minutes > 10), (3.0, 8.0)),
        ("object", domain.props, 1 + (minutes > 20), (5.0, 20.0)),
        ("sound", domain.sounds, 1 + (minutes > 10), (10.0, max(10.0, duration / TICK * 0.4))),
        ("speech", domain.lines, 1 + (minutes > 5), (2.0, 5.0)),
    ]
    for kind, pool, n, (lo_s, hi_s) in plan:
        for content in rng.sample(pool, min(n, len(pool))):
            start, end = window(lo_s, hi_s)
            items.append(ScriptItem(start=start, end=end, kind=kind, content=content))
    return items


def build_video(rng: random.Random, index: int, duration: int, scenes: list[Scene], domain: Domain,
                diff: Difficulty, ordered: bool = False) -> PlacedVideo:
    """Lay out one video of ``duration`` ticks holding ``scenes`` over a ``domain`` background.

    With ``ordered=True`` scenes (and beats within a scene) keep their list order in time.
    """
    items = _fillers(rng, duration, domain, diff) + _extras(rng, duration, domain)
    spans: list[EvidenceSpan] = []
    tagged: dict[str, ScriptItem] = {}
    for start, end, scene, beats in _place_scenes(rng, duration, scenes, diff, ordered):
        items.append(ScriptItem(start=seconds(start), end=seconds(end), kind="visual", content=scene.context,
                                attributes=dict(scene.attributes)))
        for b_start, b_end, beat in beats:
            item = ScriptItem(start=seconds(b_start), end=seconds(b_end), kind=beat.kind,
                              content=beat.content, attributes=dict(beat.attributes))
            items.append(item)
            if beat.key:
                spans.append(EvidenceSpan(video=index, start=item.start, end=item.end))
            if beat.tag:
                tagged[beat.tag] = item
    items.sort(key=lambda it: (it.start, it.end, it.kind, it.content))
    spec = VideoSpec(index=index, duration=seconds(duration), script=tuple(items))
    return PlacedVideo(spec, spans, tagged)
