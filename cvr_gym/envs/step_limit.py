"""Keep the env's own step limit equal to the ``TimeLimit`` Gymnasium puts around it.

``gym.make("CVRSim-v0", max_episode_steps=5)`` wraps the env in a :class:`~gymnasium.wrappers.TimeLimit`
that the env cannot see. Without help the prompt would still promise the env's ``max_steps`` (12),
the status line would count to 12, ``termination_reason`` would stay empty when the wrapper cuts the
episode, and wrappers that plan from the prompt's budget (``DiscreteActions``'s forced answer on the
last step) would never reach their last step. :class:`SyncStepLimit` is registered as an additional
wrapper of both envs, so ``gym.make`` applies it right after the ``TimeLimit``: it lowers the env's
limit to the wrapper's, and names the reason should the ``TimeLimit`` still cut an episode first
(``invalid_action="retry"`` retries count for the wrapper but not for the env).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym


def time_limit_below(env: gym.Env) -> int | None:
    """The smallest ``max_episode_steps`` of any :class:`TimeLimit` in ``env``'s wrapper chain."""
    found = None
    while isinstance(env, gym.Wrapper):
        if isinstance(env, gym.wrappers.TimeLimit):
            n = int(env._max_episode_steps)
            found = n if found is None else min(found, n)
        env = env.env
    return found


def sync_step_limit(env: gym.Env) -> int | None:
    """Lower the base env's step limit to that of any ``TimeLimit`` around it; return the limit."""
    limit = time_limit_below(env)
    base = env.unwrapped
    if limit is not None and hasattr(base, "limit_steps"):
        base.limit_steps(limit)
    return getattr(base, "max_steps", limit)


class SyncStepLimit(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Make the env's prompt, status line and ``termination_reason`` follow an outer ``TimeLimit``.

    ## Description

    Applied by ``gym.make`` to ``CVRSim-v0`` and ``CVRReal-v0`` (after ``TimeLimit``). On creation
    it lowers the env's ``max_steps`` to the ``TimeLimit``'s ``max_episode_steps``; on a step that
    the ``TimeLimit`` truncates without an env reason it sets ``info["termination_reason"]`` to
    ``"max_steps"``. Wrapping an env in ``TimeLimit`` by hand? Pass ``max_steps=`` to the env
    instead (or call :func:`sync_step_limit` after wrapping).
    """

    def __init__(self, env: gym.Env):
        gym.utils.RecordConstructorArgs.__init__(self)
        gym.Wrapper.__init__(self, env)
        sync_step_limit(env)

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = self.env.step(action)
        if truncated and not terminated and not info.get("termination_reason"):
            info["termination_reason"] = "max_steps"
        return obs, reward, terminated, truncated, info
