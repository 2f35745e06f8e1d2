"""Chat transcripts for SFT warm-starts, from ``cvr-gym eval`` results files.

Each kept episode becomes one record::

    {"messages": [{"role": "system", ...}, {"role": "user", "content": PROMPT},
                  {"role": "assistant", "content": "<tool_call>\\n{...}\\n</tool_call>"},
                  {"role": "tool", "content": OBSERVATION}, ..., {"role": "assistant", ...answer...}],
     "tools": "[...OpenAI tool schemas as JSON text...]", "task_id": ..., "family": ..., "score": ...}

The system prompt and tools are the env's (:func:`cvr_gym.core.tools.system_prompt` with the
budget read from the prompt), so the transcripts start like the GRPO prompts of
:mod:`cvr_gym.train.llm`. Assistant turns hold the env's *parsed* calls rewritten as
``<tool_call>`` blocks: whatever form the agent used (ToolCalls, dicts, AgentCVR JSON), the
model learns the one format TRL parses, in the exact text Qwen2.5's chat template renders for
structured tool calls. Plain text content (not structured ``tool_calls``) and ``tools`` as JSON
text keep every column one Arrow type, so ``datasets.load_dataset("json", ...)`` loads the file
and TRL's ``SFTTrainer`` reads ``tools`` (it accepts JSON text). Invalid actions and their error
feedback are left out unless ``keep_invalid``; the last observation (after the answer) is dropped
so each transcript ends with the assistant's final call.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cvr_gym.core.limits import Limits


@dataclass
class ExportStats:
    """What an export read, kept and skipped (by reason)."""

    episodes: int = 0
    kept: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def tool_call_text(calls: Iterable[dict[str, Any]]) -> str:
    """``<tool_call>`` blocks for ``{"name", "arguments"}`` dicts, one per call."""
    return "\n".join(
        "<tool_call>\n" + json.dumps({"name": c["name"], "arguments": c.get("arguments", {})}, ensure_ascii=False)
        + "\n</tool_call>" for c in calls)


def episode_messages(record: dict[str, Any], system: str, keep_invalid: bool = False,
                     max_evidence: int | None = None) -> list[dict[str, str]]:
    """The chat of one results record (needs its observations). With ``max_evidence`` the tool
    results are cut as in the compact prompt style (:func:`cvr_gym.core.formatting.terse_observation`)."""
    from cvr_gym.core.formatting import terse_observation

    observations = record.get("observations") or []
    actions = record.get("actions") or []
    if len(observations) < len(actions) + 1:
        raise ValueError("the record has no observations (evaluated with --no-observations?)")
    calls = record.get("tool_calls") or [[] for _ in actions]
    errors = record.get("parse_errors") or [None] * len(actions)
    messages = [{"role": "system", "content": system}, {"role": "user", "content": observations[0]}]
    for i, action in enumerate(actions):
        last = i == len(actions) - 1
        if errors[i] is not None or not calls[i]:
            if not keep_invalid:
                continue
            text = action if isinstance(action, str) else json.dumps(action, ensure_ascii=False)
            messages.append({"role": "assistant", "content": text})
            if not last:
                messages.append({"role": "user", "content": observations[i + 1]})
            continue
        messages.append({"role": "assistant", "content": tool_call_text(calls[i])})
        if not last:
            obs = observations[i + 1]
            messages.append({"role": "tool", "content": obs if max_evidence is None else terse_observation(obs, max_evidence)})
    return messages


def record_system_prompt(record: dict[str, Any], space: Any, prompt_style: str = "full") -> str:
    """The system prompt an LLM master saw (or would see) in the record's episode."""
    from cvr_gym.core.tools import compact_system_prompt, system_prompt

    limits = Limits.from_info(record)
    if prompt_style == "compact":
        return compact_system_prompt(limits.max_steps, limits.frame_budget)
    return system_prompt(space, max_steps=limits.max_steps, frame_budget=limits.frame_budget)


def export_records(records: Iterable[dict[str, Any]], min_score: float = 1.0, keep_invalid: bool = False,
                   action_space: Any = None, stats: ExportStats | None = None, prompt_style: str = "full",
                   max_evidence: int = 4) -> Iterator[dict[str, Any]]:
    """SFT records of the episodes that scored at least ``min_score`` (see the module doc).

    ``prompt_style="compact"``: the short system prompt, tool results cut to ``max_evidence``
    records, and no ``tools`` column (the compact prompt describes the tools itself)."""
    from cvr_gym.core.spaces import ToolCallSpace
    from cvr_gym.core.tools import tool_schemas

    space = action_space if action_space is not None else ToolCallSpace()
    tools = json.dumps(tool_schemas(space), ensure_ascii=False)
    stats = stats if stats is not None else ExportStats()
    for record in records:
        stats.episodes += 1
        score = record.get("score")
        if record.get("error"):
            stats.skip("agent error")
            continue
        if score is None or record.get("termination_reason") != "answer":
            stats.skip("no answer")
            continue
        if score < min_score:
            stats.skip("score below min")
            continue
        observations = record.get("observations") or []
        if not observations:
            stats.skip("no observations")
            continue
        compact = prompt_style == "compact"
        system = record_system_prompt(record, space, prompt_style)
        messages = episode_messages(record, system, keep_invalid=keep_invalid,
                                    max_evidence=max_evidence if compact else None)
        if messages[-1]["role"] != "assistant":
            stats.skip("no valid action")
            continue
        stats.kept += 1
        yield {"messages": messages, **({} if compact else {"tools": tools}), "task_id": str(record.get("task_id")),
               "family": str(record.get("family")), "score": float(score),
               "return": float(record.get("return", 0.0)), "agent": str(record.get("agent")),
               "episode": int(record.get("episode", -1)), "seed": int(record.get("seed", 0))}


def results_records(results: str | Path | Iterable[str | Path]) -> Iterator[dict[str, Any]]:
    """The records of one results file (JSONL from ``cvr-gym eval``) or of several, in order."""
    from cvr_gym.evaluation.results import read_results

    for path in [results] if isinstance(results, (str, Path)) else list(results):
        yield from read_results(path)


def write_jsonl(out: str | Path, rows: Iterable[dict[str, Any]]) -> None:
    """Write ``rows`` to ``out`` as JSON lines (UTF-8, folders created)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def export_sft(results: str | Path | Iterable[str | Path], out: str | Path, min_score: float = 1.0,
               keep_invalid: bool = False, prompt_style: str = "full", max_evidence: int = 4) -> ExportStats:
    """Read results files (JSONL from ``cvr-gym eval``) and write SFT records to ``out`` (JSONL)."""
    stats = ExportStats()
    write_jsonl(out, export_records(results_records(results), min_score=min_score, keep_invalid=keep_invalid,
                                    stats=stats, prompt_style=prompt_style, max_evidence=max_evidence))
    return stats
