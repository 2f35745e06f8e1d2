"""The three LLM stages on one model: SFT, KTO and GRPO through TRL, chained.

Each stage loads its start (``config.model``: a model, ``smollm2``, or an earlier stage's output
with its adapters merged in), trains, and saves to ``config.out`` the weights (a LoRA adapter
with ``lora``), the tokenizer, ``cvr_llm.json`` (base, stage, prompt style) and
``train_summary.json``. :func:`train_stages` runs several stages, each starting from the last
one's output (``OUT/sft``, ``OUT/kto``, ``OUT/grpo``). With LoRA each stage trains a fresh adapter
on the merged model before it, so KTO's reference model is the SFT model, as in EVA.

- SFT: TRL's ``SFTTrainer`` on chat transcripts, loss on the assistant turns only.
- KTO: TRL's ``KTOTrainer`` on labelled turns (``prompt``/``completion``/``label``).
- GRPO: TRL's ``GRPOTrainer`` with the env as ``environment_factory``
  (:mod:`cvr_gym.train.llm.env_adapter`); the env's rubric is the reward. Compact prompts render
  without tool schemas, as in the SFT data (:func:`~cvr_gym.train.llm.models.hide_tool_schemas`).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from cvr_gym.train.llm.config import LLMTrainConfig
from cvr_gym.train.llm.datasets import build_dataset, load_jsonl_dataset
from cvr_gym.train.llm.env_adapter import EnvironmentFactory, finish_with_text
from cvr_gym.train.llm.models import (STAGE_META, ensure_tool_chat_template, fill_special_tokens, hide_tool_schemas,
                                      load_model, resolve_device)

__all__ = ["build_trainer", "train", "train_stages"]


def _peft_config(config: LLMTrainConfig):
    if not config.lora:
        return None
    from peft import LoraConfig

    return LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=0.0,
                      target_modules="all-linear", task_type="CAUSAL_LM")


def _bf16_ok() -> bool:
    import torch

    return torch.cuda.is_available() and torch.cuda.is_bf16_supported()


def _common_args(config: LLMTrainConfig) -> dict[str, Any]:
    """TrainingArguments shared by the stages (devices, schedule, logging)."""
    on_cuda = resolve_device(config.device).startswith("cuda")
    schedule = {"max_steps": config.steps} if config.steps and config.steps > 0 else {"num_train_epochs": config.epochs}
    return dict(output_dir=config.out, learning_rate=config.learning_rate, seed=config.seed,
                logging_steps=config.logging_steps, save_strategy="no", report_to="none",
                use_cpu=not on_cuda,  # under `accelerate launch` on GPUs, accelerate places the processes
                bf16=on_cuda and _bf16_ok(), **schedule)


def _sft_trainer(config, model, tokenizer, callbacks):
    from trl import SFTConfig, SFTTrainer
    from trl.chat_template_utils import get_training_chat_template

    # Loss on the assistant turns only: the template needs {% generation %} markers.
    template = get_training_chat_template(tokenizer)
    original = tokenizer.chat_template
    if template is not None:
        tokenizer.chat_template = template
    args = SFTConfig(per_device_train_batch_size=config.batch_size, gradient_accumulation_steps=config.grad_accum,
                     max_length=config.max_length, assistant_only_loss=True,
                     **_common_args(config), **config.trainer_kwargs)
    dataset = load_jsonl_dataset(config.sft_data, keep=("messages", "tools"))
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                         peft_config=_peft_config(config), callbacks=callbacks)
    trainer.cvr_chat_template = original  # saved with the model: the inference template TRL recognises
    return trainer


def _kto_trainer(config, model, tokenizer, callbacks):
    from trl import KTOConfig, KTOTrainer

    dataset = load_jsonl_dataset(config.kto_data, keep=("prompt", "completion", "label"))
    n_good = sum(dataset["label"])
    weights = {}
    if n_good and len(dataset) - n_good and "desirable_weight" not in config.trainer_kwargs:
        # KTO's advice: desirable_weight * n_desirable / (undesirable_weight * n_undesirable) in [1, 4/3]
        weights["desirable_weight"] = max(1.0, (len(dataset) - n_good) / n_good)
    args = KTOConfig(per_device_train_batch_size=config.batch_size, gradient_accumulation_steps=config.grad_accum,
                     max_length=config.max_length, beta=config.beta or 0.1,
                     **weights, **_common_args(config), **config.trainer_kwargs)
    return KTOTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                      peft_config=_peft_config(config), callbacks=callbacks)


def _grpo_trainer(config, model, tokenizer, callbacks):
    from trl import GRPOConfig, GRPOTrainer

    env_kwargs = config.env_arguments()
    compact = config.prompt_style == "compact"
    dataset = build_dataset(config.env_id, env_kwargs, max_tasks=config.max_tasks, prompt_style=config.prompt_style)
    factory = EnvironmentFactory(config.env_id, env_kwargs, max_evidence=config.max_evidence if compact else None)
    original = hide_tool_schemas(tokenizer) if compact else None  # prompts as in the SFT data and the llm: agent
    args = GRPOConfig(
        num_generations=config.group_size,
        per_device_train_batch_size=config.group_size * config.prompts_per_step,
        gradient_accumulation_steps=config.grad_accum,
        max_completion_length=config.max_completion_length,
        max_tool_calling_iterations=config.max_turns,
        beta=config.beta,
        **config.generation_kwargs(), **_common_args(config), **config.trainer_kwargs,
    )
    trainer = GRPOTrainer(model=model, reward_funcs=[finish_with_text], args=args, train_dataset=dataset,
                          processing_class=tokenizer, environment_factory=factory,
                          peft_config=_peft_config(config), callbacks=callbacks)
    trainer.cvr_env_factory = factory  # for the summary's env step counts
    trainer.cvr_chat_template = original  # saved with the model (None: the template was not changed)
    return trainer


_BUILDERS = {"sft": _sft_trainer, "kto": _kto_trainer, "grpo": _grpo_trainer}


def _time_limit(seconds: float):
    """A callback that ends training after the step that passes ``seconds``."""
    from transformers import TrainerCallback

    class TimeLimit(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            self.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            if time.perf_counter() - self.start > seconds:
                control.should_training_stop = True

    return TimeLimit()


def build_trainer(config: LLMTrainConfig, model: Any = None, tokenizer: Any = None, callbacks: list | None = None):
    """A ready TRL trainer for ``config.stage``. Pass ``model`` and ``tokenizer`` to skip loading
    ``config.model`` (tests); otherwise it is loaded in fp32 on the CPU and the Trainer moves it
    (bf16 autocast on GPUs)."""
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    if model is None or tokenizer is None:
        model, tokenizer = load_model(config.model, device="cpu", dtype="float32")
    else:
        ensure_tool_chat_template(tokenizer)
        fill_special_tokens(tokenizer, model)
    if config.time_limit_s:
        callbacks = [*(callbacks or []), _time_limit(config.time_limit_s)]
    return _BUILDERS[config.stage](config, model, tokenizer, callbacks)


def _base_reference(config: LLMTrainConfig) -> str:
    """How the saved adapter names its start: relative to the output when it is a folder."""
    start = Path(config.model)
    if start.is_dir():
        return os.path.relpath(start.resolve(), Path(config.out).resolve())
    return config.model


def train(config: LLMTrainConfig, model: Any = None, tokenizer: Any = None) -> dict[str, Any]:
    """Run one stage and save it (see the module doc). Returns a summary: steps, seconds, the
    last logged metrics and, for GRPO, the env steps by tool call and by the raw-text fallback."""
    trainer = build_trainer(config, model, tokenizer)
    start = time.perf_counter()
    result = trainer.train()
    seconds = time.perf_counter() - start
    out = Path(config.out)
    logs = [h for h in trainer.state.log_history if "loss" in h or "reward" in h]
    summary: dict[str, Any] = {
        "stage": config.stage,
        "steps": int(result.global_step),
        "seconds": round(seconds, 3),
        "seconds_per_step": round(seconds / max(1, result.global_step), 3),
        "last_log": logs[-1] if logs else {},
        "config": asdict(config),
    }
    factory = getattr(trainer, "cvr_env_factory", None)
    if factory is not None:
        summary["env_counts"] = {k: sum(e.counts[k] for e in factory.instances)
                                 for k in ("episodes", "tool", "text", "invalid")}
    if getattr(trainer, "cvr_chat_template", None) is not None:
        trainer.processing_class.chat_template = trainer.cvr_chat_template
    if config.save:
        out.mkdir(parents=True, exist_ok=True)
        trainer.save_model(str(out))
        trainer.processing_class.save_pretrained(str(out))
        meta = {"stage": config.stage, "prompt_style": config.prompt_style, "max_evidence": config.max_evidence,
                "lora": config.lora}
        if config.lora:
            meta["base"] = _base_reference(config)
        (out / STAGE_META).write_text(json.dumps(meta, indent=2))
        (out / "train_summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return summary


def train_stages(config: LLMTrainConfig, stages: list[str]) -> list[dict[str, Any]]:
    """Run ``stages`` in order on one model: stage ``s`` writes ``config.out/s`` and the next
    starts from there. Returns the stage summaries."""
    summaries = []
    start = config.model
    for stage in stages:
        stage_config = replace(config, stage=stage, model=start, out=str(Path(config.out) / stage))
        summaries.append(train(stage_config))
        start = stage_config.out
    return summaries
