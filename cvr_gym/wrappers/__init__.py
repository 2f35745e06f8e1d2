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
             max_options: int = 8, time_bins: int = 16, call_cost: float = 0.0, masked_penalty: float = 0.01,
             flat: bool = False, **catalogue_kwargs: Any) -> gym.Env:
    """``VectorObservation(DiscreteActions(env, ...))``: numbers in, numbers out.

    The defaults suit masked and unmasked algorithms alike: a masked action costs
    ``masked_penalty`` (masked algorithms never pay it; repeating a call is masked, so an unmasked
    policy cannot loop on free ``listen`` calls), an action that would end the episode unanswered
    becomes an answer, and ``call_cost`` (0 by default; measured with plain PPO it made the policy
    answer too early) charges every non-answer step. ``flat=True`` flattens the ``Dict``
    observation into one ``Box`` (``gymnasium.wrappers.FlattenObservation``) for an ``MlpPolicy``;
    ``action_masks()`` stays reachable through ``env.get_wrapper_attr("action_masks")``.
    ``catalogue_kwargs`` go to :class:`DiscreteActions` (``scales``, ``frame_counts``, ...);
    ``call_cost=0, masked_penalty=0`` gives the env's reward unchanged.
    """
    env = DiscreteActions(env, factored=factored, call_cost=call_cost, masked_penalty=masked_penalty,
                          **catalogue_kwargs)
    env = VectorObservation(env, text_encoder=text_encoder, text_dim=text_dim,
                            max_videos=env.catalogue.max_videos, max_options=max_options, time_bins=time_bins)
    return gym.wrappers.FlattenObservation(env) if flat else env


__all__ = [
    "ActionCatalogue", "DiscreteActions", "EpisodeState", "HashedBagOfWords", "MiniLMEncoder", "ObservationEncoder",
    "SearchCatalogue", "SearchEncoder", "TextEncoder", "VectorObservation", "make_text_encoder", "wrap_env",
    "wrap_search_env",
]
