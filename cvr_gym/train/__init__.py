"""Training: policies for the cvr_gym envs. Submodules import their heavy dependencies lazily.

- :class:`GRPOConfig` / :class:`GRPOTrainer` (:mod:`cvr_gym.train.grpo`): GRPO for torch policies
  over the classic-RL wrappers, with :class:`MLPPolicy` (:mod:`cvr_gym.train.policy`) as the
  default policy.
- :class:`TeamGRPOConfig` / :class:`TeamGRPOTrainer` (:mod:`cvr_gym.train.team`): the same GRPO
  with one shared policy on every seat of the team env (:mod:`cvr_gym.team`).
- :mod:`cvr_gym.train.llm`: LLM masters through TRL (SFT, KTO, GRPO).

Names are imported on first access, so ``import cvr_gym.train`` does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "GRPOConfig": "cvr_gym.train.config",
    "GRPOTrainer": "cvr_gym.train.grpo",
    "group_advantages": "cvr_gym.train.grpo",
    "load_policy": "cvr_gym.train.grpo",
    "MLPPolicy": "cvr_gym.train.policy",
    "policy_from_config": "cvr_gym.train.policy",
    "plot_learning_curve": "cvr_gym.train.plots",
    "TeamGRPOConfig": "cvr_gym.train.team",
    "TeamGRPOTrainer": "cvr_gym.train.team",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_LAZY)
