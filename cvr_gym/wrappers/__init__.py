"""Wrappers for classic RL: numbered tool calls and numeric observations.

- :class:`DiscreteActions`: a catalogue of tool calls as ``Discrete`` or ``MultiDiscrete``, with
  ``action_masks()`` for sb3-contrib's MaskablePPO.
- :class:`VectorObservation`: the episode so far as a ``Dict`` of ``Box``.
- :func:`wrap_env`: both, in the right order.
- :func:`wrap_search_env` (:mod:`cvr_gym.wrappers.search`): the same two wrappers with search
  moves relative to question-matching evidence (zoom, rescan) and coverage / match-heat features.

The pieces they are built from (:class:`ActionCatalogue`, :class:`ObservationEncoder`,
:class:`EpisodeState`, the text encoders) need no env, so agents can use them on plain
``obs``/``info`` (``baselines/checkpoint_agent.py``).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from cvr_gym.wrappers.catalogue import ActionCatalogue
from cvr_gym.wrappers.discrete_actions import DiscreteActions
from cvr_gym.wrappers.encoding import ObservationEncoder
from cvr_gym.wrappers.episode import EpisodeState
from cvr_gym.wrappers.search import SearchCatalogue, SearchEncoder, wrap_search_env
from cvr_gym.wrappers.text import HashedBagOfWords, MiniLMEncoder, TextEncoder, make_text_encoder
from cvr_gym.wrappers.vector_observation import VectorObservation


def wrap_env(env: gym.Env, factored: bool = False, text_encoder: Any = "hash", text_dim: int = 128,
             max_options: int = 8, time_bins: int = 16, **catalogue_kwargs: Any) -> VectorObservation:
    """``VectorObservation(DiscreteActions(env, ...))``: numbers in, numbers out.

    ``catalogue_kwargs`` go to :class:`DiscreteActions` (``scales``, ``frame_counts``, ...).
    """
    env = DiscreteActions(env, factored=factored, **catalogue_kwargs)
    return VectorObservation(env, text_encoder=text_encoder, text_dim=text_dim,
                             max_videos=env.catalogue.max_videos, max_options=max_options, time_bins=time_bins)


__all__ = [
    "ActionCatalogue", "DiscreteActions", "EpisodeState", "HashedBagOfWords", "MiniLMEncoder", "ObservationEncoder",
    "SearchCatalogue", "SearchEncoder", "TextEncoder", "VectorObservation", "make_text_encoder", "wrap_env",
    "wrap_search_env",
]
