"""Import AgentCVR's released verl training rows (parquet, or the same rows as JSONL).

AgentCVR's ``verl/examples/data_preprocess/crossVid_tool_agent_loop.py`` turns each generator
task (after ``build_data/unify_video_fields.py`` renamed its script field to ``videos``) into
one row:

- ``data_source``: ``"crossvid_<task_name>"``;
- ``prompt``: ``[{"role": "system", ...}, {"role": "user", "content": question + "\\n\\n" +
  "\\n".join(options)}]`` (no options for grounding and sort; the UAV tasks' question is the
  ``text`` of their question object);
- ``reward_model.ground_truth``: ``get_correct_answer`` (``correct_answer``, else ``answer``:
  letters joined in sorted order, ``str([s, e])`` for an interval);
- ``extra_info``: ``task_name``, ``task_id``, ``index``, ``videos`` (the scripts **as a JSON
  string**), ``original_question`` (a JSON string for the UAV question objects).

Each row is turned back into the generator record it came from and converted by
:mod:`cvr_gym.importers.agentcvr`. What the rows do not carry is reconstructed or reported:
grounding's ``ref_segment`` is read from its question (``"... reference clip [8.0, 17.0]"``),
declared durations fall back to the scripts' ends.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cvr_gym.importers.common import ImportReport, Problem, RecordError, SourceRecord

_INTERVAL = re.compile(r"\[\s*(\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)\s*\]")


def is_verl_row(data: Any) -> bool:
    """A verl training row (``prompt``, ``reward_model``, ``extra_info``) rather than a task file."""
    return isinstance(data, Mapping) and "reward_model" in data and "extra_info" in data


def _plain(value: Any) -> Any:
    """numpy arrays and pyarrow scalars from a parquet reader as lists and dicts."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value.strip()[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def row_type(data: Mapping[str, Any]) -> str | None:
    """The generator type a row names (``extra_info.task_name`` or ``data_source``)."""
    extra = _maybe_json(data.get("extra_info"))
    name = extra.get("task_name") if isinstance(extra, Mapping) else None
    if not name and isinstance(data.get("data_source"), str):
        name = data["data_source"].removeprefix("crossvid_")
    return str(name) if name else None


def row_to_record(data: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """``(generator type, generator record)`` for one verl row; :class:`RecordError` if it lacks a part."""
    data = _plain(data)
    extra = _maybe_json(data.get("extra_info"))
    reward = _maybe_json(data.get("reward_model"))
    if not isinstance(extra, Mapping) or not isinstance(reward, Mapping):
        raise RecordError("extra_info and reward_model must be objects", "bad-row")
    kind = row_type(data)
    if kind is None:
        raise RecordError("the row names no task (extra_info.task_name or data_source)", "unknown-type")
    videos = _maybe_json(extra.get("videos"))
    if not videos:
        raise RecordError("extra_info.videos is empty: the row carries no scripts", "bad-videos")
    gold = reward.get("ground_truth")
    user = next((m.get("content", "") for m in data.get("prompt") or [] if isinstance(m, Mapping)
                 and m.get("role") == "user"), "")
    question = _maybe_json(extra.get("original_question")) or user
    record: dict[str, Any] = {"id": extra.get("task_id", extra.get("index", 0)), "videos": videos,
                              "question": question}
    if isinstance(question, str) and isinstance(user, str) and user.startswith(question) and "\n\n" in user[len(question):]:
        options = [line for line in user[len(question):].strip("\n").split("\n") if line.strip()]
        if options:
            record["options"] = options
    if kind == "grounding":
        record["answer"] = _interval(gold, "reward_model.ground_truth")
        m = _INTERVAL.search(question if isinstance(question, str) else "")
        if not m:
            raise RecordError("grounding: the reference segment is neither in the row nor in its question", "bad-row")
        record["ref_segment"] = [float(m.group(1)), float(m.group(2))]
    elif kind in ("behavior", "sort"):
        record["answer"] = gold
    elif not isinstance(question, Mapping):
        record["correct_answer"] = gold
    return kind, record


def _interval(value: Any, what: str) -> list[float]:
    if isinstance(value, str):
        try:
            value = ast.literal_eval(value.strip())  # "[10.0, 22.0]" (str(list) in get_correct_answer)
        except (ValueError, SyntaxError):
            raise RecordError(f"{what}: expected [start, end], got {value!r}", "bad-answer") from None
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise RecordError(f"{what}: expected [start, end], got {value!r}", "bad-answer")
    return [float(value[0]), float(value[1])]


def verl_source_record(record: SourceRecord) -> tuple[str, SourceRecord]:
    kind, data = row_to_record(record.data)
    return kind, SourceRecord(data, record.where, record.path)


def load_parquet_records(src: Path, report: ImportReport) -> list[SourceRecord]:
    """Rows of every ``*.parquet`` file at ``src`` (a file or a folder), read with pyarrow."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError("reading parquet needs pyarrow: pip install 'cvr-gym[data]'") from None
    files = sorted(src.rglob("*.parquet")) if src.is_dir() else [src]
    base = src if src.is_dir() else src.parent
    records = []
    for path in files:
        rel = path.relative_to(base).as_posix()
        try:
            rows = pq.read_table(path).to_pylist()
        except Exception as err:  # pyarrow raises several types for a damaged file
            report.skipped.append(Problem(rel, "?", "unreadable", f"cannot read the parquet file: {err}"))
            continue
        records.extend(SourceRecord(row, f"{rel}[{n}]", path) for n, row in enumerate(rows))
    return records
