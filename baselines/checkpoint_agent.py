"""``checkpoint:PATH``: a policy trained with ``cvr-gym train`` (GRPO) playing as an agent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


class CheckpointAgent:
    """Run a trained classic-RL policy (e.g. the GRPO ``MLPPolicy``) on the text env.

    The policy was trained inside ``VectorObservation(DiscreteActions(env))``. This agent needs no
    wrappers: it rebuilds the same observation vector from the plain ``obs``/``info`` with the
    checkpoint's :class:`~cvr_gym.wrappers.encoding.ObservationEncoder`, computes the same action
    mask with the checkpoint's :class:`~cvr_gym.wrappers.catalogue.ActionCatalogue`, and maps the
    chosen catalogue index to a :class:`~cvr_gym.core.actions.ToolCall`. So it runs unchanged on
    ``CVRSim-v0`` and ``CVRReal-v0`` and in ``cvr-gym eval``.

    Arguments:
        path: the checkpoint (``.pt``) written by :class:`~cvr_gym.train.grpo.GRPOTrainer`.
        greedy: take the most likely action (default) instead of sampling.
        seed: seeds the sampling when ``greedy=False``.
    """

    def __init__(self, path: str | Path, greedy: bool = True, seed: int = 0):
        import torch

        from cvr_gym.train.grpo import load_policy
        from cvr_gym.wrappers.search import catalogue_from_config, encoder_from_config

        self._torch = torch
        self.path = Path(path)
        self.policy, meta = load_policy(self.path)
        self.catalogue = catalogue_from_config(meta["catalogue"])
        self.encoder = encoder_from_config(meta["encoder"])
        self.greedy = bool(greedy)
        self.seed = int(seed)
        self._rng = np.random.default_rng(seed)
        self.name = f"checkpoint:{self.path.name}"
        self._obs: dict[str, np.ndarray] | None = None
        self._last: int | None = None

    @classmethod
    def from_spec(cls, arg: str | None, seed: int = 0, action_space: Any | None = None) -> "CheckpointAgent":
        """a trained policy: checkpoint:PATH (append ``?sample`` to sample actions instead of the arg-max)."""
        if not arg:
            raise ValueError("the checkpoint agent needs a path: checkpoint:PATH")
        path, _, flag = arg.partition("?")
        return cls(path, greedy=flag != "sample", seed=seed)

    def reset(self, obs: str, info: dict[str, Any], *, seed: int | None = None) -> None:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._obs = self.encoder.reset(obs, info)
        self._last = None

    def act(self, obs: str, info: dict[str, Any]) -> Any:
        torch = self._torch
        if self._obs is None:
            raise RuntimeError("act() before reset()")
        if self._last is not None:  # the first act() gets the reset info again: nothing new
            self._obs = self.encoder.step(obs, info, self._last)
        state = self.encoder.state
        mask = self.catalogue.action_mask(state)
        with torch.no_grad():
            tensors = {k: torch.as_tensor(v, dtype=torch.float32).unsqueeze(0) for k, v in self._obs.items()}
            logits = self.policy(tensors, torch.as_tensor(mask).unsqueeze(0))[0]
        if self.greedy:
            from cvr_gym.train.policy import greedy_actions

            index = int(greedy_actions(self.policy, torch.log_softmax(logits[None], dim=-1))[0])
        else:
            p = torch.softmax(logits, dim=-1).double().numpy()
            index = int(self._rng.choice(len(p), p=p / p.sum()))
        self._last = index
        return self.catalogue.to_tool_call(index, state)


def make_agent(arg: str | None, seed: int = 0, action_space: Any | None = None) -> CheckpointAgent:
    """a trained policy: checkpoint:PATH (a .pt file written by cvr-gym train)."""
    return CheckpointAgent.from_spec(arg, seed=seed, action_space=action_space)
