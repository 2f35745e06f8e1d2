"""``DiscreteActions``: pick tool calls from a finite catalogue by number."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from cvr_gym.envs.step_limit import sync_step_limit
from cvr_gym.wrappers.catalogue import ActionCatalogue
from cvr_gym.wrappers.episode import EpisodeState


class DiscreteActions(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Expose a :class:`~cvr_gym.envs.cvr_env.CVREnv` through a catalogue of tool calls.

    ## Description

    Classic RL agents (SB3 PPO, MaskablePPO, the GRPO ``MLPPolicy``) cannot write JSON tool
    calls. This wrapper numbers a finite set of them (an
    :class:`~cvr_gym.wrappers.catalogue.ActionCatalogue`: observe/listen on relative windows of
    each video at a few scales and frame counts, typed answer choices and the
    ``answer_from_evidence`` reader macro-action) and turns the agent's number into a
    :class:`~cvr_gym.core.actions.ToolCall` for the wrapped env. It works with ``CVRSim-v0`` and
    ``CVRReal-v0`` alike (same env class).

    ## Action Space

    - ``factored=False`` (default): ``Discrete(len(catalogue))``, the flat catalogue index
      (observe entries first, then listen, answer choices and ``answer_from_evidence``).
    - ``factored=True``: ``MultiDiscrete([4, max_videos, windows, frame counts, choices])``:
      ``[kind, video, window, frames, choice]`` with kind 0 observe, 1 listen, 2 answer choice,
      3 answer from evidence; components a kind does not use are ignored.

    :meth:`action_masks` returns the valid actions as a numpy bool array in the sb3-contrib
    ``MaskablePPO`` convention (flat: one entry per action; factored: the per-dimension masks
    concatenated). Masked out: videos beyond the task's count, ``listen`` on videos without audio,
    frame counts above the frames left, calls already made (``mask_repeats``), answer choices
    outside the options or of the wrong type, and everything but answers on the last step
    (``force_answer_at_last_step``). The mask is also in ``info["action_mask"]``. Masked actions
    may still be sent: the env answers them (an error note for a missing video, answer choices
    wrap around modulo the valid range).

    ## Observation Space

    The wrapped env's (text); add :class:`~cvr_gym.wrappers.vector_observation.VectorObservation`
    for a numeric one.

    ## Rewards

    The wrapped env's rubric, plus two optional components for agents that ignore the mask
    (reported in ``info["reward_components"]`` as ``call_cost`` and ``masked_action``, 0.0 when
    off):

    - ``call_cost``: minus this for every step whose action is not an answer. The env charges
      only frames, so without it ``listen`` is free and an unmasked policy can repeat it forever.
    - ``masked_penalty``: minus this for every action the mask rules out (it still runs).

    With ``force_answer_at_last_step`` (default) an action that would end the episode without an
    answer (any non-answer on the last step, an ``observe`` once the frame budget is spent) is
    replaced by ``answer_from_evidence`` (or the first valid answer choice), so every episode
    gets an answer and a score. ``info["forced_answer"]`` says when that happened.

    Which settings to use: masked algorithms (sb3-contrib ``MaskablePPO``, the GRPO
    ``MLPPolicy``) need none of these; unmasked ones (SB3 ``PPO``, ``A2C``, CleanRL) should use
    :func:`~cvr_gym.wrappers.wrap_env`'s defaults (``masked_penalty=0.01``, forced answer, and
    ``flat=True`` for an ``MlpPolicy``; ``call_cost`` stays 0: with it PPO learned to answer early).

    ## Episode End

    The wrapped env's: ``answer`` (either answer kind) terminates; the step limit or a spent frame
    budget truncates.

    ## Arguments

    - ``env``: a ``CVREnv`` (possibly wrapped).
    - ``factored``: ``MultiDiscrete`` instead of ``Discrete``.
    - ``catalogue``: an :class:`ActionCatalogue` to use; otherwise one is built from the keyword
      arguments below (``max_videos`` defaults to the env's).
    - ``scales``, ``frame_counts``, ``num_choices``, ``answer_from_evidence``, ``listen``,
      ``focus``, ``mask_repeats``, ``force_answer_at_last_step``: see :class:`ActionCatalogue`.
    - ``call_cost``, ``masked_penalty``: see Rewards (default 0.0: the env's reward unchanged).

    ## Info

    Adds ``action_mask`` (the current mask), ``catalogue_index`` (the flat index taken) and
    ``catalogue_action`` (a short description of it).
    """

    def __init__(self, env: gym.Env, factored: bool = False, catalogue: ActionCatalogue | None = None,
                 scales: Sequence[int] = (1, 2, 4, 8, 16), frame_counts: Sequence[int] = (4, 8, 16, 32),
                 num_choices: int = 32, answer_from_evidence: bool = True, listen: bool = True,
                 focus: str = "question", mask_repeats: bool = True, force_answer_at_last_step: bool = True,
                 max_videos: int | None = None, call_cost: float = 0.0, masked_penalty: float = 0.0):
        gym.utils.RecordConstructorArgs.__init__(
            self, factored=factored, catalogue=catalogue, scales=tuple(scales), frame_counts=tuple(frame_counts),
            num_choices=num_choices, answer_from_evidence=answer_from_evidence, listen=listen, focus=focus,
            mask_repeats=mask_repeats, force_answer_at_last_step=force_answer_at_last_step, max_videos=max_videos,
            call_cost=call_cost, masked_penalty=masked_penalty)
        for name, value in (("call_cost", call_cost), ("masked_penalty", masked_penalty)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        self.call_cost = float(call_cost)
        self.masked_penalty = float(masked_penalty)
        gym.Wrapper.__init__(self, env)
        sync_step_limit(env)  # a TimeLimit below: the last step (forced answer) is the wrapper's
        if catalogue is None:
            if max_videos is None:
                max_videos = int(getattr(env.unwrapped.action_space, "max_videos", 4))
            catalogue = ActionCatalogue(max_videos=max_videos, scales=scales, frame_counts=frame_counts,
                                        num_choices=num_choices, answer_from_evidence=answer_from_evidence,
                                        listen=listen, focus=focus, mask_repeats=mask_repeats,
                                        force_answer_at_last_step=force_answer_at_last_step)
        self.catalogue = catalogue
        self.factored = bool(factored)
        if self.factored and catalogue.num_choices < 1:
            raise ValueError("the factored action space needs num_choices >= 1")
        self.action_space = (spaces.MultiDiscrete(np.array(catalogue.nvec, dtype=np.int64)) if self.factored
                             else spaces.Discrete(len(catalogue)))
        self.state = EpisodeState()
        self._mask: np.ndarray | None = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self.state.reset(obs, info)
        self._mask = None
        info["action_mask"] = self.action_masks()
        return obs, info

    def to_index(self, action: Any) -> int:
        """The flat catalogue index of an action of this wrapper's action space.

        Anything else raises ``ValueError`` (wrong shape or type) or ``IndexError`` (a number out
        of range) naming the space, as Gymnasium envs do for actions outside their space."""
        try:
            if not self.factored:
                return int(np.asarray(action).reshape(()))
            vec = [int(x) for x in np.asarray(action).reshape(-1)]
            if len(vec) != len(self.action_space.nvec):
                raise ValueError(f"{len(vec)} numbers, not {len(self.action_space.nvec)}")
        except (TypeError, ValueError, OverflowError) as err:
            raise ValueError(f"action {_short(action)} is not in {self.action_space}: {err}") from None
        if any(not 0 <= x < n for x, n in zip(vec, self.action_space.nvec)):
            raise IndexError(f"action {vec} is outside {self.action_space}")
        return self.catalogue.flat_from_factored(vec)

    def step(self, action: Any):
        index = self.to_index(action)
        cat = self.catalogue
        valid = cat.action_mask(self.state)
        masked = not (0 <= index < len(valid) and valid[index])
        forced = False
        if getattr(cat, "force_answer_at_last_step", False) and not _is_answer(cat, index) \
                and self._ends_unanswered(index):
            index, forced = _first_answer(cat, valid), True
        call = cat.to_tool_call(index, self.state)
        obs, reward, terminated, truncated, info = self.env.step(call)
        self.state.update(obs, info, index)
        self._mask = None
        extra = {"call_cost": 0.0 if _is_answer(cat, index) else -self.call_cost,
                 "masked_action": -self.masked_penalty if masked else 0.0}
        info["reward_components"] = {**info.get("reward_components", {}), **extra}
        info["catalogue_index"] = index
        info["catalogue_action"] = cat.describe(index)
        info["forced_answer"] = forced
        info["action_mask"] = self.action_masks()
        return obs, float(reward + sum(extra.values())), terminated, truncated, info

    def _ends_unanswered(self, index: int) -> bool:
        """Would this action end the episode without an answer (last step, or observe on a spent budget)?"""
        looks = 0 <= index < len(self.catalogue) and _kind(self.catalogue, index) not in ("listen",) + _ANSWERS
        last = self.state.steps >= self.state.max_steps - 1
        return last or (looks and self.state.frames_left <= 0)

    def action_masks(self) -> np.ndarray:
        """Valid actions now (bool array; see the class docstring)."""
        if self._mask is None:
            self._mask = (self.catalogue.factored_mask(self.state) if self.factored
                          else self.catalogue.action_mask(self.state))
        return self._mask.copy()


_ANSWERS = ("answer", "answer_from_evidence")


def _short(action: Any) -> str:
    text = repr(action)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(catalogue: Any, index: int) -> str | None:
    """An entry's kind (``ActionCatalogue``) or move (catalogues such as ``SearchCatalogue``)."""
    entry = catalogue.entry(index)
    return getattr(entry, "kind", getattr(entry, "move", None))


def _is_answer(catalogue: Any, index: int) -> bool:
    return 0 <= index < len(catalogue) and _kind(catalogue, index) in _ANSWERS


def _first_answer(catalogue: Any, valid: np.ndarray) -> int:
    """The answer forced on the last step: the reader, else the first valid answer choice."""
    if getattr(catalogue, "use_reader", False):
        return catalogue.reader_index
    choices = np.flatnonzero(valid[catalogue.choice_base: catalogue.choice_base + catalogue.num_choices])
    return catalogue.choice_base + (int(choices[0]) if choices.size else 0)
