"""``VectorObservation``: a fixed-size numeric encoding of the episode instead of text."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from cvr_gym.wrappers.encoding import ObservationEncoder
from cvr_gym.wrappers.text import TextEncoder


class VectorObservation(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Replace the text observation with a ``Dict`` of ``Box`` encoding the episode so far.

    ## Description

    Classic RL libraries need numeric observations (stable-baselines3 has no ``Text`` space).
    This wrapper feeds every ``(obs, info)`` of the wrapped env to an
    :class:`~cvr_gym.wrappers.encoding.ObservationEncoder`, which keeps the question, options,
    the evidence gathered, step and budget counters and which parts of which videos were already
    looked at or listened to, and returns them as fixed-size arrays. It needs only what every
    ``CVREnv`` reports, so it works on ``CVRSim-v0`` and ``CVRReal-v0`` alike.

    ## Action Space

    The wrapped env's (use it over :class:`~cvr_gym.wrappers.discrete_actions.DiscreteActions`
    for a numeric one). :meth:`action_masks` forwards to the wrapped env's when it has one.

    ## Observation Space

    ``Dict`` of float32 ``Box`` in [-1, 1]: ``question``, ``options``, ``evidence``, ``match``,
    ``evidence_stats``, ``coverage``, ``task``, ``progress`` (shapes and meaning in
    :mod:`cvr_gym.wrappers.encoding`).

    ## Rewards

    The wrapped env's, unchanged.

    ## Episode End

    The wrapped env's, unchanged.

    ## Arguments

    - ``env``: a ``CVREnv`` (possibly wrapped, e.g. by ``DiscreteActions``).
    - ``text_encoder``: ``"hash"`` (hashed bag of words; fast, default), ``"minilm"`` (offline
      all-MiniLM-L6-v2 sentence embeddings, lazy, cached per string), a config dict or an encoder.
    - ``text_dim``: hash buckets for ``"hash"`` (default 128).
    - ``max_videos`` (default: the env's), ``max_options`` (8), ``time_bins`` (16).
    - ``encoder``: an :class:`ObservationEncoder` to use instead (the others are then ignored).

    ## Info

    Unchanged; ``info["text_obs"]`` keeps the text observation the env returned.
    """

    def __init__(self, env: gym.Env, text_encoder: "str | dict | TextEncoder" = "hash", text_dim: int = 128,
                 max_videos: int | None = None, max_options: int = 8, time_bins: int = 16,
                 encoder: ObservationEncoder | None = None):
        gym.utils.RecordConstructorArgs.__init__(
            self, text_encoder=text_encoder, text_dim=text_dim, max_videos=max_videos, max_options=max_options,
            time_bins=time_bins, encoder=encoder)
        gym.Wrapper.__init__(self, env)
        if encoder is None:
            if max_videos is None:
                max_videos = int(getattr(env.unwrapped.action_space, "max_videos", 4))
            encoder = ObservationEncoder(text_encoder, text_dim=text_dim, max_videos=max_videos,
                                         max_options=max_options, time_bins=time_bins)
        self.encoder = encoder
        self.observation_space = encoder.observation_space

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        info["text_obs"] = obs
        return self.encoder.reset(obs, info), info

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = self.env.step(action)
        info["text_obs"] = obs
        return self.encoder.step(obs, info, info.get("catalogue_index")), reward, terminated, truncated, info

    def action_masks(self) -> np.ndarray:
        """The wrapped env's ``action_masks()`` (for sb3-contrib's MaskablePPO)."""
        return self.env.get_wrapper_attr("action_masks")()
