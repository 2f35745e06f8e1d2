"""Rewards as a rubric: named, weighted components reported separately.

Per step the env reports ``info["reward_components"]`` (each component's weighted
contribution this step); their sum is the step reward, and over an episode the sums add up to
the return. Components:

- ``outcome``: the answer's score in [0, 1] (see :mod:`cvr_gym.core.scoring`), at ``answer``;
- ``format``: -1 per invalid action (unparseable text, unknown tool, out-of-space arguments);
- ``cost``: minus the share of the frame budget (or visual-token budget) this step spent;
- ``grounding``: at ``answer``, the share of the task's evidence spans the agent looked at or
  listened to (as in Video-o3); off by default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Literal

COMPONENTS = ("outcome", "format", "cost", "grounding")


@dataclass(frozen=True)
class RewardConfig:
    """Weights of the reward components.

    Arguments:
        outcome: weight of the answer score.
        format: weight of the invalid-action penalty (each invalid action contributes ``-format``).
        cost: weight of the cost penalty; spending the whole budget contributes ``-cost``.
        grounding: weight of the evidence-coverage bonus given at ``answer``.
        cost_unit: ``"frames"`` or ``"visual_tokens"`` (same ratio unless calls differ in tokens).
    """

    outcome: float = 1.0
    format: float = 0.1
    cost: float = 0.1
    grounding: float = 0.0
    cost_unit: Literal["frames", "visual_tokens"] = "frames"

    def __post_init__(self) -> None:
        for name in ("outcome", "format", "cost", "grounding"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"reward weight {name!r} must be a finite number, got {value!r}")
            object.__setattr__(self, name, float(value))  # floats, so info types never vary
        if self.cost_unit not in ("frames", "visual_tokens"):
            raise ValueError(f"cost_unit must be 'frames' or 'visual_tokens', got {self.cost_unit!r}")

    @classmethod
    def from_any(cls, value: "RewardConfig | dict | None") -> "RewardConfig":
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if not isinstance(value, Mapping):
            raise TypeError(f"reward must be a RewardConfig or a dict of weights, got {type(value).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = set(value) - known
        if unknown:
            raise ValueError(f"unknown reward weights {sorted(unknown)}; known: {sorted(known)}")
        return cls(**value)

    def weigh(self, outcome: float = 0.0, invalid: int = 0, spent_share: float = 0.0,
              grounding: float = 0.0) -> dict[str, float]:
        """Weighted contributions of one step's raw quantities."""
        return {
            "outcome": self.outcome * outcome,
            "format": -self.format * invalid,
            "cost": -self.cost * spent_share,
            "grounding": self.grounding * grounding,
        }


def span_coverage(spans: Sequence[tuple[int, float, float]], looked: Sequence[tuple[int, float, float]],
                  frame_times: dict[int, list[float]]) -> float:
    """Share of evidence spans the agent touched: a sampled frame inside it or a listened window over it.

    ``spans`` and ``looked`` are ``(video, start, end)``; ``frame_times`` maps video -> frame times.
    """
    if not spans:
        return 0.0
    hit = 0
    for video, start, end in spans:
        seen = any(start <= t <= end for t in frame_times.get(video, ()))
        heard = any(v == video and s < end and e > start for v, s, e in looked)
        hit += seen or heard
    return hit / len(spans)
