"""AgentCVR's released verl training rows import, as parquet and as JSONL.

The rows are built from our AgentCVR generator fixtures the way AgentCVR's own pipeline builds
them (github.com/wang-jh24/AgentCVR@568b402, Apache-2.0): ``unify_video_fields.py`` renames the
script field to ``videos`` (``FIELD_MAPPING``), then ``crossVid_tool_agent_loop.py``
(``construct_user_content``, ``get_correct_answer``, ``process_task_data``) writes one row per
task. Those three functions are replayed below, line for line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cvr_gym.importers import import_agentcvr

pq = pytest.importorskip("pyarrow.parquet")
pa = pytest.importorskip("pyarrow")

DATA = Path(__file__).parent / "data" / "importers" / "agentcvr"
FIELD_MAPPING = {"grounding_synthesis": "synthesized_videos", "plot_synthesis": "scripts",
                 "sort_synthesis": "segments", "uav_count_synthesis": "video_scripts",
                 "uav_position_synthesis": "video_scripts", "moc_synthesis": "video_scripts",
                 "msr_synthesis": "video_scripts"}
TASKS = {"assembly_synthesis": ("assembly", True, False), "behavior_synthesis": ("behavior", True, False),
         "cooking_synthesis": ("cooking", True, False), "grounding_synthesis": ("grounding", False, False),
         "movie_synthesis": ("movie", True, False), "plot_synthesis": ("plot", True, False),
         "sort_synthesis": ("sort", False, False), "moc_synthesis": ("uav_count", True, True),
         "msr_synthesis": ("uav_position", True, True)}


def construct_user_content(task_data, has_options, use_question_text):
    if use_question_text:
        question = task_data["question"].get("text", "") if isinstance(task_data.get("question"), dict) \
            else task_data.get("question", "")
    else:
        question = task_data.get("question", "")
    if has_options:
        options = task_data.get("options", [])
        if not options and isinstance(task_data.get("question"), dict):
            options = task_data["question"].get("options", [])
        if options:
            options_str = "\n".join(options) if isinstance(options, list) else str(options)
            return f"{question}\n\n{options_str}"
        return question
    return question


def get_correct_answer(task_data):
    if "correct_answer" in task_data:
        return task_data["correct_answer"]
    if isinstance(task_data.get("question"), dict) and "correct_answer" in task_data["question"]:
        return task_data["question"]["correct_answer"]
    elif "answer" in task_data:
        answer = task_data["answer"]
        if isinstance(answer, list):
            if len(answer) > 0:
                if isinstance(answer[0], (int, float)):
                    return str(answer)
                if isinstance(answer[0], str):
                    return answer[0] if len(answer) == 1 else "".join(sorted(answer))
            return str(answer)
        return answer
    return ""


def rows():
    out = []
    for folder, (task_name, has_options, use_text) in TASKS.items():
        for idx, path in enumerate(sorted((DATA / folder).glob("*task_*.json"))):
            try:
                task_data = json.loads(path.read_text())
            except json.JSONDecodeError:
                continue  # a deliberately broken fixture file; the generator-file tests cover it
            if folder in FIELD_MAPPING and FIELD_MAPPING[folder] in task_data and "videos" not in task_data:
                task_data["videos"] = task_data.pop(FIELD_MAPPING[folder])
            solution = get_correct_answer(task_data)
            original_question = task_data.get("question", "")
            if isinstance(original_question, dict):
                original_question = json.dumps(original_question, ensure_ascii=False)
            raw_videos = task_data.get("videos", {})
            if not isinstance(raw_videos, str):
                raw_videos = json.dumps(raw_videos, ensure_ascii=False)
            out.append({
                "data_source": f"crossvid_{task_name}", "agent_name": "tool_agent",
                "prompt": [{"role": "system", "content": "(the build_*.prompt system prompt)"},
                           {"role": "user", "content": construct_user_content(task_data, has_options, use_text)}],
                "ability": "planning", "reward_model": {"style": "rule", "ground_truth": solution},
                "extra_info": {"task_name": task_name, "task_id": task_data.get("id", idx), "index": idx,
                               "videos": raw_videos, "original_question": original_question,
                               "need_tools_kwargs": True}})
    return out


def _strip(task):
    d = task.model_dump()
    return (d["family"], d["answer_type"], d["answer"], d["options"],
            [[(i["start"], i["end"], i["kind"], i["content"]) for i in v["script"]] for v in d["videos"]])


@pytest.fixture(scope="module")
def direct():
    report = import_agentcvr(str(DATA))
    return {(t.meta["source_type"], str(t.meta["source_id"])): t for t in report.tasks}


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_verl_rows_import_like_the_generator_files(tmp_path, direct, fmt):
    data = rows()
    assert {r["extra_info"]["task_name"] for r in data} == {t for t, _, _ in TASKS.values()}  # all nine
    if fmt == "parquet":
        path = tmp_path / "crossvid_train_mini.parquet"
        pq.write_table(pa.Table.from_pylist(data), path)
    else:
        path = tmp_path / "rows.jsonl"
        path.write_text("\n".join(json.dumps(r) for r in data) + "\n")
    report = import_agentcvr(str(path))
    # Rows of the fixtures that are broken on purpose fail as their generator files do.
    keys = [(r["extra_info"]["task_name"], str(r["extra_info"]["task_id"])) for r in data]
    assert len(report.tasks) == sum(k in direct for k in keys) >= 11
    assert len(report.skipped) == sum(k not in direct for k in keys)
    for task in report.tasks:
        key = (task.meta["source_type"], str(task.meta["source_id"]))
        ref = direct[key]
        assert _strip(task)[:4] == _strip(ref)[:4], key
        assert _strip(task)[4] == _strip(ref)[4], key


def test_bad_rows_are_reported_not_raised(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps({"prompt": [], "reward_model": {"ground_truth": "A"},
                                "extra_info": {"task_name": "cooking", "videos": ""}}) + "\n")
    report = import_agentcvr(str(path))
    assert not report.tasks and report.skipped[0].code == "bad-videos"
