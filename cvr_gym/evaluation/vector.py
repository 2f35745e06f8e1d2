"""Per-sub-env reset options and lossless infos for running evaluation episodes in a vector env.

A Gymnasium vector env passes the same ``options`` to every sub-env and batches infos key by
key into arrays, which loses nested structure. :class:`EpisodeSlot` wraps each sub-env so that
``options={"per_env": [opts_0, opts_1, ...]}`` gives sub-env ``i`` its own reset options (``None``
parks it idle: its steps are no-ops) and its info travels whole inside one :class:`PackedInfo`.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym


class PackedInfo:
    """An info dict carried through a vector env as one opaque object."""

    __slots__ = ("info",)

    def __init__(self, info: dict[str, Any] | None):
        self.info = info

    def __getstate__(self) -> tuple[dict[str, Any] | None]:
        return (self.info,)  # a non-empty state, so that unpickling calls __setstate__ even for None

    def __setstate__(self, state: tuple[dict[str, Any] | None]) -> None:
        self.info = state[0]


class EpisodeSlot(gym.Wrapper):
    """Wrap sub-env number ``slot`` of a vector env for evaluation scheduling.

    ``reset(options={"per_env": [...]})`` resets the wrapped env with ``per_env[slot]`` as its
    options, or parks the slot idle when that entry is ``None`` (or when ``per_env`` is missing,
    as in an automatic reset). Idle steps return an empty observation and do not touch the env.
    Infos come back as ``{"packed": PackedInfo(info)}``.

    Arguments:
        env: the env to wrap.
        slot: this sub-env's index in the vector env.
    """

    def __init__(self, env: gym.Env, slot: int):
        super().__init__(env)
        self.slot = int(slot)
        self.idle = True

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        per_env = (options or {}).get("per_env")
        mine = per_env[self.slot] if per_env is not None and self.slot < len(per_env) else None
        if mine is None:
            self.idle = True
            return "", {"packed": PackedInfo(None)}
        self.idle = False
        obs, info = self.env.reset(seed=seed, options=mine)
        return obs, {"packed": PackedInfo(info)}

    def step(self, action: Any):
        if self.idle:
            return "", 0.0, False, False, {"packed": PackedInfo(None)}
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, reward, terminated, truncated, {"packed": PackedInfo(info)}


def unpack_infos(infos: dict[str, Any], num_envs: int) -> list[dict[str, Any] | None]:
    """The per-sub-env infos of a vector env's batched info (``None`` for idle or absent ones)."""
    packed = infos.get("packed")
    if packed is None:
        return [None] * num_envs
    mask = infos.get("_packed")
    out = []
    for i in range(num_envs):
        item = packed[i] if (mask is None or bool(mask[i])) else None
        out.append(item.info if isinstance(item, PackedInfo) else None)
    return out
