"""What a corpus family builder returns: a group of videos and the questions asked about them."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cvr_gym.core.tasks import EvidenceSpan
from cvr_gym.data.corpus.layout import Card, background, draw_duration, lay_out, speech_slot, video
from cvr_gym.data.corpus.plan import Sound, VideoPlan


@dataclass
class Question:
    """One task over a group's videos, before ids are attached.

    ``evidence`` lists ``(video index, tag)`` pairs: the tagged scenes hold what answers it.
    """

    question: str
    answer_type: str
    answer: Any
    evidence: list[tuple[int, str]]
    options: list[str] = field(default_factory=list)
    answer_video: int | None = None
    scoring_points: list[str] = field(default_factory=list)
    chance: float = 0.0


@dataclass
class Group:
    """Videos that belong together (episodes of one story, cameras in one room, ...) and the
    questions asked about them."""

    videos: list[VideoPlan]
    questions: list[Question]

    def spans(self, question: Question) -> tuple[EvidenceSpan, ...]:
        out = []
        for index, tag in question.evidence:
            plan = self.videos[index - 1]
            start, end = plan.visible(plan.scene(tag))
            out.append(EvidenceSpan(video=index, start=start, end=end))
        return tuple(sorted(out, key=lambda s: (s.video, s.start)))


def video_options(n: int) -> list[str]:
    return [f"Video {i}" for i in range(1, n + 1)]


def letter(i: int) -> str:
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[i]


def with_gold(rng: random.Random, gold: str, others: Sequence[str]) -> tuple[list[str], str]:
    """Options with ``gold`` at a random position, and its letter."""
    options = list(others)
    rng.shuffle(options)
    pos = rng.randrange(len(options) + 1)
    options.insert(pos, gold)
    return options, letter(pos)


def build_videos(rng: random.Random, prefix: str, per_video: Sequence[Sequence[Card]],
                 filler: Callable[[int], Callable[[random.Random], Card]], ordered: bool = False,
                 has_audio: bool = True, intro: Callable[[random.Random, int], Card | None] | None = None,
                 ) -> list[VideoPlan]:
    """Lay out one video per entry of ``per_video`` (its cards) at ``{prefix}-{i}.mp4``.

    ``filler(i)`` gives video ``i``'s filler-card maker (so titles can name the video);
    ``intro(rng, i)`` an optional opening card (a title with a narrator's sentence).
    """
    plans = []
    for i, cards in enumerate(per_video, start=1):
        opening = intro(rng, i) if intro is not None else None
        needed = 4.0 + sum(c.length + 3.0 for c in cards) + 1.0 + (opening.length if opening else 0.0)
        duration = draw_duration(rng, needed)
        layout = lay_out(rng, duration, cards, filler(i), ordered=ordered, intro=opening)
        plans.append(video(f"{prefix}-{i}.mp4", duration, layout, has_audio=has_audio))
    return plans


def narrated(title: str, sentence: str) -> Callable[[random.Random, int], Card]:
    """An ``intro`` for :func:`build_videos`: a title card while a narrator speaks ``sentence``
    (``{i}`` in the title becomes the video number)."""
    return lambda rng, i: _narrated(rng, title.format(i=i), sentence)


def _narrated(rng: random.Random, title: str, sentence: str) -> Card:
    slot = speech_slot(sentence)
    return Card(snap_up(slot + 1.5), background(rng), (title,), (), (Sound(0.5, 0.5 + slot, "speech", sentence),))


def snap_up(t: float) -> float:
    return round(-(-t // 0.5) * 0.5, 3)
