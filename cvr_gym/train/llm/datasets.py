"""Datasets of the LLM stages: GRPO prompt rows from the env, SFT/KTO records from JSONL exports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cvr_gym.train.llm.config import DEFAULT_ENV_ID

__all__ = ["system_prompt_for", "build_rows", "build_dataset", "load_jsonl_dataset"]


def system_prompt_for(env: Any, prompt_style: str = "full") -> str:
    """The env's own system prompt (``full``) or the short one for small models (``compact``)."""
    if prompt_style == "compact":
        from cvr_gym.core.tools import compact_system_prompt

        return compact_system_prompt(env.max_steps, env.frame_budget)
    return env.system_prompt


def build_rows(env_id: str = DEFAULT_ENV_ID, env_kwargs: dict | None = None, repeats: int = 1,
               max_tasks: int | None = None, prompt_in_row: bool = True,
               prompt_style: str = "full") -> list[dict[str, Any]]:
    """One row per task (times ``repeats``): ``prompt`` (system prompt + task prompt as chat
    messages), ``task_id`` and ``group_id``. The env's own ``suite``/``split``/``families``
    kwargs choose the tasks. With ``prompt_in_row=False`` the user message is empty and
    :meth:`~cvr_gym.train.llm.env_adapter.CVRToolEnv.reset` supplies the prompt at rollout time."""
    from cvr_gym.train.llm.env_adapter import CVRToolEnv

    wrapper = CVRToolEnv(env_id, env_kwargs)
    env = wrapper.env.unwrapped
    system = system_prompt_for(env, prompt_style)
    tasks = list(env.suite.tasks)[: max_tasks or None]
    rows = []
    for r in range(max(1, repeats)):
        for task in tasks:
            obs, _ = wrapper.env.reset(options={"task_id": task.id})
            rows.append({
                "prompt": [{"role": "system", "content": system},
                           {"role": "user", "content": obs if prompt_in_row else ""}],
                "task_id": task.id,
                "group_id": f"{task.id}#{r}",
            })
    wrapper.env.close()
    return rows


def build_dataset(env_id: str = DEFAULT_ENV_ID, env_kwargs: dict | None = None, repeats: int = 1,
                  max_tasks: int | None = None, prompt_in_row: bool = True, prompt_style: str = "full"):
    """:func:`build_rows` as a ``datasets.Dataset``."""
    from datasets import Dataset

    return Dataset.from_list(build_rows(env_id, env_kwargs, repeats, max_tasks, prompt_in_row, prompt_style))


def load_jsonl_dataset(paths: str | Sequence[str], keep: Sequence[str]):
    """JSONL exports (``cvr-gym export-sft`` / ``export-kto``) as one ``datasets.Dataset`` with
    only the ``keep`` columns that exist (TRL reads ``messages``/``tools`` or
    ``prompt``/``completion``/``label``)."""
    from datasets import load_dataset

    files = [paths] if isinstance(paths, str) else list(paths)
    if not files:
        raise ValueError("this stage needs --data: JSONL files from cvr-gym export-sft or export-kto")
    ds = load_dataset("json", data_files=files, split="train")
    return ds.remove_columns([c for c in ds.column_names if c not in keep])
