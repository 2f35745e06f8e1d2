"""``random``: random valid tool calls, then a random answer of the right type."""

from __future__ import annotations

from typing import Any

import numpy as np

from cvr_gym.core.actions import ToolCall
from cvr_gym.core.limits import Limits
from cvr_gym.core.spaces import ToolCallSpace, sample_answer


class RandomAgent:
    """Send a random number of random observe/listen calls, then a random answer.

    At reset the agent draws how many looking steps to take (0 to ``max_steps - 2``); each looking
    step is drawn from its own seeded :class:`~cvr_gym.core.spaces.ToolCallSpace` with the
    episode's ``info["action_context"]`` as mask (calls that fit the task), redrawn when it is an
    answer; an observe that would overrun the frame budget is replaced by the answer. The answer
    is a random one of the task's answer type (:func:`~cvr_gym.core.spaces.sample_answer`): the
    chance level.

    Arguments:
        seed: seed of the agent's random generator (``reset(..., seed=s)`` re-seeds per episode).
        action_space: the env's action space (its limits bound the sampled calls).
    """

    name = "random"

    def __init__(self, seed: int | None = 0, action_space: Any | None = None):
        self.base_limits = Limits.from_space(action_space)
        self.limits = self.base_limits
        self.space = ToolCallSpace(max_videos=self.base_limits.max_videos,
                                   max_duration=float(getattr(action_space, "max_duration", 1800.0)),
                                   max_frames_per_target=self.base_limits.max_frames_per_target,
                                   max_targets=self.base_limits.max_targets)
        self._seed(seed)
        self._looks = 0
        self._context: dict[str, Any] = {}

    @classmethod
    def from_spec(cls, arg: str | None, seed: int = 0, action_space: Any | None = None) -> "RandomAgent":
        """random valid tool calls, then a random answer of the right type (chance level)."""
        return cls(seed, action_space=action_space)

    def _seed(self, seed: int | None) -> None:
        self.rng = np.random.default_rng(seed)
        self.space.seed(int(self.rng.integers(2**31)))

    def reset(self, obs: str, info: dict[str, Any], *, seed: int | None = None) -> None:
        if seed is not None:
            self._seed(seed)
        self.limits = Limits.from_info(info, self.base_limits)
        self._context = dict(info["action_context"])
        self._looks = int(self.rng.integers(0, max(1, self.limits.max_steps - 1)))

    def act(self, obs: str, info: dict[str, Any]) -> ToolCall:
        step = int(info.get("step", 0))
        frames_left = self.limits.frame_budget - int((info.get("totals") or {}).get("frames", 0))
        if step < self._looks and step < self.limits.max_steps - 1:
            call = self.space.sample(mask=self._context)
            while call.name == "answer":
                call = self.space.sample(mask=self._context)
            if call.frames <= frames_left:
                return call
        ctx = self._context
        return ToolCall.answer(sample_answer(self.rng, ctx.get("answer_type", "single"),
                                             int(ctx.get("num_options", 4)), ctx.get("durations") or (60.0,)))
