"""The result record of one episode: what was done, seen, scored and spent."""

from __future__ import annotations

import json
import math
import re
import time
from typing import Any

from cvr_gym.evaluation.agents import Step
from cvr_gym.evaluation.episodes import EpisodeSpec
from cvr_gym.evaluation.trace import step_trace

COST_KEYS = ("frames", "visual_tokens", "audio_seconds", "latency_s", "tool_calls", "steps", "invalid_actions")


MAX_DEPTH = 64  # an agent's action nested deeper (or containing itself) is recorded as a note
MAX_INT_BITS = 10_000  # about 3,000 digits: Python refuses to write ints over 4,300 digits as text


def jsonable(value: Any, _depth: int = 0) -> Any:
    """A plain JSON form of an action or info value (ToolCalls, tuples, numpy scalars, ...).

    Whatever an agent returns has a form that can be written: values nested deeper than
    ``MAX_DEPTH`` (or cyclic) and integers too long to print become short notes."""
    if _depth > MAX_DEPTH:
        return f"<{type(value).__name__} nested deeper than {MAX_DEPTH} levels>"
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return jsonable(value.to_dict(), _depth + 1)
    if isinstance(value, dict):
        return {k if isinstance(k, str) else str(jsonable(k, _depth + 1)): jsonable(v, _depth + 1)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, _depth + 1) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN or infinity; one such value must not stop a run
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        return f"<int of {value.bit_length()} bits>"
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "item"):  # numpy scalar
        return jsonable(value.item(), _depth + 1)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    try:
        return repr(value)
    except Exception:  # an agent's object whose repr fails
        return f"<{type(value).__name__}>"


class EpisodeRecorder:
    """Collects one episode as it is played and builds its record.

    Arguments:
        spec: the planned episode.
        agent_spec: the agent spec the run was asked for (``"single-pass:32"``).
        agent_name: the agent's own name.
        env_id: the env id (``"CVRSim-v0"``).
        obs: the reset observation (the prompt).
        keep_observations: store every observation text in the record (default True).
        context: extra fields for the record (the run's ``suite`` and ``split``, so viewers can
            find the task's gold answer and evidence spans; the episode's ``limits``).
    """

    def __init__(self, spec: EpisodeSpec, agent_spec: str, agent_name: str, env_id: str, obs: str,
                 keep_observations: bool = True, context: dict[str, Any] | None = None):
        self.spec = spec
        self.agent_spec = agent_spec
        self.agent_name = agent_name
        self.env_id = env_id
        self.keep_observations = keep_observations
        self.actions: list[Any] = []
        self.tool_calls: list[Any] = []
        self.parse_errors: list[str | None] = []
        self.observations: list[str] = [obs] if keep_observations else []
        self.rewards: list[float] = []
        self.steps: list[dict[str, Any]] = []
        self.context = dict(context or {})
        self.started = time.perf_counter()
        self.error: str | None = None
        self.transcript: str | None = None

    def step(self, step: Step) -> None:
        """Take in one env step (an ``on_step`` hook of :class:`~cvr_gym.evaluation.agents.EpisodeRun`)."""
        self.actions.append(jsonable(step.action))
        self.tool_calls.append(jsonable(step.info.get("tool_calls", [])))
        self.parse_errors.append(step.info.get("parse_error"))
        if self.keep_observations:
            self.observations.append(step.obs)
        self.rewards.append(float(step.reward))
        self.steps.append({"reward": round(float(step.reward), 6), **step_trace(step.info)})

    def finish(self, info: dict[str, Any], reason: str | None = None) -> dict[str, Any]:
        """The record, from the last step's info (``reason`` overrides its termination reason)."""
        totals = info.get("totals") or {}
        costs = {k: jsonable(totals.get(k, 0)) for k in COST_KEYS}
        costs["calls_by_tool"] = jsonable(totals.get("calls_by_tool", {}))
        costs["wall_time_s"] = round(time.perf_counter() - self.started, 6)
        score = info.get("score")
        record = {
            "episode": self.spec.index,
            "task_id": self.spec.task_id,
            "family": self.spec.family,
            "seed": self.spec.seed,
            "env_seed": self.spec.env_seed,
            "agent_seed": self.spec.agent_seed,
            "agent": self.agent_spec,
            "agent_name": self.agent_name,
            "env_id": self.env_id,
            "score": None if score is None else float(score),
            "return": float(sum(self.rewards)),
            "reward_components": jsonable(info.get("episode_reward_components", {})),
            "termination_reason": reason or info.get("termination_reason"),
            "costs": costs,
            "actions": self.actions,
            "tool_calls": self.tool_calls,
            "parse_errors": self.parse_errors,
            "observations": self.observations,
            "steps": self.steps,
            **self.context,
        }
        if self.error:
            record["error"] = self.error
        self.transcript = info.get("transcript")
        return record


_LONE_SURROGATES = re.compile(r"[\ud800-\udfff]")


def record_line(record: dict[str, Any]) -> str:
    """One JSONL line for a record (UTF-8 text kept as is). Lone surrogates (an agent's text may
    hold them; UTF-8 cannot) become U+FFFD, so that no text stops a record from being written."""
    return _LONE_SURROGATES.sub("\ufffd", json.dumps(record, ensure_ascii=False, allow_nan=False))
