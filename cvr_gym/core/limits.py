"""The limits an episode runs under, as data: what the env enforces and tells the agent.

The env puts them in its reset info (``info["limits"]``); agents, wrappers and exporters read them
from there with :meth:`Limits.from_info` instead of parsing the prompt text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class Limits:
    """The per-episode budget and the per-call bounds (defaults: the env's defaults).

    Arguments:
        max_steps: steps per episode.
        frame_budget: frames per episode.
        max_frames_per_target: frames one observe target may ask for.
        max_targets: targets one observe call may hold.
        max_videos: highest video index a call may name.
    """

    max_steps: int = 12
    frame_budget: int = 256
    max_frames_per_target: int = 64
    max_targets: int = 4
    max_videos: int = 4

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_info(cls, info: Mapping[str, Any] | None, default: "Limits | None" = None) -> "Limits":
        """The limits in a reset ``info`` (``info["limits"]``); fields it lacks come from
        ``default`` (e.g. :meth:`from_space` of the env's action space) or the class defaults."""
        base = (default or cls()).to_dict()
        given = (info or {}).get("limits") or {}
        names = {f.name for f in fields(cls)}
        return cls(**{**base, **{k: int(v) for k, v in given.items() if k in names}})

    @classmethod
    def from_space(cls, action_space: Any | None) -> "Limits":
        """The per-call bounds of a :class:`~cvr_gym.core.spaces.ToolCallSpace` (budget: defaults)."""
        if action_space is None:
            return cls()
        return cls(
            max_videos=int(getattr(action_space, "max_videos", cls.max_videos)),
            max_frames_per_target=int(getattr(action_space, "max_frames_per_target", cls.max_frames_per_target)),
            max_targets=int(getattr(action_space, "max_targets", cls.max_targets)),
        )
