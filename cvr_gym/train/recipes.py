"""Named training recipes: a :class:`~cvr_gym.train.config.GRPOConfig` and policy settings that
reproduce a reported result with ``cvr-gym train --recipe NAME --out DIR``.

``whole-video`` (the default of ``cvr-gym train --policy mlp``): the GRPO MLP over the classic
wrappers, observing whole videos at a learned frame count.

``active-search``: the GRPO MLP over the search wrappers (:mod:`cvr_gym.wrappers.search`): skim,
listen, zoom into the best unresolved candidate windows, rescan unmatched videos, absolute
windows, and the reader macro-action to answer. The policy learns what to look at, how densely,
and when to stop; the answer comes from the reader (``answer_from_evidence``), so its scores
measure search, not evidence reasoning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cvr_gym.train.config import GRPOConfig


@dataclass
class Recipe:
    """A named training setup: the trainer config fields and the default policy's arguments."""

    name: str
    description: str
    config: dict[str, Any]
    policy_kwargs: dict[str, Any] = field(default_factory=dict)

    def build(self, out: str, seed: int | None = None, updates: int | None = None,
              perception_noise: tuple[float, float] | None = None, **overrides: Any) -> GRPOConfig:
        """The recipe's :class:`GRPOConfig`, writing to ``out``.

        ``perception_noise`` ``(miss_prob, confusion_prob)`` trains under the simulator's
        :class:`~cvr_gym.envs.script_perceiver.PerceptionNoise` (evaluations and model selection
        run under the same noise).
        """
        data = {**self.config, **overrides, "log_dir": str(out)}
        if seed is not None:
            data["seed"] = int(seed)
        if updates is not None:
            data["updates"] = int(updates)
        if perception_noise is not None and any(perception_noise):
            miss, confusion = perception_noise
            data["env_kwargs"] = {**data.get("env_kwargs", {}),
                                  "perception_noise": {"miss_prob": float(miss), "confusion_prob": float(confusion)}}
        return GRPOConfig.from_dict(data)


RECIPES: dict[str, Recipe] = {
    # ``cvr-gym train --policy mlp`` without --recipe: the first reported GRPO demonstration.
    "whole-video": Recipe(
        name="whole-video",
        description=("GRPO MLP (256, 256) over the classic wrappers: observe whole videos at 8/16/32/64 "
                     "frames, listen, answer through the reader macro-action; frame-cost weight 0.4 in "
                     "the training reward; 16 tasks x 8 rollouts per update, 100 updates, Adam 3e-4; "
                     "val split selects checkpoints/best.pt."),
        config={"wrappers": "classic", "env_kwargs": {"reward": {"cost": 0.4}}, "split": "train",
                "eval_split": "test", "select_split": "val", "group_size": 8, "tasks_per_update": 16,
                "updates": 100, "learning_rate": 3e-4, "entropy_coef": 0.001, "num_envs": 8,
                "catalogue": {"scales": [1], "frame_counts": [8, 16, 32, 64], "num_choices": 0},
                "encoder": {"text_encoder": "hash"}, "eval_every": 10, "checkpoint_every": 10},
        policy_kwargs={"hidden_sizes": [256, 256]},
    ),
    "active-search": Recipe(
        name="active-search",
        description=("GRPO MLP (128, 128) over the search wrappers (skim / listen / zoom relative to "
                     "question-matching evidence / rescan / scan of the answer video / absolute windows; "
                     "answers through the reader, which is masked until 20 frames per video were spent); "
                     "frame-cost weight 0.95 in the training reward; 32 tasks x 8 rollouts per update, 300 updates, "
                     "Adam 1e-3 decaying to 1e-4; val split selects checkpoints/best.pt."),
        config={"wrappers": "search",
                # The floor of 20 frames per video keeps GRPO from collapsing onto skim-and-answer,
                # a local optimum under the frame cost; above it the policy decides where to look.
                "catalogue": {"look_before_answer": True, "scan_frames": [16, 32], "min_frames_per_video": 20},
                "env_kwargs": {"reward": {"cost": 0.95}}, "split": "train",
                "eval_split": "test", "select_split": "val", "group_size": 8, "tasks_per_update": 32,
                "updates": 300, "learning_rate": 1e-3, "lr_decay": True, "lr_final": 0.1, "entropy_coef": 0.001,
                "eval_every": 10, "checkpoint_every": 50},
        policy_kwargs={"hidden_sizes": [128, 128]},
    ),
}


def get_recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; recipes: {', '.join(sorted(RECIPES))}")
    return RECIPES[name]


__all__ = ["RECIPES", "Recipe", "get_recipe"]
