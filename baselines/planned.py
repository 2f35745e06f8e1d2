"""Agents that follow a fixed plan of tool calls, then answer from the gathered evidence."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from cvr_gym.core.actions import ToolCall
from cvr_gym.core.limits import Limits
from cvr_gym.core.view import TaskView
from cvr_gym.data.readers import READERS, read_answer


class PlannedAgent:
    """Base class: build a list of tool calls at reset, send one per step, then answer.

    Subclasses implement :meth:`plan`. Evidence returned by every step (``info["evidence"]``) is
    gathered and handed to the answer reader (:func:`cvr_gym.data.readers.read_answer`). The agent
    answers early when only one step is left, so a plan longer than the step limit still ends with
    an answer.

    Arguments:
        action_space: the env's :class:`~cvr_gym.core.spaces.ToolCallSpace` (for per-call limits);
            ``None`` assumes the env defaults.
        reader: ``"auto"``, ``"family"`` or ``"generic"`` (see :mod:`cvr_gym.data.readers`).
    """

    name = "planned"

    def __init__(self, action_space: Any | None = None, reader: str = "auto"):
        if reader not in READERS:
            raise ValueError(f"unknown reader {reader!r}; readers are {', '.join(READERS)}")
        self.reader = reader
        self.base_limits = Limits.from_space(action_space)
        self.limits = self.base_limits
        self.view: Any = None
        self.evidence: list[Any] = []
        self._queue: list[ToolCall | list[ToolCall]] = []

    # -- protocol -------------------------------------------------------------------------------
    def reset(self, obs: str, info: dict[str, Any], *, seed: int | None = None) -> None:
        self.limits = Limits.from_info(info, self.base_limits)
        self.view = TaskView.from_info(info)
        self.evidence = []
        self._queue = bundle(self.plan(info), self.limits.max_steps - 1)

    def act(self, obs: str, info: dict[str, Any]) -> ToolCall | list[ToolCall]:
        self.evidence.extend(info.get("evidence") or ())
        step = int(info.get("step", 0))
        if self._queue and step < self.limits.max_steps - 1:
            return self._queue.pop(0)
        return ToolCall.answer(read_answer(self.view, self.evidence, self.reader))

    # -- to override ------------------------------------------------------------------------------
    def plan(self, info: dict[str, Any]) -> list[ToolCall]:
        raise NotImplementedError


def bundle(calls: Sequence[ToolCall], steps: int) -> list[ToolCall | list[ToolCall]]:
    """One call per step, or several calls per step (a list action) when the plan has more calls
    than ``steps`` steps; order is kept."""
    calls = list(calls)
    if len(calls) <= steps or steps < 1:
        return calls
    per = math.ceil(len(calls) / steps)
    return [calls[i:i + per] for i in range(0, len(calls), per)]


def pack_targets(targets: Sequence[tuple[int, float, float, int]], limits: Limits,
                 focus: str = "") -> list[ToolCall]:
    """Group observe targets into as few calls as ``max_targets`` allows (order kept)."""
    step = max(1, limits.max_targets)
    return [ToolCall.observe_many(list(targets[i:i + step]), focus=focus) for i in range(0, len(targets), step)]


def split_window(video: int, start: float, end: float, frames: int, limits: Limits) -> list[tuple[int, float, float, int]]:
    """One target, or ``k`` equal sub-windows when ``frames`` exceeds the per-target limit.

    Frames sit at the bin centres of a window, so ``k`` equal sub-windows of ``n`` frames each
    sample exactly the times one window of ``k * n`` frames would. ``frames`` is rounded down to
    a multiple of ``k`` (losing fewer than ``k`` frames) to keep that uniform spacing.
    """
    pieces = max(1, math.ceil(frames / max(1, limits.max_frames_per_target)))
    per = max(1, frames // pieces)
    width = (end - start) / pieces
    return [(video, round(start + k * width, 3), round(start + (k + 1) * width, 3), per) for k in range(pieces)]


def fit_budget(frames: Sequence[int], budget: int, floor: int = 1) -> list[int]:
    """Scale frame counts down proportionally so that they sum to at most ``budget``."""
    total = sum(frames)
    if total <= budget or total == 0:
        return list(frames)
    scale = budget / total
    out = [max(floor, int(f * scale)) for f in frames]
    while sum(out) > budget and max(out) > 1:
        i = out.index(max(out))
        out[i] -= 1
    return out
