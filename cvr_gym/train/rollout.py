"""Vectorised rollouts for GRPO: many episodes with chosen starts, stepped together.

Each sub-env of a Gymnasium vector env is an :class:`~cvr_gym.envs.episode_slot.EpisodeSlot`
with numeric summary infos: a wave's reset hands every slot its episode's options (task index and
GRPO group id) in ``options={"per_env": [...]}``, and once its episode ends a slot stays put
(reward 0, ``info["done"]``) until every slot of the wave is done. Auto-reset is disabled, so no
unwanted episode ever starts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

import gymnasium as gym
import numpy as np
import torch

from cvr_gym.envs.episode_slot import EpisodeSlot
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


def _slot_env(config: GRPOConfig, split: str | None, slot: int) -> gym.Env:
    return EpisodeSlot(make_policy_env(config, split), slot, info="summary")


def make_vector_env(config: GRPOConfig, split: str | None, num_envs: int | None = None) -> gym.vector.VectorEnv:
    """``num_envs`` (default ``config.num_envs``) rollout slots in a sync, async or Ray vector env."""
    n = int(num_envs or config.num_envs)
    fns = [partial(_slot_env, config, split, i) for i in range(n)]
    disabled = gym.vector.AutoresetMode.DISABLED  # slots play only the episodes they are handed
    if config.vectorization == "ray":
        from cvr_gym.envs.ray_vector import RayVectorEnv  # a leaf module: imports no cvr_gym code

        return RayVectorEnv(fns, address=config.ray_address, copy=False, autoreset_mode=disabled)
    if config.vectorization == "async":
        return gym.vector.AsyncVectorEnv(fns, context="spawn", autoreset_mode=disabled)
    return gym.vector.SyncVectorEnv(fns, copy=False, autoreset_mode=disabled)


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
            obs, info = envs.reset(options={"per_env": [dict(e.options) for e in wave] + [None] * (n - len(wave))})
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
