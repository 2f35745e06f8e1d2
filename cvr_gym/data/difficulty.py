"""Difficulty knobs of the procedural generator and the three presets.

A :class:`Difficulty` fixes how many videos a task has, how long they are, how short the key
evidence is, how many distractor scenes hide among the fillers and how dense the background
timeline is. ``"mixed"`` is not a preset but a rule: each task draws one of the presets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Difficulty:
    """How hard generated tasks are. All ranges are inclusive ``(low, high)``.

    Arguments:
        name: label stored in each task's ``meta["difficulty"]``.
        num_videos: how many videos a task has (2 to 4).
        duration: length of each video in seconds.
        key_length: length in seconds of each key evidence item (what the answer rests on).
        context_length: length in seconds of the "context" scene around each key item; a coarse
            scan finds the context, zooming into it finds the key.
        distractors: distractor scenes per video (similar items with other values).
        filler_per_minute: background items per minute of video (scene descriptions that carry
            no answer); clamped to ``filler_range`` items per video.
        filler_range: fewest and most background visual items per video.
    """

    name: str = "medium"
    num_videos: tuple[int, int] = (2, 3)
    duration: tuple[float, float] = (120.0, 600.0)
    key_length: tuple[float, float] = (1.5, 3.5)
    context_length: tuple[float, float] = (15.0, 60.0)
    distractors: int = 2
    filler_per_minute: float = 1.0
    filler_range: tuple[int, int] = (3, 10)

    def __post_init__(self) -> None:
        lo, hi = self.num_videos
        if not 2 <= lo <= hi <= 4:
            raise ValueError(f"num_videos must satisfy 2 <= low <= high <= 4, got {self.num_videos}")
        for field_name in ("duration", "key_length", "context_length"):
            lo_f, hi_f = getattr(self, field_name)
            if not 0 < lo_f <= hi_f:
                raise ValueError(f"{field_name} must satisfy 0 < low <= high, got {(lo_f, hi_f)}")
        if self.duration[0] < 30.0 or self.duration[1] > 1800.0:
            raise ValueError(f"duration must lie within 30 s .. 1800 s, got {self.duration}")
        if self.key_length[1] * 3 > self.context_length[1]:
            raise ValueError("context_length must be at least three times key_length")
        if self.distractors < 0 or self.filler_per_minute < 0:
            raise ValueError("distractors and filler_per_minute must be non-negative")
        if not 1 <= self.filler_range[0] <= self.filler_range[1]:
            raise ValueError(f"filler_range must satisfy 1 <= low <= high, got {self.filler_range}")

    def with_overrides(self, **overrides: Any) -> "Difficulty":
        """A copy with the given fields replaced (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "num_videos": list(self.num_videos), "duration": list(self.duration),
            "key_length": list(self.key_length), "context_length": list(self.context_length),
            "distractors": self.distractors, "filler_per_minute": self.filler_per_minute,
            "filler_range": list(self.filler_range),
        }


EASY = Difficulty(
    name="easy", num_videos=(2, 3), duration=(30.0, 150.0), key_length=(2.5, 4.0),
    context_length=(12.0, 30.0), distractors=1, filler_per_minute=2.0, filler_range=(2, 5),
)
MEDIUM = Difficulty(name="medium")
HARD = Difficulty(
    name="hard", num_videos=(3, 4), duration=(600.0, 1800.0), key_length=(1.5, 4.0),
    context_length=(40.0, 90.0), distractors=3, filler_per_minute=0.5, filler_range=(6, 14),
)

#: The presets by name. ``"mixed"`` (see :func:`resolve_difficulty`) draws one per task.
DIFFICULTIES: dict[str, Difficulty] = {d.name: d for d in (EASY, MEDIUM, HARD)}
MIXED = "mixed"


def resolve_difficulty(difficulty: str | Difficulty | Sequence[Difficulty], **overrides: Any) -> tuple[Difficulty, ...]:
    """The presets a run draws from: one for a preset or a :class:`Difficulty`, three for ``mixed``
    (a sequence of :class:`Difficulty` is a custom mix: each task draws one).

    ``overrides`` (e.g. ``duration=(60, 300)``) are applied to every returned preset.
    """
    if isinstance(difficulty, Difficulty):
        chosen: tuple[Difficulty, ...] = (difficulty,)
    elif not isinstance(difficulty, str) and isinstance(difficulty, Sequence) and difficulty:
        chosen = tuple(difficulty)
    elif difficulty == MIXED:
        chosen = (EASY, MEDIUM, HARD)
    elif difficulty in DIFFICULTIES:
        chosen = (DIFFICULTIES[difficulty],)
    else:
        raise ValueError(f"unknown difficulty {difficulty!r}; use one of {[*DIFFICULTIES, MIXED]}")
    return tuple(d.with_overrides(**overrides) for d in chosen)
