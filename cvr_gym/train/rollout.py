"""Vectorised rollouts for GRPO: many episodes with chosen starts, stepped together.

Each sub-env of a Gymnasium vector env is wrapped in :class:`RolloutSlot`, which plays exactly one
episode per ``reset``: the episode's options (task index and GRPO group id) are handed to it
beforehand with ``envs.set_attr("next_options", [...])`` (one entry per sub-env, which the vector
API's shared ``reset(options=...)`` cannot do), and once the episode ends the slot stays put
(absorbing steps, reward 0) until every slot of the wave is done. The slot never reports
``terminated``/``truncated`` to the vector env, so no auto-reset ever starts an unwanted episode;
the end of an episode is ``info["done"]``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from cvr_gym.train.config import GRPOConfig
from cvr_gym.train.policy import greedy_actions, obs_to_tensors


def make_policy_env(config: GRPOConfig, split: str | None) -> gym.Env:
    """The env the policy acts in: ``VectorObservation(DiscreteActions(gym.make(env_id, ...)))``."""
    import cvr_gym  # noqa: F401  (registers the envs)
    from cvr_gym.wrappers import wrap_env

    env = gym.make(config.env_id, disable_env_checker=True, **config.env_make_kwargs(split))
    if config.wrappers == "search":
        from cvr_gym.wrappers.search import wrap_search_env

        return wrap_search_env(env, config.catalogue, config.encoder)
    return wrap_env(env, **config.catalogue, **config.encoder)


def _slot_env(config: GRPOConfig, split: str | None) -> gym.Env:
    return RolloutSlot(make_policy_env(config, split))


class RolloutSlot(gym.Wrapper):
    """One episode per ``reset`` with options set beforehand; absorbing after the episode ends.

    ## Description

    Internal to the trainer. Set ``next_options`` (a dict for ``env.reset(options=...)``, or
    ``{"skip": True}`` for a slot with nothing to do this wave), then ``reset()``.

    ## Action Space / Observation Space

    The wrapped env's (``Discrete`` catalogue, ``Dict`` of ``Box``).

    ## Rewards

    The wrapped env's until the episode ends, then 0.

    ## Episode End

    Never reported to the caller through ``terminated``/``truncated`` (both always False);
    ``info["done"]`` is True from the episode's last step on.

    ## Info

    Only ``action_mask``, ``done``, ``real`` (the step reached the env), ``score`` (NaN until an
    answer is scored), ``frames`` and ``steps`` (episode totals) and ``ret`` (return so far).
    """

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.next_options: dict | None = None
        self._done = True
        self._ret = 0.0
        self._last_obs = {k: np.zeros(s.shape, np.float32) for k, s in env.observation_space.spaces.items()}
        self._ones = np.ones(env.action_space.n, dtype=bool)
        self._last_info = self._info(self._ones, True, False, float("nan"), 0, 0)

    def _info(self, mask, done, real, score, frames, steps) -> dict:
        return {"action_mask": mask, "done": bool(done), "real": bool(real), "score": float(score),
                "frames": int(frames), "steps": int(steps), "ret": float(self._ret)}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        opts = self.next_options if self.next_options is not None else options
        self.next_options = None
        self._ret = 0.0
        if opts is not None and opts.get("skip"):
            self._done = True
            self._last_info = self._info(self._ones, True, False, float("nan"), 0, 0)
            return self._last_obs, dict(self._last_info)
        obs, info = self.env.reset(seed=seed, options=opts)
        self._done = False
        self._last_obs = obs
        totals = info.get("totals") or {}
        return obs, self._info(info["action_mask"], False, True, float("nan"), totals.get("frames", 0),
                               totals.get("steps", 0))

    def step(self, action: Any):
        if self._done:
            info = dict(self._last_info)
            info["real"] = False
            info["action_mask"] = self._ones
            return self._last_obs, 0.0, False, False, info
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._ret += float(reward)
        self._done = bool(terminated or truncated)
        self._last_obs = obs
        totals = info.get("totals") or {}
        score = info.get("score")
        out = self._info(info["action_mask"], self._done, True,
                         float(score) if score is not None else (0.0 if self._done else float("nan")),
                         totals.get("frames", 0), totals.get("steps", 0))
        self._last_info = out
        return obs, float(reward), False, False, dict(out)


def make_vector_env(config: GRPOConfig, split: str | None, num_envs: int | None = None) -> gym.vector.VectorEnv:
    """``num_envs`` (default ``config.num_envs``) rollout slots in a sync, async or Ray vector env."""
    n = int(num_envs or config.num_envs)
    fns = [partial(_slot_env, config, split) for _ in range(n)]
    if config.vectorization == "ray":
        from cvr_gym.envs.ray_vector import RayVectorEnv  # a leaf module: imports no cvr_gym code

        return RayVectorEnv(fns, address=config.ray_address, copy=False)
    if config.vectorization == "async":
        return gym.vector.AsyncVectorEnv(fns, context="spawn")
    return gym.vector.SyncVectorEnv(fns, copy=False)


@dataclass
class Episode:
    """One finished episode: what the policy saw and did, and how it ended."""

    options: dict
    obs: dict[str, list[np.ndarray]] = field(default_factory=dict)
    masks: list[np.ndarray] = field(default_factory=list)
    actions: list[int] = field(default_factory=list)
    logps: list[float] = field(default_factory=list)
    ret: float = 0.0
    score: float = 0.0
    frames: int = 0
    steps: int = 0

    def __len__(self) -> int:
        return len(self.actions)


def run_episodes(envs: gym.vector.VectorEnv, policy: torch.nn.Module, options: Sequence[dict],
                 generator: torch.Generator | None = None, greedy: bool = False) -> list[Episode]:
    """Play one episode per entry of ``options`` (reset options), ``envs.num_envs`` at a time.

    Actions are sampled from the policy's masked softmax with ``generator`` (or taken greedily),
    in batches over the live slots. Returns the episodes in the order of ``options``.
    """
    n = envs.num_envs
    episodes = [Episode(dict(o)) for o in options]
    policy_was_training = policy.training
    policy.eval()
    try:
        for w0 in range(0, len(episodes), n):
            wave = episodes[w0: w0 + n]
            envs.set_attr("next_options", [dict(e.options) for e in wave] + [{"skip": True}] * (n - len(wave)))
            obs, info = envs.reset()
            done = np.asarray(info["done"], dtype=bool).copy()
            while not done.all():
                live = np.flatnonzero(~done)
                mask = np.asarray(info["action_mask"], dtype=bool)
                with torch.no_grad():
                    obs_t = obs_to_tensors({k: v[live] for k, v in obs.items()})
                    logits = policy(obs_t, torch.as_tensor(mask[live]))
                    logp_all = torch.log_softmax(logits, dim=-1)
                    if greedy:
                        a_live = greedy_actions(policy, logp_all)
                    else:
                        a_live = torch.multinomial(logp_all.exp(), 1, generator=generator).squeeze(1)
                    lp_live = logp_all.gather(1, a_live[:, None]).squeeze(1)
                actions = np.zeros(n, dtype=np.int64)
                actions[live] = a_live.numpy()
                for j, i in enumerate(live.tolist()):
                    ep = wave[i]
                    for k, v in obs.items():
                        ep.obs.setdefault(k, []).append(np.array(v[i], dtype=np.float32))
                    ep.masks.append(mask[i].copy())
                    ep.actions.append(int(actions[i]))
                    ep.logps.append(float(lp_live[j]))
                obs, reward, _, _, info = envs.step(actions)
                new_done = np.asarray(info["done"], dtype=bool)
                for i in live.tolist():
                    ep = wave[i]
                    ep.ret += float(reward[i])
                    if new_done[i]:
                        ep.score = float(info["score"][i]) if math.isfinite(info["score"][i]) else 0.0
                        ep.frames = int(info["frames"][i])
                        ep.steps = int(info["steps"][i])
                done = new_done.copy()
    finally:
        policy.train(policy_was_training)
    return episodes


def summarise(episodes: Sequence[Episode]) -> dict[str, float]:
    """Mean score, return, frames, steps and actions of ``episodes``."""
    if not episodes:
        return {"episodes": 0}
    return {
        "episodes": len(episodes),
        "score": float(np.mean([e.score for e in episodes])),
        "return": float(np.mean([e.ret for e in episodes])),
        "frames": float(np.mean([e.frames for e in episodes])),
        "steps": float(np.mean([e.steps for e in episodes])),
    }
