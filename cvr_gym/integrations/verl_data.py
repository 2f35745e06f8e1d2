"""The dataset and agent-loop config verl trains :class:`~cvr_gym.integrations.verl.CVRAgentLoop` from.

verl reads a parquet file of prompts (``RLHFDataset``): each row has ``prompt`` (chat messages),
``data_source``, ``agent_name`` (which agent loop plays the row), ``reward_model`` and
``extra_info``. Our rows carry the task in ``extra_info`` (``task_id``, ``group_id``): the loop
resets the env on that task, and since verl rolls each row out ``rollout.n`` times, the G
rollouts of a group share one ``group_id`` and so start alike (same task, same perception-noise
stream). The prompt is the env's own reset prompt, so verl's prompt-length filter sees what the
model will see. The env itself (id and ``gym.make`` arguments) is set once, in the agent-loop
YAML that ``actor_rollout_ref.rollout.agent.agent_loop_config_path`` points to.

This module needs no verl (it runs in the main environment); only pyarrow.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

AGENT_NAME = "cvr_agent"
LOOP_TARGET = "cvr_gym.integrations.verl.CVRAgentLoop"


def verl_rows(env_id: str = "CVRSim-v0", env_kwargs: dict[str, Any] | None = None, repeats: int = 1,
              max_tasks: int | None = None, agent_name: str = AGENT_NAME) -> list[dict[str, Any]]:
    """One row per task of the env's suite (times ``repeats``, each repeat its own group)."""
    import gymnasium as gym

    import cvr_gym  # noqa: F401
    from cvr_gym.evaluation.records import jsonable

    kwargs = dict(env_kwargs or {})
    env = gym.make(env_id, disable_env_checker=True, **kwargs)
    try:
        base = env.unwrapped
        tasks = list(base.suite)[: max_tasks or None]
        rows = []
        for r in range(max(1, int(repeats))):
            for task in tasks:
                obs, _ = env.reset(options={"task_id": task.id})
                rows.append({
                    "data_source": f"cvr_gym/{base.suite.name}",
                    "prompt": [{"role": "system", "content": base.system_prompt},
                               {"role": "user", "content": obs}],
                    "agent_name": agent_name,
                    "ability": task.family,
                    # Scoring is the env's (the loop returns its return); the answer is here for
                    # reference and for verl's own reward managers, never shown to the model.
                    "reward_model": {"style": "env", "ground_truth": json.dumps(jsonable(task.answer))},
                    "extra_info": {"task_id": task.id, "group_id": f"{task.id}#{r}", "family": task.family,
                                   "index": len(rows), "env_id": env_id},
                })
        return rows
    finally:
        env.close()


def agent_loop_yaml(env_id: str = "CVRSim-v0", env_kwargs: dict[str, Any] | None = None,
                    agent_name: str = AGENT_NAME, max_turns: int | None = None) -> str:
    """verl's agent-loop config (a YAML list) registering :class:`CVRAgentLoop` under ``agent_name``.

    Keys besides ``name`` and ``_target_`` are the loop's constructor arguments (hydra passes them).
    """
    from cvr_gym.evaluation.records import jsonable

    lines = ["# verl agent loop for cvr_gym: set actor_rollout_ref.rollout.agent.agent_loop_config_path to this file",
             f"- name: {agent_name}",
             f"  _target_: {LOOP_TARGET}",
             f"  env_id: {json.dumps(env_id)}",
             f"  env_kwargs: {json.dumps(jsonable(env_kwargs or {}), ensure_ascii=False)}"]
    if max_turns is not None:
        lines.append(f"  max_turns: {int(max_turns)}")
    return "\n".join(lines) + "\n"


def write_verl_dataset(out: str | Path, env_id: str = "CVRSim-v0", env_kwargs: dict[str, Any] | None = None,
                       repeats: int = 1, max_tasks: int | None = None, agent_name: str = AGENT_NAME,
                       max_turns: int | None = None, name: str | None = None) -> tuple[Path, Path]:
    """Write ``OUT/NAME.parquet`` (default name: the split) and ``OUT/agent_loop.yaml``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    kwargs = dict(env_kwargs or {})
    rows = verl_rows(env_id, kwargs, repeats, max_tasks, agent_name)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = out / f"{name or kwargs.get('split') or 'all'}.parquet"
    pq.write_table(pa.Table.from_pylist(rows), data)
    loop = out / "agent_loop.yaml"
    loop.write_text(agent_loop_yaml(env_id, kwargs, agent_name, max_turns), encoding="utf-8")
    return data, loop
