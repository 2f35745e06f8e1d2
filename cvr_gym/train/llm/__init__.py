"""LLM masters trained with TRL: SFT -> KTO -> GRPO on one model.

- :mod:`~cvr_gym.train.llm.config`: :class:`LLMTrainConfig` (every option, generation included).
- :mod:`~cvr_gym.train.llm.stages`: :func:`train` (one stage), :func:`train_stages` (a chain),
  :func:`build_trainer`.
- :mod:`~cvr_gym.train.llm.env_adapter`: :class:`CVRToolEnv`, the env as TRL's
  ``environment_factory`` sees it.
- :mod:`~cvr_gym.train.llm.datasets`: GRPO prompt rows; SFT/KTO JSONL loading.
- :mod:`~cvr_gym.train.llm.models`: SmolLM2 from its bundled GGUF, tool chat templates,
  loading stage outputs (adapters merged onto their base).

The ``cvr-gym train --policy llm`` flags and entry point are :mod:`cvr_gym.cli.train_llm`.
torch, transformers and TRL are imported only when a function needs them.
"""

from cvr_gym.train.llm.config import DEFAULT_ENV_ID, STAGES, LLMTrainConfig
from cvr_gym.train.llm.datasets import build_dataset, build_rows, load_jsonl_dataset
from cvr_gym.train.llm.env_adapter import CVRToolEnv, EnvironmentFactory, finish_with_text
from cvr_gym.train.llm.models import load_model, resolve_model_path, smollm2_gguf, smollm2_path
from cvr_gym.train.llm.stages import build_trainer, train, train_stages

__all__ = ["DEFAULT_ENV_ID", "STAGES", "LLMTrainConfig", "CVRToolEnv", "EnvironmentFactory", "finish_with_text",
           "build_rows", "build_dataset", "load_jsonl_dataset", "load_model", "resolve_model_path", "smollm2_gguf",
           "smollm2_path", "build_trainer", "train", "train_stages"]
