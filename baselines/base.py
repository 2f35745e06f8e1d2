"""The agent protocol every reference agent follows, and what agents know about the env's limits."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Protocol, runtime_checkable

_BUDGET = re.compile(r"Budget: (\d+) steps, (\d+) frames")


@runtime_checkable
class Agent(Protocol):
    """What the evaluation harness drives: one agent instance plays one episode at a time.

    ``reset(obs, info, seed=...)`` starts an episode from the env's reset output (``seed``, when
    given, re-seeds the agent's randomness for this episode so that results do not depend on which
    episodes the instance played before); ``act(obs, info)`` returns the next action (a
    :class:`~cvr_gym.core.actions.ToolCall`, a list of them, a dict or text: anything the env's
    ``step`` accepts) given the latest observation and info; ``name`` labels results.
    """

    name: str

    def reset(self, obs: str, info: dict[str, Any], *, seed: int | None = None) -> None: ...

    def act(self, obs: str, info: dict[str, Any]) -> Any: ...


@dataclass(frozen=True)
class Limits:
    """The env limits an agent plans within (defaults: the env's defaults).

    Arguments:
        max_videos: highest video index a call may name.
        max_frames_per_target: frames one observe target may ask for.
        max_targets: targets one observe call may hold.
        frame_budget: frames per episode.
        max_steps: steps per episode.
    """

    max_videos: int = 4
    max_frames_per_target: int = 64
    max_targets: int = 4
    frame_budget: int = 256
    max_steps: int = 12

    @classmethod
    def from_space(cls, action_space: Any | None) -> "Limits":
        """Read the per-call limits from a :class:`~cvr_gym.core.spaces.ToolCallSpace` (or keep defaults)."""
        if action_space is None:
            return cls()
        return cls(
            max_videos=int(getattr(action_space, "max_videos", cls.max_videos)),
            max_frames_per_target=int(getattr(action_space, "max_frames_per_target", cls.max_frames_per_target)),
            max_targets=int(getattr(action_space, "max_targets", cls.max_targets)),
        )

    def with_prompt(self, prompt: str) -> "Limits":
        """Update the episode budget from the prompt's ``Budget: N steps, M frames.`` line."""
        m = _BUDGET.search(prompt or "")
        if not m:
            return self
        return replace(self, max_steps=int(m.group(1)), frame_budget=int(m.group(2)))


def play_episode(env: Any, agent: Agent, options: dict[str, Any] | None = None, seed: int | None = None) -> dict[str, Any]:
    """Reset ``env`` with ``options``, let ``agent`` act until the episode ends, return the last info.

    ``seed``, when given, re-seeds the agent for the episode (``agent.reset(..., seed=seed)``).
    """
    obs, info = env.reset(options=options)
    if seed is None:
        agent.reset(obs, info)
    else:
        agent.reset(obs, info, seed=seed)
    while True:
        obs, _, terminated, truncated, info = env.step(agent.act(obs, info))
        if terminated or truncated:
            return info
