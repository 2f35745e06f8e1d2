"""The agent protocol and the one episode loop every runner, trainer and comparison uses.

An agent is any object with ``name``, ``reset(obs, info, seed=None)`` and ``act(obs, info)``.
:class:`EpisodeRun` drives one agent through one episode a step at a time (so a vector runner can
interleave many); :func:`play_episode` is the whole loop for one env.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from cvr_gym.core.limits import Limits

__all__ = ["Agent", "EpisodeRun", "Limits", "Step", "play_episode"]


@runtime_checkable
class Agent(Protocol):
    """What the evaluation harness drives: one agent instance plays one episode at a time.

    ``reset(obs, info, seed=...)`` starts an episode from the env's reset output (``seed``, when
    given, re-seeds the agent's randomness for this episode so that results do not depend on which
    episodes the instance played before; an agent whose ``reset`` takes no ``seed`` is still
    accepted); ``act(obs, info)`` returns the next action (a
    :class:`~cvr_gym.core.actions.ToolCall`, a list of them, a dict or text: anything the env's
    ``step`` accepts) given the latest observation and info; ``name`` labels results. The episode's
    limits are in the reset info: ``Limits.from_info(info)``. An agent may also have
    ``episode_stats() -> dict`` (counters of its own, e.g. an LLM's resampled replies): the
    evaluation runner stores it in the episode record as ``agent_stats``.
    """

    name: str

    def reset(self, obs: str, info: dict[str, Any], *, seed: int | None = None) -> None: ...

    def act(self, obs: str, info: dict[str, Any]) -> Any: ...


@dataclass(frozen=True)
class Step:
    """One env step as the loop saw it (what :class:`EpisodeRun` hands to ``on_step``)."""

    action: Any
    obs: Any
    reward: float
    terminated: bool
    truncated: bool
    info: dict[str, Any]
    wall_s: float


def takes_seed(agent: Any) -> bool:
    """Whether ``agent.reset`` accepts ``seed=`` (the protocol's optional per-episode seed)."""
    try:
        params = inspect.signature(agent.reset).parameters
    except (TypeError, ValueError):
        return True
    return "seed" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


class EpisodeRun:
    """One agent playing one episode, fed the env's outputs one step at a time.

    ``begin(obs, info)`` resets the agent and returns its first action; ``advance(step)`` takes the
    env's answer to that action and returns the next one. Both return ``None`` once the episode is
    over: the env ended it, or the agent raised (with ``catch_errors=True`` the error is kept in
    :attr:`error` and ends only this episode; otherwise it propagates).

    Arguments:
        agent: an :class:`Agent`.
        seed: the agent's seed for this episode (``None``: the agent keeps its own stream).
        on_step: called with every :class:`Step` (recorders, shadow envs, timers).
        catch_errors: turn an agent's exception into the end of its episode.
    """

    def __init__(self, agent: Any, seed: int | None = None, on_step: Callable[[Step], None] | None = None,
                 catch_errors: bool = False):
        self.agent = agent
        self.seed = seed
        self.on_step = on_step
        self.catch_errors = catch_errors
        self.error: str | None = None
        self.info: dict[str, Any] = {}
        self.done = False

    def begin(self, obs: Any, info: dict[str, Any]) -> Any | None:
        self.info, self.done, self.error = info, False, None
        try:
            if self.seed is not None and takes_seed(self.agent):
                self.agent.reset(obs, info, seed=self.seed)
            else:
                self.agent.reset(obs, info)
        except Exception as err:
            return self._failed(err)
        return self._act(obs, info)

    def advance(self, step: Step) -> Any | None:
        self.info = step.info
        if self.on_step is not None:
            self.on_step(step)
        if step.terminated or step.truncated:
            self.done = True
            return None
        return self._act(step.obs, step.info)

    def _act(self, obs: Any, info: dict[str, Any]) -> Any | None:
        try:
            return self.agent.act(obs, info)
        except Exception as err:
            return self._failed(err)

    def _failed(self, err: Exception) -> None:
        if not self.catch_errors:
            raise err
        self.error = f"{type(err).__name__}: {err}"
        self.done = True
        return None


def timed_step(env: Any, action: Any) -> Step:
    """``env.step(action)`` as a :class:`Step`, with its wall time."""
    t0 = time.perf_counter()
    obs, reward, terminated, truncated, info = env.step(action)
    return Step(action, obs, float(reward), bool(terminated), bool(truncated), info, time.perf_counter() - t0)


def play_episode(env: Any, agent: Any, options: dict[str, Any] | None = None, seed: int | None = None, *,
                 env_seed: int | None = None, on_step: Callable[[Step], None] | None = None,
                 catch_errors: bool = False) -> dict[str, Any]:
    """Reset ``env`` (``env_seed``, ``options``), let ``agent`` act until the episode ends, return
    the last info.

    ``seed``, when given, re-seeds the agent for the episode (``agent.reset(..., seed=seed)``);
    ``on_step`` sees every step; with ``catch_errors`` an agent's exception ends the episode (the
    message is in the returned info as ``"agent_error"``) instead of propagating.
    """
    obs, info = env.reset(seed=env_seed, options=options)
    run = EpisodeRun(agent, seed=seed, on_step=on_step, catch_errors=catch_errors)
    action = run.begin(obs, info)
    while not run.done:
        action = run.advance(timed_step(env, action))
    if run.error is not None:
        return {**run.info, "agent_error": run.error}
    return run.info
