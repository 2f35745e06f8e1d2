"""One sub-env of a vector env that plays the episodes a scheduler hands it, one per reset.

A Gymnasium vector env passes the same ``options`` to every sub-env, auto-resets sub-envs onto
episodes nobody asked for, and batches infos key by key into arrays (losing nested structure).
Evaluation (:mod:`cvr_gym.evaluation.runner`) and GRPO rollouts (:mod:`cvr_gym.train.rollout`)
both need the opposite: each sub-env plays a chosen episode (task, seed, GRPO group) and then
waits. :class:`EpisodeSlot` is that sub-env; run its vector env with
``autoreset_mode=AutoresetMode.DISABLED``.
"""

from __future__ import annotations

from typing import Any, Literal

import gymnasium as gym
import numpy as np


class PackedInfo:
    """An info dict carried through a vector env as one opaque object."""

    __slots__ = ("info",)

    def __init__(self, info: dict[str, Any] | None):
        self.info = info

    def __getstate__(self) -> tuple[dict[str, Any] | None]:
        return (self.info,)  # a non-empty state, so that unpickling calls __setstate__ even for None

    def __setstate__(self, state: tuple[dict[str, Any] | None]) -> None:
        self.info = state[0]


def _blank(space: gym.Space) -> Any:
    """An observation for a slot that has played nothing yet: empty text or zeros."""
    if isinstance(space, gym.spaces.Dict):
        return {k: _blank(s) for k, s in space.spaces.items()}
    if isinstance(space, gym.spaces.Box):
        return np.zeros(space.shape, space.dtype)
    if isinstance(space, gym.spaces.Text):
        return ""
    return space.sample()


class EpisodeSlot(gym.Wrapper):
    """Sub-env number ``slot`` of a vector env, playing one scheduled episode per reset.

    ## Description

    ``reset(options={"per_env": [opts_0, opts_1, ...]})`` resets the wrapped env with
    ``opts_<slot>`` as its reset options (a task, a GRPO group id). An entry that is ``None``
    (or a reset without ``per_env``, as an automatic reset would be) parks the slot idle.
    When the episode ends the slot stays where it is: later steps do not touch the env.

    ## Action Space / Observation Space

    The wrapped env's. Idle steps return the last observation (empty text or zeros before any).

    ## Rewards

    The wrapped env's; 0 while idle.

    ## Episode End

    With ``info="packed"``, ``terminated``/``truncated`` are the env's, and the scheduler resets
    a finished slot (``reset_mask``) before stepping it again, as Gymnasium's disabled auto-reset
    requires. With ``info="summary"`` they stay False and the end is ``info["done"]``: a wave keeps
    stepping its finished slots (reward 0) until every slot is done. Either way the vector env
    (auto-reset disabled) never starts an episode by itself.

    ## Info

    ``info="packed"``: ``{"packed": PackedInfo(info)}``, the env's info whole (``None`` when idle);
    read it back with :func:`unpack_infos`. ``info="summary"``: fixed numeric keys that batch
    into arrays: ``action_mask``, ``done`` (True from the episode's last step on, and while idle),
    ``real`` (the step reached the env), ``score`` (NaN until an answer is scored; 0 for an
    episode that ended without one), ``frames`` and ``steps`` (episode totals) and ``ret``
    (return so far). The summary needs an env with a ``Discrete`` action space and
    ``info["action_mask"]`` (the classic-RL wrappers).

    ## Arguments

    env: the env to wrap.
    slot: this sub-env's index in the vector env.
    info: ``"packed"`` or ``"summary"``, as above.
    """

    def __init__(self, env: gym.Env, slot: int, info: Literal["packed", "summary"] = "packed"):
        super().__init__(env)
        if info not in ("packed", "summary"):
            raise ValueError("info must be 'packed' or 'summary'")
        self.slot = int(slot)
        self.info_mode = info
        self.done = True
        self._ret = 0.0
        self._last_obs = _blank(env.observation_space)
        self._ones = np.ones(env.action_space.n, dtype=bool) if info == "summary" else None
        self._idle_info = self._summary(None, float("nan"))

    def _summary(self, info: dict[str, Any] | None, score: float) -> dict[str, Any]:
        if self.info_mode == "packed":
            return {"packed": PackedInfo(info)}
        totals = (info or {}).get("totals") or {}
        mask = info["action_mask"] if info is not None else self._ones
        return {"action_mask": mask, "done": bool(self.done), "real": info is not None, "score": float(score),
                "frames": int(totals.get("frames", 0)), "steps": int(totals.get("steps", 0)), "ret": float(self._ret)}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        per_env = (options or {}).get("per_env")
        mine = per_env[self.slot] if per_env is not None and self.slot < len(per_env) else None
        self._ret = 0.0
        self.done = True
        if mine is None:
            self._idle_info = self._summary(None, float("nan"))
            return self._last_obs, dict(self._idle_info)
        obs, info = self.env.reset(seed=seed, options=mine)
        self.done = False
        self._last_obs = obs
        return obs, self._summary(info, float("nan"))

    def step(self, action: Any):
        if self.done:
            return self._last_obs, 0.0, False, False, dict(self._idle_info)
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._ret += float(reward)
        self.done = bool(terminated or truncated)
        self._last_obs = obs
        score = info.get("score")
        out = self._summary(info, float(score) if score is not None else (0.0 if self.done else float("nan")))
        if self.done and self.info_mode == "summary":
            self._idle_info = {**out, "real": False, "action_mask": self._ones}
        elif self.done:
            self._idle_info = self._summary(None, float("nan"))
        if self.info_mode == "summary":  # the end travels in info["done"]; see the class docstring
            terminated = truncated = False
        return obs, float(reward), bool(terminated), bool(truncated), out


def unpack_infos(infos: dict[str, Any], num_envs: int) -> list[dict[str, Any] | None]:
    """The per-sub-env infos of a vector env of ``info="packed"`` slots (``None`` for idle ones)."""
    packed = infos.get("packed")
    if packed is None:
        return [None] * num_envs
    mask = infos.get("_packed")
    out = []
    for i in range(num_envs):
        item = packed[i] if (mask is None or bool(mask[i])) else None
        out.append(item.info if isinstance(item, PackedInfo) else None)
    return out


__all__ = ["EpisodeSlot", "PackedInfo", "unpack_infos"]
