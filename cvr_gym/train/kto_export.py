"""Labelled turns for KTO (EVA's middle stage), from ``cvr-gym eval`` results files.

KTO learns from single completions marked desirable or undesirable, so every assistant turn of
an episode becomes one record in TRL's unpaired preference format::

    {"prompt": [system, user, assistant, tool, ...],   # the chat before the turn
     "completion": [{"role": "assistant", "content": "<tool_call>...</tool_call>"}],
     "label": true, "task_id": ..., "family": ..., "score": ..., "turn": 2, "reason": "success"}

An episode is *desirable* when it scored at least ``min_score`` and gathered evidence before
answering; *undesirable* when it failed (score below ``min_score``, no answer, or an agent
error) or *guessed* (answered without looking or listening: no frames and no audio). The chats
are built as for SFT (:mod:`cvr_gym.train.sft_export`): parsed calls rewritten as
``<tool_call>`` blocks, the same system prompt (full or compact). Undesirable episodes keep
their invalid actions as written (a malformed call is exactly what KTO should push down);
desirable ones keep only their valid calls. ``datasets.load_dataset("json", ...)`` loads the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from cvr_gym.train.sft_export import (
    ExportStats,
    episode_messages,
    record_system_prompt,
    results_records,
    write_jsonl,
)


def episode_label(record: dict[str, Any], min_score: float = 1.0) -> tuple[bool, str]:
    """``(desirable, reason)`` for one results record; reasons: ``success``, ``guessed``,
    ``failed``, ``no answer``, ``agent error``."""
    if record.get("error"):
        return False, "agent error"
    score = record.get("score")
    if score is None or record.get("termination_reason") != "answer":  # the env reports 0.0 until an answer
        return False, "no answer"
    costs = record.get("costs") or {}
    if not costs.get("frames") and not costs.get("audio_seconds"):
        return False, "guessed"
    if score < min_score:
        return False, "failed"
    return True, "success"


def export_kto_records(records: Iterable[dict[str, Any]], min_score: float = 1.0, prompt_style: str = "full",
                       max_evidence: int = 4, action_space: Any = None,
                       stats: ExportStats | None = None) -> Iterator[dict[str, Any]]:
    """KTO records (one per assistant turn) of every episode that has observations."""
    from cvr_gym.core.spaces import ToolCallSpace

    space = action_space if action_space is not None else ToolCallSpace()
    stats = stats if stats is not None else ExportStats()
    compact = prompt_style == "compact"
    for record in records:
        stats.episodes += 1
        if not record.get("observations"):
            stats.skip("no observations")
            continue
        desirable, reason = episode_label(record, min_score)
        system = record_system_prompt(record, space, prompt_style)
        messages = episode_messages(record, system, keep_invalid=not desirable,
                                    max_evidence=max_evidence if compact else None)
        turns = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
        if not turns:
            stats.skip("no action")
            continue
        stats.kept += 1
        stats.skip(f"kept {reason}")  # per-reason tally, shown with the skips
        for turn, i in enumerate(turns):
            yield {"prompt": messages[:i], "completion": [messages[i]], "label": desirable,
                   "reason": reason, "turn": turn, "task_id": str(record.get("task_id")),
                   "family": str(record.get("family")), "score": float(record.get("score") or 0.0),
                   "agent": str(record.get("agent")), "episode": int(record.get("episode", -1))}


def export_kto(results: str | Path | Iterable[str | Path], out: str | Path, min_score: float = 1.0,
               prompt_style: str = "full", max_evidence: int = 4) -> tuple[ExportStats, dict[bool, int]]:
    """Read results files (JSONL from ``cvr-gym eval``) and write KTO records to ``out`` (JSONL).

    Returns the export stats and the number of records per label."""
    stats = ExportStats()
    labels = {True: 0, False: 0}

    def counted(rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for rec in rows:
            labels[rec["label"]] += 1
            yield rec

    write_jsonl(out, counted(export_kto_records(results_records(results), min_score=min_score,
                                                prompt_style=prompt_style, max_evidence=max_evidence,
                                                stats=stats)))
    return stats, labels
